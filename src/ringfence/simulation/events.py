"""Things that happen to a simulated practice while the dispatcher runs.

A campaign enqueued once at the start exercises only part of the rules. The ledger scenario
also enqueues calls again every few days, at any hour (late in the day included), for every
contact, and has patients opt out mid-run on another channel than the call. Each event goes
through the same services a workflow step, an API request or an SMS integration uses, at its
own instant on the virtual clock, so the audit sees the rules exactly as production would
apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Contact
from ringfence.domain.vocabulary import Channel, ConsentKind
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from ringfence.services.consent import ConsentEvidence, record_consent
from ringfence.services.contacts import ContactFields, apply_contact_changes
from ringfence.services.sql_repositories import SqlQueries
from ringfence.services.unit_of_work import TenantScope

ACTOR = "simulation"


class OptOutHow(StrEnum):
    SMS_REVOCATION = "sms_revocation"  # replied STOP to a text: a revocation on the SMS channel
    DND_VOICE = "dnd_voice"  # staff set Do Not Disturb on voice
    EMAIL_OPT_OUT = "email_opt_out"  # unsubscribed by email: the opt-out flag, email channel


@dataclass(frozen=True, slots=True)
class EnqueueCall:
    at: datetime
    account_id: int
    request: CallRequest


@dataclass(frozen=True, slots=True)
class OptOut:
    at: datetime
    account_id: int
    contact_id: int
    how: OptOutHow


SimEvent = EnqueueCall | OptOut


def apply_events(session: Session, events: Sequence[SimEvent]) -> int:
    """Apply `events` in order, each at its own instant; returns the jobs enqueued."""
    enqueued = 0
    queries = SqlQueries(session)  # the contact rules reach rows through these
    for event in events:
        scope = TenantScope(account_id=event.account_id, actor=ACTOR)
        if isinstance(event, EnqueueCall):
            enqueued += len(
                enqueue_calls(
                    session, account_id=event.account_id, requests=[event.request], now=event.at
                )
            )
            continue
        contact = session.get(Contact, event.contact_id)
        if contact is None:
            continue
        if event.how is OptOutHow.SMS_REVOCATION:
            evidence = ConsentEvidence(
                kind=ConsentKind.REVOCATION, channel=Channel.SMS, note="replied STOP to a text"
            )
            record_consent(session, scope, contact, evidence, now=event.at)
        else:
            changes: ContactFields = (
                {"dnd_voice": True}
                if event.how is OptOutHow.DND_VOICE
                else {"opted_out_at": event.at, "opted_out_channel": Channel.EMAIL}
            )
            apply_contact_changes(
                uow=queries,
                scope=scope,
                contact=contact,
                changes=changes,
                now=event.at,
                creating=False,
            )
    session.flush()
    return enqueued
