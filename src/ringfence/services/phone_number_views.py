"""Settings → Phone numbers: the account's caller IDs per location, what uses each, and how
its calls of the last 30 days went.

Read-only. The answer rate is the Outbound dashboard's own figure (`dashboard.metrics.caller_ids`
over its "30 Days" view of Live calls): calls that reached a person or voicemail over calls
placed from the number, in the location's last 30 local days. Reusing it keeps the two pages
from ever disagreeing about the same number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Location, PhoneNumber, VoiceAgent
from ringfence.adapters.db.workflows import Workflow, WorkflowVersion
from ringfence.domain.dashboard.filters import DashboardFilters, TimeRange
from ringfence.domain.dashboard.trends import SPAM_SUSPECT_MIN_DIALS, CallerIdStats
from ringfence.domain.vocabulary import CarrierKind
from ringfence.domain.workflows.definition import VoiceAICall, WorkflowDefinition
from ringfence.domain.workflows.walk import walk
from ringfence.services.contact_words import phone_display
from ringfence.services.dashboard.metrics import caller_ids
from ringfence.services.dashboard.scope import DashboardScope
from ringfence.services.errors import InvalidField, NotFound
from ringfence.services.workflows.codec import parse_definition

PERIOD_DAYS: Final = 30
CARRIER_LABELS: Final = {
    CarrierKind.SANDBOX: "Sandbox (simulated calls, nobody is dialed)",
    CarrierKind.SIP: "SIP trunk",
    CarrierKind.TWILIO: "Twilio",
}


@dataclass(frozen=True, slots=True)
class CallerIdRow:
    number_id: int
    location_id: int
    e164: str
    display: str  # "(212) 555-0100"
    label: str
    carrier: str  # in words
    uses: tuple[str, ...]  # what dials from it or says it, in words; empty: unused
    calls_placed: int  # last 30 days, Live calls
    answered: int  # of those, reached a person or voicemail
    failed: int = 0  # of those, refused by the carrier or unreachable
    # The dashboard's own rule (`CallerIdStats.rotate_suggested`): enough dials, and so many
    # failing that the number is likely spam-flagged or blocked: the description's advice is
    # to rotate to a different outbound number.
    rotate_suggested: bool = False

    @property
    def in_use(self) -> bool:
        return bool(self.uses)

    @property
    def answer_rate(self) -> str:
        """'67%' (rounded), or 'No calls yet' when none was placed in the period."""
        if not self.calls_placed:
            return "No calls yet"
        return f"{round(100 * self.answered / self.calls_placed)}%"

    @property
    def spam_risk(self) -> str:
        """The spam-flag hint in words, from the same figures as the dashboard's Caller IDs."""
        if not self.calls_placed:
            return "Nothing to judge yet"
        share = f"{round(100 * self.failed / self.calls_placed)}% of calls failed"
        if self.rotate_suggested:
            return (
                f"Likely flagged as spam or blocked: {share}. Consider rotating to a "
                "different outbound number."
            )
        if self.calls_placed < SPAM_SUSPECT_MIN_DIALS:
            return f"Too few calls to judge ({share})"
        return f"No sign of spam flagging ({share})"


@dataclass(frozen=True, slots=True)
class LocationNumbers:
    location_id: int
    name: str
    time_zone: str
    numbers: tuple[CallerIdRow, ...]


@dataclass(frozen=True, slots=True)
class PhoneNumbersPage:
    locations: tuple[LocationNumbers, ...]
    period_days: int = PERIOD_DAYS

    def number(self, number_id: int) -> CallerIdRow:
        """One of the page's numbers, else NotFound (another account's id reads as missing)."""
        for location in self.locations:
            for row in location.numbers:
                if row.number_id == number_id:
                    return row
        raise NotFound(f"phone number {number_id} does not exist")

    def location_name(self, location_id: int) -> str:
        return next((loc.name for loc in self.locations if loc.location_id == location_id), "")


