"""Delivering the webhook steps' outbox rows: after the step committed, outside any database
transaction, with retries and back-off. The receiver verifies `X-Ringfence-Signature`
(HMAC-SHA256 of the raw body with the step's secret, `sha256=<hex>`).

The worker's client is `adapters.http.guarded.guarded_client`: a URL that resolves to a
private or local address is refused at each attempt (recorded in `last_error`, "refused: ...",
and retried like any failure: DNS may be fixed). Each request is bounded in all by the client's
deadline; a body over `MAX_BODY_BYTES` is never sent (failed at once: retrying cannot shrink it).

`last_error` is the reason in words, without the URL (the run log shows it to staff:
`services/workflows/run_log.py`); `response_status` is the receiver's answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters import metrics
from ringfence.adapters.db.workflows import WebhookDelivery
from ringfence.adapters.http.guarded import MAX_BODY_BYTES, OutboundRefused
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
        content = body.encode()
        error: str | None
        if len(content) > MAX_BODY_BYTES:
            error = f"not sent: the payload is {len(content)} bytes, over {MAX_BODY_BYTES}"
            result = _record(session_factory, clock, delivery_id, None, error, report, final=True)
        else:
            status_code, error = _send(client, delivery_id, url, content, signature)
            result = _record(session_factory, clock, delivery_id, status_code, error, report)
        if result is not None:  # counted once its row is written
            metrics.webhook_delivery(result)
    return report


def _send(
    client: httpx.Client, delivery_id: int, url: str, content: bytes, signature: str
) -> tuple[int | None, str | None]:
    """One attempt: the receiver's status (None without an answer) and the error in words."""
    try:
        # Streamed and never read: the receiver's answer is its status, however big its body.
        with client.stream(
            "POST",
            url,
            content=content,
            headers={
                "Content-Type": "application/json",
                "X-Ringfence-Signature": signature,
                "X-Ringfence-Delivery": str(delivery_id),
            },
            timeout=TIMEOUT_SECONDS,
        ) as response:
            if not response.is_success:
                return response.status_code, f"HTTP {response.status_code}"
            return response.status_code, None
    except OutboundRefused as exc:
        return None, f"refused: {exc}"
    except httpx.TimeoutException as exc:
        return None, f"timed out ({type(exc).__name__}): no answer in time"
    except httpx.HTTPError as exc:
        # httpx's messages may quote the URL (its query string can hold a token): the kind only.
        return None, f"connection failed ({type(exc).__name__})"


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
    status_code: int | None,
    error: str | None,
    report: DeliveryReport,
    *,
    final: bool = False,
) -> str | None:
    """Write the attempt's result and say which it was (delivered, failed, retrying)."""
    now = clock.now()
    with session_factory() as session, session.begin():
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:
            return None
        if status_code is not None:  # an attempt nobody answered keeps the last answer seen
            row.response_status = status_code
        if error is None:
            row.status, row.delivered_at, row.next_attempt_at = DeliveryStatus.DELIVERED, now, None
            row.last_error = None
            report.delivered += 1
            return "delivered"
        if final or row.attempts > len(RETRY_AFTER):
            row.status, row.next_attempt_at, row.last_error = DeliveryStatus.FAILED, None, error
            report.failed += 1
            return "failed"
        row.next_attempt_at = now + RETRY_AFTER[row.attempts - 1]
        row.last_error = error
        report.retrying += 1
        return "retrying"
