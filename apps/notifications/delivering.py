"""One attempt of a delivery, claimed so that a message delivered twice sends once.

A transient failure (no answer, a timeout, HTTP 5xx, 408 or 429, a mail server that
cannot be reached) leaves the delivery PENDING with the time of its next try, after
NOTIFICATIONS_RETRY_SECONDS doubled at each try, until NOTIFICATIONS_MAX_ATTEMPTS; a
permanent one (a refused address, a redirect, another 4xx) ends it FAILED at once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from apps.notifications.models import Delivery, Subscription
from apps.notifications.sending import Outcome, body_of, send_email, send_webhook
from apps.notifications.services import secret_of

logger = logging.getLogger(__name__)


def _claim(delivery_pk: int) -> Delivery | None:
    """The delivery with this attempt counted, or None when it is not due (done, or another
    worker took this attempt)."""
    row = Delivery.objects.filter(pk=delivery_pk, status=Delivery.Status.PENDING).values_list("attempts", flat=True).first()
    if row is None:
        return None
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_pk, status=Delivery.Status.PENDING, attempts=row).update(
        attempts=row + 1, last_attempt_at=now, next_attempt_at=None
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("subscription__app", "job__branch__app").get(pk=delivery_pk)


@sensitive_variables("secret")
def _send(delivery: Delivery) -> Outcome:
    subscription, job = delivery.subscription, delivery.job
    if subscription.kind == Subscription.Kind.EMAIL:
        return send_email(subscription, job, delivery.event)
    secret = secret_of(subscription)
    if secret is None:
        return Outcome(ok=False, error="The signing secret cannot be read (SECRET_KEY changed): rotate the secret.")
    return send_webhook(
        subscription, secret, body_of(job, delivery.event, delivery.pk), event=delivery.event, delivery_pk=delivery.pk
    )


def delivery_attempt(delivery_pk: int) -> float | None:
    """Try the delivery once; the seconds to wait before the next try, or None when it is over."""
    delivery = _claim(delivery_pk)
    if delivery is None:
        return None
    outcome = _send(delivery)
    now = timezone.now()
    fields: dict[str, Any] = {"last_response_code": outcome.response_code, "last_error": outcome.error}
    retry_in: float | None = None
    if outcome.ok:
        fields |= {"status": Delivery.Status.SUCCEEDED, "delivered_at": now}
    elif outcome.transient and delivery.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
        retry_in = settings.NOTIFICATIONS_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
        fields |= {"next_attempt_at": now + timedelta(seconds=retry_in)}
    else:
        fields |= {"status": Delivery.Status.FAILED}
        logger.info(
            "delivery %s (%s) failed after %s attempt(s): %s", delivery.pk, delivery.event, delivery.attempts, outcome.error
        )
    Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(**fields)
    return retry_in


def overdue_deliveries(grace: timedelta = timedelta(minutes=5)) -> list[int]:
    """Pending deliveries whose message was lost (a broker restart): due for a while, or never tried."""
    cutoff = timezone.now() - grace
    due = Delivery.objects.filter(status=Delivery.Status.PENDING)
    lost = due.filter(next_attempt_at__lt=cutoff) | due.filter(next_attempt_at__isnull=True, created_at__lt=cutoff)
    return list(lost.values_list("pk", flat=True))
