"""An enrollment's run log as staff read it (the workflow's runs page and the API): its steps,
each webhook step with its delivery's outcome read from `webhook_deliveries` at read time.

A webhook step is written once, when it queues its delivery ("webhook 12 queued for ..."); the
delivery is attempted later, outside the step's transaction, and retried. So the step's own row
can never say how it went: the line joins the delivery the step names (same account, same
enrollment) and says it in words. Nothing of the URL but its host is shown: its path or query
string may carry the receiver's token.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.workflows import EnrollmentStep, WebhookDelivery
from ringfence.domain.workflows.states import DeliveryStatus

WEBHOOK_STEP = "send_webhook"
_QUEUED = re.compile(r"^webhook (\d+) queued")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+")


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """Where one webhook step's delivery stands."""

    delivery_id: int
    host: str
    status: DeliveryStatus
    http_status: int | None  # the receiver's answer at the last attempt that got one
    error: str | None  # the last failure, in words
    attempts: int
    will_retry: bool
    next_attempt_at: datetime | None

    @property
    def summary(self) -> str:
        tries = f"{self.attempts} attempt{'' if self.attempts == 1 else 's'}"
        if self.status is DeliveryStatus.DELIVERED:
            answer = f"HTTP {self.http_status}" if self.http_status is not None else "2xx"
            return f"delivered to {self.host} ({answer}) after {tries}"
        if self.status is DeliveryStatus.FAILED:
            return f"failed to {self.host}: {self.error}; not retried (gave up after {tries})"
        if self.attempts == 0:
            return f"queued for {self.host}, not sent yet"
        if self.error is None:  # claimed by a worker, its answer not written yet
            return f"being sent to {self.host} (attempt {self.attempts})"
        return f"not delivered to {self.host} yet: {self.error}; will retry ({tries} so far)"


@dataclass(frozen=True, slots=True)
class StepLine:
    path: str
    step_type: str
    result: str
    detail: str
    at: datetime
    delivery: DeliveryOutcome | None = None


def host_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return host or "an unreadable URL"


def scrub_urls(text: str) -> str:
    """`text` with every URL in it cut to its host."""
    return _URL.sub(lambda m: host_of(m.group(0)), text)


def outcome_of(row: WebhookDelivery) -> DeliveryOutcome:
    return DeliveryOutcome(
        delivery_id=row.id,
        host=host_of(row.url),
        status=row.status,
        http_status=row.response_status,
        error=scrub_urls(row.last_error) if row.last_error else None,
        attempts=row.attempts,
        will_retry=row.status is DeliveryStatus.PENDING,
        next_attempt_at=row.next_attempt_at,
    )


def delivery_named(step: EnrollmentStep) -> int | None:
    if step.step_type != WEBHOOK_STEP:
        return None
    found = _QUEUED.match(step.detail)
    return int(found.group(1)) if found else None


def step_lines(
    session: Session, account_id: int, enrollment_ids: Collection[int]
) -> dict[int, list[StepLine]]:
    """Each enrollment's steps in order (two queries, whatever the number of enrollments)."""
    if not enrollment_ids:
        return {}
    steps = session.scalars(
        select(EnrollmentStep)
        .where(
            EnrollmentStep.account_id == account_id,
            EnrollmentStep.enrollment_id.in_(enrollment_ids),
        )
        .order_by(EnrollmentStep.enrollment_id, EnrollmentStep.id)
    ).all()
    deliveries = {
        (row.enrollment_id, row.id): row
        for row in session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.account_id == account_id,
                WebhookDelivery.enrollment_id.in_(enrollment_ids),
            )
        )
    }
    lines: dict[int, list[StepLine]] = defaultdict(list)
    for step in steps:
        delivery_id = delivery_named(step)
        row = deliveries.get((step.enrollment_id, delivery_id)) if delivery_id else None
        outcome = outcome_of(row) if row is not None else None
        detail = scrub_urls(step.detail)
        lines[step.enrollment_id].append(
            StepLine(step.path, step.step_type, step.result, detail, step.at, outcome)
        )
    return dict(lines)