def phone_numbers_page(session: Session, *, account_id: int, now: datetime) -> PhoneNumbersPage:
    """Every location of the account with its caller IDs (oldest first), their uses and the
    dashboard's answer figures of the last 30 days."""
    locations = session.scalars(
        select(Location).where(Location.account_id == account_id).order_by(Location.id)
    ).all()
    numbers = session.scalars(
        select(PhoneNumber).where(PhoneNumber.account_id == account_id).order_by(PhoneNumber.id)
    ).all()
    agents = session.scalars(
        select(VoiceAgent).where(VoiceAgent.account_id == account_id).order_by(VoiceAgent.id)
    ).all()
    uses = _uses(session, account_id, numbers, agents)
    view = DashboardFilters(time_range=TimeRange.DAYS_30)
    result: list[LocationNumbers] = []
    for location in locations:
        scope = DashboardScope.at(account_id, location.id, location.time_zone, now)
        stats: dict[int | None, CallerIdStats] = {
            s.from_number_id: s for s in caller_ids(session, scope, view)
        }
        rows = []
        for number in numbers:
            if number.location_id != location.id:
                continue
            figures = stats.get(number.id)
            rows.append(
                CallerIdRow(
                    number_id=number.id,
                    location_id=location.id,
                    e164=number.e164,
                    display=phone_display(number.e164),
                    label=number.label,
                    carrier=CARRIER_LABELS.get(number.carrier, str(number.carrier)),
                    uses=tuple(uses.get(number.id, ())),
                    calls_placed=figures.attempted if figures else 0,
                    answered=figures.reached if figures else 0,
                    failed=figures.failed if figures else 0,
                    rotate_suggested=figures.rotate_suggested if figures else False,
                )
            )
        result.append(LocationNumbers(location.id, location.name, location.time_zone, tuple(rows)))
    return PhoneNumbersPage(tuple(result))


def _uses(
    session: Session,
    account_id: int,
    numbers: Sequence[PhoneNumber],
    agents: Sequence[VoiceAgent],
) -> dict[int, list[str]]:
    """Per number id, what uses it: the workflows whose Voice AI calls dial from it (with the
    agent that talks), and the agents that give it as their callback number (their own, or
    as the location's first caller ID when they have none)."""
    by_id = {n.id: n for n in numbers}
    agent_names = {a.id: a.name for a in agents}
    found: dict[int, list[str]] = defaultdict(list)

    for workflow_name, definitions in _definitions(session, account_id):
        seen: set[tuple[int, int]] = set()
        for definition in definitions:
            for _path, step in walk(definition.steps):
                if not isinstance(step, VoiceAICall) or step.from_number_id not in by_id:
                    continue
                if (step.from_number_id, step.agent_id) in seen:
                    continue
                seen.add((step.from_number_id, step.agent_id))
                talker = agent_names.get(step.agent_id, "one that no longer exists")
                found[step.from_number_id].append(
                    f"Dialed from by workflow “{workflow_name}” (agent {talker})"
                )

    first_at: dict[int, PhoneNumber] = {}
    for number in numbers:  # id order: the first per location is the fallback callback
        first_at.setdefault(number.location_id, number)
    by_e164 = {n.e164: n for n in numbers}
    for agent in agents:
        if agent.callback_number:
            owner = by_e164.get(agent.callback_number)
            if owner is not None:
                found[owner.id].append(f"Callback number of agent {agent.name}")
        elif agent.location_id in first_at:
            found[first_at[agent.location_id].id].append(
                f"Callback number of agent {agent.name} (the location's first number)"
            )
    return found


def _definitions(session: Session, account_id: int) -> list[tuple[str, list[WorkflowDefinition]]]:
    """Each workflow's draft and, when published, the version it runs (they may differ)."""
    rows = session.execute(
        select(Workflow.name, Workflow.definition, WorkflowVersion.definition)
        .outerjoin(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.account_id == account_id)
        .order_by(Workflow.id)
    ).all()
    result: list[tuple[str, list[WorkflowDefinition]]] = []
    for name, draft, published in rows:
        parsed: list[WorkflowDefinition] = []
        for data in (draft, published):
            if not data:
                continue
            try:
                parsed.append(parse_definition(data))
            except InvalidField:
                continue  # an unreadable definition dials from nothing
        result.append((name, parsed))
    return result
