"""Delivering notifications: one attempt per message, the next queued with its backoff."""

from __future__ import annotations

from celery import shared_task

from apps.notifications.delivering import delivery_attempt, overdue_deliveries
from console.queue import send


@shared_task(name="apps.notifications.tasks.deliver", acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def deliver(delivery_pk: int) -> None:
    retry_in = delivery_attempt(delivery_pk)
    if retry_in is not None:
        deliver.apply_async(args=(delivery_pk,), countdown=retry_in)


@shared_task(name="apps.notifications.tasks.requeue_overdue_deliveries", ignore_result=True)
def requeue_overdue_deliveries() -> list[int]:
    overdue = overdue_deliveries()
    for delivery_pk in overdue:
        send(deliver, delivery_pk)
    return overdue
