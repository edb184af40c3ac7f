"""Reads of notifications: an app's subscriptions and its recent deliveries."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.branches.models import App
from apps.notifications.models import Delivery, Subscription


def subscriptions_of(app: App) -> QuerySet[Subscription]:
    return Subscription.objects.filter(app=app).select_related("branch")


def subscription_get(app: App, pk: int) -> Subscription:
    return get_object_or_404(Subscription.objects.select_related("app", "branch"), app=app, pk=pk)


def deliveries_of(app: App) -> QuerySet[Delivery]:
    return Delivery.objects.filter(subscription__app=app).select_related("subscription", "job__branch")


def delivery_get(app: App, pk: int) -> Delivery:
    return get_object_or_404(Delivery.objects.select_related("subscription__app", "job__branch"), subscription__app=app, pk=pk)
