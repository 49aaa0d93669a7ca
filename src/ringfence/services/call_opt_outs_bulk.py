"""A tick's opt-out calls applied together: the rows `apply_conversation`'s opt-out
(services/call_outcomes.py) and `suppress_number` (services/suppression.py) write, call after
call in the given order, read and written set-based.

Per call, as the per-call path: the contact gets voice DND and the opt-out (audited when it
changes), a revocation is recorded for the dialed number, the contact is tagged "Opted Out",
and the number's ledger entry is written or moved forward (past the newest consent on file),
every contact of the account with the number is tagged and loses its pending calls, and the
suppression is audited. What the calls read is read once for the batch, so the batch is taken
only when no call can see another's writes: one opt-out per call, distinct contacts and
numbers, the number dialed still the contact's, and no workflow enrollment to leave.
Otherwise `read_opt_outs` answers None and the caller applies the calls one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallEvent, CallJob, event_row
from ringfence.adapters.db.orm import AuditEvent, ConsentRecord, Contact, NumberSuppression
from ringfence.adapters.db.workflows import Enrollment
from ringfence.agent.events import OptOut
from ringfence.domain.calls import PENDING, check_transition
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.vocabulary import CallStatus, Channel, ConsentKind
from ringfence.domain.workflows.states import OPEN
from ringfence.services.audit import changed_fields, snapshot
from ringfence.services.call_effects import ApplyOptOut, Effect
from ringfence.services.call_outcomes import ACTOR, FinishedCall
from ringfence.services.facts import consent_facts
from ringfence.services.suppression import lock_number

JOBS = cast(Table, CallJob.__table__)
CONTACTS = cast(Table, Contact.__table__)
SUPPRESSIONS = cast(Table, NumberSuppression.__table__)
CONSENTS = cast(Table, ConsentRecord.__table__)
_AUDITED = ("dnd_voice", "opted_out_at", "opted_out_channel")
_AFTER = timedelta(microseconds=1)  # as services/suppression.py: past the newest consent
_SOURCE = SuppressionSource.CALL_OPT_OUT
_CANCELED = "opted_out"

Number = tuple[int, str]  # (account, phone)


@dataclass(frozen=True, slots=True)
class _Caller:
    """The opted-out contact's columns the opt-out reads (and `audit.snapshot` reads)."""

    id: int
    phone_e164: str | None
    dnd_voice: bool
    opted_out_at: datetime | None
    opted_out_channel: Channel | None


@dataclass(frozen=True, slots=True)
class _Numbered:
    id: int
    account_id: int
    phone_e164: str | None


@dataclass(slots=True)
class OptOutReads:
    """What the batch's opt-outs read, as the per-call path would read it before each call
    (no call of the batch changes what another reads)."""

    callers: dict[int, _Caller]
    newest_consent: dict[Number, datetime | None]
    entries: dict[Number, tuple[int, datetime]]  # the number's ledger entry: id, suppressed_at
    holders: dict[Number, list[int]]  # every contact of the account with the number, by id
    pending: dict[int, list[tuple[int, CallStatus]]]  # contact -> its pending jobs, by id

    def contact_ids(self) -> list[int]:
        return sorted({cid for ids in self.holders.values() for cid in ids})


def read_opt_outs(
    session: Session, calls: Sequence[tuple[FinishedCall, Sequence[Effect]]]
) -> OptOutReads | None:
    """The batch's reads, or None when a call needs the per-call path (see the module)."""
    if any(sum(isinstance(e, ApplyOptOut) for e in effects) != 1 for _c, effects in calls):
        return None
    contact_ids = [call.contact_id for call, _e in calls]
    if len(set(contact_ids)) != len(contact_ids):
        return None
    dialed = dict(session.execute(_JOB_PHONES, {"ids": [c.job_id for c, _e in calls]}).all())
    callers = {row.id: _Caller(*row) for row in session.execute(_CALLERS, {"ids": contact_ids})}
    numbers: list[Number] = []
    for call, _effects in calls:
        caller = callers.get(call.contact_id)
        phone = caller.phone_e164 if caller is not None else None
        # A number changed during the call is suppressed too, and a contact without one
        # leaves its workflows there: the per-call path does both.
        if not phone or (dialed.get(call.job_id) or phone) != phone:
            return None
        numbers.append((call.account_id, phone))
    if len(set(numbers)) != len(numbers):
        return None
    # The per-number lock (PostgreSQL) before the number's contacts are read, as
    # suppress_number takes it: a contact saved with this number meanwhile (contacts.py
    # decides its "Opted Out" tag under the same lock) is then seen, tagged and its calls
    # canceled. (Review finding: read before the lock, a twin saved during the settle was
    # left untagged with its calls queued. The per-call fallback takes the lock again.)
    for account_id, phone in numbers:
        lock_number(session, account_id, phone)
    holders: dict[Number, list[int]] = {number: [] for number in numbers}
    accounts = sorted({a for a, _p in numbers})
    phones = sorted({p for _a, p in numbers})
    for cid, account_id, phone in session.execute(
        _HOLDERS, {"accounts": accounts, "phones": phones}
    ):
        found = holders.get((account_id, phone or ""))
        if found is not None:
            found.append(cid)
    everyone = sorted({cid for ids in holders.values() for cid in ids})
    kept = {call.contact_id: call.job_id for call, _e in calls}
    for cid, call_job_id in session.execute(_OPEN_ENROLLMENTS, {"ids": everyone}):
        if cid not in kept or call_job_id is None or call_job_id != kept[cid]:
            return None  # an enrollment would leave its workflow: the per-call path does that
    newest = consent_facts(
        session, [_Numbered(-1 - i, a, p) for i, (a, p) in enumerate(numbers)]
    )  # ids no contact has: only the number's own records count
    entries = {
        (account_id, phone): (entry_id, at)
        for entry_id, account_id, phone, at in session.execute(
            _ENTRIES, {"accounts": accounts, "phones": phones}
        )
        if (account_id, phone) in holders
    }
    postgres = session.get_bind().dialect.name == "postgresql"
    pending: dict[int, list[tuple[int, CallStatus]]] = {cid: [] for cid in everyone}
    account_of = {cid: number[0] for number, ids in holders.items() for cid in ids}
    for job_id, account_id, cid, status in session.execute(
        _PENDING_LOCKED if postgres else _PENDING, {"accounts": accounts, "ids": everyone}
    ):
        if account_of.get(cid) == account_id:
            pending[cid].append((job_id, status))
    return OptOutReads(
        callers=callers,
        newest_consent={
            number: newest[-1 - i].newest_opt_in_on_file for i, number in enumerate(numbers)
        },
        entries=entries,
        holders=holders,
        pending=pending,
    )


