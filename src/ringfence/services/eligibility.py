"""The "why wasn't this patient called?" answer: the gate's verdict for one contact.

It gathers facts through `services.facts`, the same path the dispatcher uses right before
dialing, so the two can never disagree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Contact
from ringfence.domain.compliance import DEFAULT_POLICY, Evaluation, PlatformPolicy, evaluate
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.facts import ContactSnapshot, Prospect, gather


def call_eligibility(
    session: Session,
    contact: Contact,
    *,
    purpose: CallPurpose,
    now: datetime,
    policy: PlatformPolicy = DEFAULT_POLICY,
) -> Evaluation:
    """The gate's full answer for calling `contact` for `purpose` at `now`. Writes nothing."""
    [facts] = gather(session, [Prospect(ContactSnapshot.of(contact), purpose)], now)
    return evaluate(facts, now, policy)
