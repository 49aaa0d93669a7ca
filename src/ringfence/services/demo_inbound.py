"""The demo's inbound calls: patients and strangers ring the practice during its month, and
the location's agent answers them on the sandbox (`take_sandbox_call`, the path
`ringfence call-inbound` takes), so the Inbound dashboard shows calls the agent really held.

Who calls and what they say is drawn from a seeded generator: mostly patients of the location
(some returning our voicemail, some asking the hours or to move a visit, a few asking for a
person or not to be called again), and some strangers asking about a consultation. What the
agent answers, the tasks it leaves and the suppressions it records are the runtime's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db import orm
from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import PolicyName
from ringfence.clock import Clock
from ringfence.services.inbound_calls import InboundCallResult
from ringfence.services.inbound_sandbox import take_sandbox_call
from ringfence.services.unit_of_work import UnitOfWork

# (weight, lines) a patient says; "{first}" is their first name.
PATIENT_CALLS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        4,
        ("Hi, I missed a call from this number.", "Yes, this is {first}.", "Okay, thank you."),
    ),
    (3, ("Can I move my appointment to next week?", "Yes, it's {first}.", "Thanks.")),
    (3, ("What are your hours?", "Great, thanks. Bye.")),
    (2, ("I want to confirm my appointment.", "Yes, this is {first}.")),
    (1, ("Can I talk to someone at the front desk?",)),
    (1, ("Please stop calling me.",)),
)
STRANGER_CALLS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (3, ("Hi, I'm interested in a consultation.", "It's Dana Reyes. Please call me back.")),
    (2, ("What are your hours?", "Thank you.")),
)


@dataclass(frozen=True, slots=True)
class Caller:
    number: str
    first_name: str | None  # None: a stranger to the practice


def scripted_policy(_name: PolicyName) -> DialoguePolicy:
    """The demo's agents hold their calls with the embedded policy (no model is configured)."""
    return ScriptedPolicy()


def call_times(day: datetime, zone: ZoneInfo, rng: random.Random) -> list[datetime]:
    """When the location's phone rings on `day` (local business hours), 0 to 3 times."""
    local = day.astimezone(zone).date()
    return sorted(
        datetime.combine(local, time(rng.randint(9, 17), rng.randint(0, 59)), zone)
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))
    )


def _pick(calls: Sequence[tuple[int, tuple[str, ...]]], rng: random.Random) -> tuple[str, ...]:
    return rng.choices([lines for _, lines in calls], weights=[w for w, _ in calls])[0]


def pick_caller(
    session_factory: sessionmaker[Session], location_id: int, rng: random.Random
) -> Caller:
    """A patient of the location (three times in four), else a stranger's number."""
    if rng.random() < 0.75:
        with session_factory() as session:
            rows = session.execute(
                select(orm.Contact.phone_e164, orm.Contact.first_name)
                .where(orm.Contact.location_id == location_id, orm.Contact.phone_e164.is_not(None))
                .order_by(orm.Contact.id)
            ).all()
        if rows:
            number, first = rng.choice(rows)
            if number is not None:
                return Caller(number, first)
    return Caller(f"+1646555{rng.randint(1000, 9999)}", None)


def take_demo_call(
    session_factory: sessionmaker[Session],
    clock: Clock,
    *,
    location_id: int,
    rng: random.Random,
) -> InboundCallResult | None:
    """One caller rings the location's first number now; None when it has no number."""
    with session_factory() as session:
        line = session.scalars(
            select(orm.PhoneNumber.e164)
            .where(orm.PhoneNumber.location_id == location_id)
            .order_by(orm.PhoneNumber.id)
            .limit(1)
        ).first()
    if line is None:
        return None
    caller = pick_caller(session_factory, location_id, rng)
    lines = _pick(PATIENT_CALLS if caller.first_name else STRANGER_CALLS, rng)
    said = [text.format(first=caller.first_name or "") for text in lines]
    with UnitOfWork(session_factory, clock) as uow:
        result = take_sandbox_call(
            uow, dialed=line, caller=caller.number, utterances=said, policy_factory=scripted_policy
        )
    return result if isinstance(result, InboundCallResult) else None