@dataclass(slots=True)
class OptOutRows:
    """The rows of the batch's opt-outs, in the order the per-call path writes them. An audit
    row's entity is an id, or the index of a ledger entry inserted with it."""

    reads: OptOutReads
    consents: list[dict[str, Any]] = field(default_factory=list)
    callers: list[dict[str, Any]] = field(default_factory=list)
    new_entries: list[dict[str, Any]] = field(default_factory=list)
    moved_entries: list[dict[str, Any]] = field(default_factory=list)
    canceled: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    audits: list[tuple[dict[str, Any], int | None]] = field(default_factory=list)

    def revoke(self, call: FinishedCall, event: OptOut) -> int:
        """DND and the opt-out on the contact (audited), and the revocation record; returns
        the record's index (its id once written)."""
        now = call.ended_at
        caller = self.reads.callers[call.contact_id]
        before = snapshot(caller, _AUDITED)
        opted_at, channel = caller.opted_out_at, caller.opted_out_channel
        if opted_at is None:
            opted_at, channel = now, Channel.VOICE
        self.callers.append(
            {"b_id": caller.id, "b_at": opted_at, "b_channel": channel, "b_updated": now}
        )
        after = SimpleNamespace(dnd_voice=True, opted_out_at=opted_at, opted_out_channel=channel)
        changed = changed_fields(before, snapshot(after, _AUDITED))
        if changed is not None:
            self._audit(call, "contact", caller.id, "contact.opted_out_on_call", now, *changed)
        self.consents.append(
            {
                "account_id": call.account_id,
                "location_id": call.location_id,
                "contact_id": caller.id,
                "kind": ConsentKind.REVOCATION,
                "channel": Channel.VOICE,
                "recorded_at": now,
                "note": f'Said on call {call.job_id}: "{event.callee_said}" (rule: {event.rule})',
                "recorded_by": ACTOR,
                "phone_e164": caller.phone_e164,
            }
        )
        return len(self.consents) - 1

    def suppress(self, call: FinishedCall, link: Callable[[int], None]) -> int:
        """The number's ledger entry, its contacts tagged (`link(contact_id)`) and their
        pending calls canceled, audited; returns how many calls were canceled."""
        phone = self.reads.callers[call.contact_id].phone_e164 or ""
        number = (call.account_id, phone)
        at = call.ended_at
        newest = self.reads.newest_consent[number]
        if newest is not None and newest >= at:
            at = newest + _AFTER
        note = f"said on call {call.job_id}"
        found = self.reads.entries.get(number)
        entity: int | None = None
        if found is None:
            before = None
            suppressed_at = at
            self.new_entries.append(
                {
                    "account_id": call.account_id,
                    "phone_e164": phone,
                    "suppressed_at": at,
                    "source": _SOURCE.value,
                    "contact_id": call.contact_id,
                    "note": note,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        else:
            entity, suppressed_at = found
            before = {"suppressed_at": suppressed_at.isoformat()}
            if at > suppressed_at:
                suppressed_at = at
                self.moved_entries.append(
                    {"b_id": entity, "b_at": at, "b_contact": call.contact_id, "b_note": note}
                )
        canceled = 0
        for holder in self.reads.holders[number]:
            link(holder)
            for job_id, status in self.reads.pending[holder]:
                check_transition(status, CallStatus.CANCELED)
                self.events.append(
                    event_row(
                        account_id=call.account_id,
                        job_id=job_id,
                        at=at,
                        from_status=status,
                        to_status=CallStatus.CANCELED,
                        reason_code=_CANCELED,
                    )
                )
                self.canceled.append({"b_id": job_id, "b_at": at})
                canceled += 1
        self._audit(
            call,
            "number_suppression",
            entity,
            "number.suppressed",
            at,
            before,
            {
                "phone_e164": phone,
                "suppressed_at": suppressed_at.isoformat(),
                "source": _SOURCE.value,
                "contact_id": call.contact_id,
                "contacts": list(self.reads.holders[number]),
                "canceled_calls": canceled,
            },
            new_entry=len(self.new_entries) - 1 if found is None else None,
        )
        return canceled

    def _audit(
        self,
        call: FinishedCall,
        entity_type: str,
        entity_id: int | None,
        action: str,
        at: datetime,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        *,
        new_entry: int | None = None,
    ) -> None:
        row = {
            "account_id": call.account_id,
            "actor": ACTOR,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "action": action,
            "before": before,
            "after": after,
            "occurred_at": at,
        }
        self.audits.append((row, new_entry))


def write_opt_outs(session: Session, rows: OptOutRows) -> list[int]:
    """Write the rows; returns the revocation records' ids (for the calls' actions)."""
    consent_ids: list[int] = []
    if rows.consents:
        consent_ids = list(session.execute(_INSERT_CONSENTS, rows.consents).scalars())
    if rows.callers:
        session.execute(_UPDATE_CALLERS, rows.callers)
    entry_ids: list[int] = []
    if rows.new_entries:
        entry_ids = list(session.execute(_INSERT_ENTRIES, rows.new_entries).scalars())
    if rows.moved_entries:
        session.execute(_MOVE_ENTRIES, rows.moved_entries)
    if rows.canceled:
        session.execute(_CANCEL_JOBS, rows.canceled)
        session.execute(insert(CallEvent), rows.events)
    if rows.audits:
        audits = []
        for row, new_entry in rows.audits:
            if new_entry is not None:
                row["entity_id"] = entry_ids[new_entry]
            audits.append(row)
        session.execute(insert(AuditEvent), audits)
    return consent_ids


# Built once, the lists bound at each execution (expanding IN).
def _ids(name: str = "ids") -> Any:
    return bindparam(name, expanding=True)


_JOB_PHONES = select(CallJob.id, CallJob.phone_e164).where(CallJob.id.in_(_ids()))
_CALLERS = select(
    Contact.id,
    Contact.phone_e164,
    Contact.dnd_voice,
    Contact.opted_out_at,
    Contact.opted_out_channel,
).where(Contact.id.in_(_ids()))
_HOLDERS = (
    select(Contact.id, Contact.account_id, Contact.phone_e164)
    .where(Contact.account_id.in_(_ids("accounts")), Contact.phone_e164.in_(_ids("phones")))
    .order_by(Contact.id)
)
_OPEN_ENROLLMENTS = select(Enrollment.contact_id, Enrollment.call_job_id).where(
    Enrollment.contact_id.in_(_ids()), Enrollment.state.in_(OPEN)
)
_ENTRIES = select(
    NumberSuppression.id,
    NumberSuppression.account_id,
    NumberSuppression.phone_e164,
    NumberSuppression.suppressed_at,
).where(
    NumberSuppression.account_id.in_(_ids("accounts")),
    NumberSuppression.phone_e164.in_(_ids("phones")),
)
_PENDING = (
    select(CallJob.id, CallJob.account_id, CallJob.contact_id, CallJob.status)
    .where(
        CallJob.account_id.in_(_ids("accounts")),
        CallJob.contact_id.in_(_ids()),
        CallJob.status.in_(PENDING),
    )
    .order_by(CallJob.contact_id, CallJob.id)
)
_PENDING_LOCKED = _PENDING.with_for_update()
_INSERT_CONSENTS = insert(CONSENTS).returning(CONSENTS.c.id, sort_by_parameter_order=True)
_INSERT_ENTRIES = insert(SUPPRESSIONS).returning(SUPPRESSIONS.c.id, sort_by_parameter_order=True)
_UPDATE_CALLERS = (
    update(CONTACTS)
    .where(CONTACTS.c.id == bindparam("b_id"))
    .values(
        dnd_voice=True,
        opted_out_at=bindparam("b_at"),
        opted_out_channel=bindparam("b_channel"),
        updated_at=bindparam("b_updated"),
    )
)
_MOVE_ENTRIES = (
    update(SUPPRESSIONS)
    .where(SUPPRESSIONS.c.id == bindparam("b_id"))
    .values(
        suppressed_at=bindparam("b_at"),
        source=_SOURCE.value,
        contact_id=bindparam("b_contact"),
        note=bindparam("b_note"),
        updated_at=bindparam("b_at"),
    )
)
_CANCEL_JOBS = (
    update(JOBS)
    .where(JOBS.c.id == bindparam("b_id"))
    .values(
        status=CallStatus.CANCELED,
        reason_code=_CANCELED,
        next_attempt_at=None,
        updated_at=bindparam("b_at"),
    )
)
