"""Delivering the webhook steps' outbox rows: after the step committed, outside any database
transaction, with retries and back-off. The receiver verifies `X-Ringfence-Signature`
(HMAC-SHA256 of the raw body with the step's secret, `sha256=<hex>`).

The worker's client is `adapters.http.guarded.guarded_client`: a URL that resolves to a
private or local address is refused at each attempt (recorded in `last_error`, "refused: ...",
and retried like any failure: DNS may be fixed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters import metrics
from ringfence.adapters.db.workflows import WebhookDelivery
from ringfence.adapters.http.guarded import OutboundRefused
from ringfence.clock import Clock
from ringfence.domain.workflows.states import DeliveryStatus

# After the n-th failed attempt, wait RETRY_AFTER[n-1]; after the last, give up.
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
# A claimed delivery is not retried by another worker before this (the request's timeout
# is far shorter), so a crash mid-request delays it but never loses it.
CLAIM = timedelta(minutes=5)
TIMEOUT_SECONDS = 10.0


@dataclass(slots=True)
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def deliver_due(
    session_factory: sessionmaker[Session],
    clock: Clock,
    client: httpx.Client,
    *,
    limit: int = 20,
) -> DeliveryReport:
    report = DeliveryReport()
    for delivery_id, url, body, signature in _claim(session_factory, clock, limit):
        error: str | None = None
        try:
            # Streamed and never read: the receiver's answer is its status, however big its body.
            with client.stream(
                "POST",
                url,
                content=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Ringfence-Signature": signature,
                    "X-Ringfence-Delivery": str(delivery_id),
                },
                timeout=TIMEOUT_SECONDS,
            ) as response:
                if not response.is_success:
                    error = f"HTTP {response.status_code}"
        except OutboundRefused as exc:
            error = f"refused: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        result = _record(session_factory, clock, delivery_id, error, report)
        if result is not None:  # counted once its row is written
            metrics.webhook_delivery(result)
    return report


def _claim(
    session_factory: sessionmaker[Session], clock: Clock, limit: int
) -> list[tuple[int, str, str, str]]:
    now = clock.now()
    with session_factory() as session, session.begin():
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in session.scalars(query):
            row.attempts += 1
            row.next_attempt_at = now + CLAIM
            claimed.append((row.id, row.url, row.body, row.signature))
        return claimed


def _record(
    session_factory: sessionmaker[Session],
    clock: Clock,
    delivery_id: int,
    error: str | None,
    report: DeliveryReport,
) -> str | None:
    """Write the attempt's result and say which it was (delivered, failed, retrying)."""
    now = clock.now()
    with session_factory() as session, session.begin():
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:
            return None
        if error is None:
            row.status, row.delivered_at, row.next_attempt_at = DeliveryStatus.DELIVERED, now, None
            row.last_error = None
            report.delivered += 1
            return "delivered"
        if row.attempts > len(RETRY_AFTER):
            row.status, row.next_attempt_at, row.last_error = DeliveryStatus.FAILED, None, error
            report.failed += 1
            return "failed"
        row.next_attempt_at = now + RETRY_AFTER[row.attempts - 1]
        row.last_error = error
        report.retrying += 1
        return "retrying"
