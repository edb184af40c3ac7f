"""The Notifications page of an app: subscriptions (admins manage them; everyone reads) and
recent deliveries (operators redeliver). A webhook's signing secret is in the answer to its
creation or rotation only: rendered, never redirected through a message or the session."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from apps.branches import selectors as branch_selectors
from apps.branches.models import App
from apps.notifications import selectors, services
from apps.notifications.forms import ConfirmRemovalForm, SubscriptionForm
from apps.notifications.models import Subscription
from console.forms_util import add_service_errors
from console.roles import Role, role_required

DELIVERIES_PER_PAGE = 20


def _render_page(request: HttpRequest, app: App, form: SubscriptionForm, status: int = 200, **extra: Any) -> HttpResponse:
    deliveries = Paginator(selectors.deliveries_of(app), DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {"app": app, "subscriptions": selectors.subscriptions_of(app), "deliveries": deliveries, "form": form, **extra}
    response = render(request, "notifications/notifications.html", context, status=status)
    if extra.get("new_secret"):
        patch_cache_control(response, no_store=True, private=True)  # a secret stays in no cache
    return response


@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest, app_id: str) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    if request.method == "POST":
        return _add(request, app)
    return _render_page(request, app, SubscriptionForm(app=app))


@role_required(Role.ADMIN)
@sensitive_variables("saved")
def _add(request: HttpRequest, app: App) -> HttpResponse:
    form = SubscriptionForm(request.POST, app=app)
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.subscription_create(
                actor=request.user,
                app=app,
                kind=data["kind"],
                target=data["target"],
                branch=data["branch"],
                events=data["events"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{saved.subscription} added.")
            return _render_page(request, app, SubscriptionForm(app=app), new_secret=saved.secret, secret_for=saved.subscription)
    return _render_page(request, app, form, status=400)


def _edit_page(request: HttpRequest, subscription: Subscription, form: SubscriptionForm, status: int = 200) -> HttpResponse:
    context = {
        "app": subscription.app,
        "subscription": subscription,
        "form": form,
        "delete_form": ConfirmRemovalForm(subscription=subscription),
    }
    return render(request, "notifications/edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
def notification_edit(request: HttpRequest, app_id: str, pk: int) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    subscription = selectors.subscription_get(app, pk)
    if request.method == "POST":
        return _edit(request, subscription)
    initial = {"target": subscription.target, "branch": subscription.branch_id or "", "events": subscription.events}
    return _edit_page(request, subscription, SubscriptionForm(initial=initial, app=app, editing=True))


@role_required(Role.ADMIN)
def _edit(request: HttpRequest, subscription: Subscription) -> HttpResponse:
    form = SubscriptionForm(request.POST, app=subscription.app, editing=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.subscription_update(
                actor=request.user, subscription=subscription, target=data["target"], branch=data["branch"], events=data["events"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{subscription} saved.")
            return redirect("notifications", app_id=subscription.app.app_id)
    subscription.refresh_from_db()
    return _edit_page(request, subscription, form, status=400)


@require_POST
@role_required(Role.ADMIN)
def notification_delete(request: HttpRequest, app_id: str, pk: int) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    subscription = selectors.subscription_get(app, pk)
    confirm = ConfirmRemovalForm(request.POST, subscription=subscription)
    if not confirm.is_valid():
        initial = {"target": subscription.target, "branch": subscription.branch_id or "", "events": subscription.events}
        context = {
            "app": app,
            "subscription": subscription,
            "form": SubscriptionForm(initial=initial, app=app, editing=True),
            "delete_form": confirm,
        }
        return render(request, "notifications/edit.html", context, status=400)
    name = str(subscription)
    services.subscription_delete(actor=request.user, subscription=subscription)
    messages.success(request, f"{name} removed: it gets no more notifications.")
    return redirect("notifications", app_id=app.app_id)


@require_POST
@role_required(Role.ADMIN)
@sensitive_variables("secret")
def notification_rotate_secret(request: HttpRequest, app_id: str, pk: int) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    subscription = selectors.subscription_get(app, pk)
    try:
        secret = services.secret_rotate(actor=request.user, subscription=subscription)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("notifications", app_id=app.app_id)
    messages.success(request, f"New signing secret for {subscription}: the old one no longer verifies.")
    return _render_page(request, app, SubscriptionForm(app=app), new_secret=secret, secret_for=subscription)


@require_POST
@role_required(Role.OPERATOR)
def notification_redeliver(request: HttpRequest, app_id: str, pk: int) -> HttpResponse:
    app = branch_selectors.app_get(app_id)
    delivery = selectors.delivery_get(app, pk)
    try:
        services.delivery_redeliver(actor=request.user, delivery=delivery)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"{delivery.get_event_display()} of job #{delivery.job.job_id} queued again to {delivery.subscription}."
        )
    return redirect("notifications", app_id=app.app_id)
