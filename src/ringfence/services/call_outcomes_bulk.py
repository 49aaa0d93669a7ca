"""A tick's finished conversations applied together: one statement per kind of write.

`apply_conversations` makes the same rows as `apply_conversation` (services/call_outcomes.py)
called once per call in the given order, the calls with an opt-out last (below), but with
set-based reads and multi-row writes: the
transcripts, tasks, notes, tag links, confirmed appointments, actions and `produced` signals of
every call in one statement each, where the per-call path flushed each ORM object on its own
(the simulated day's completions spent most of their time there). Both paths apply the same
`effects_of` list (services/call_effects.py), so they cannot drift apart in what a call causes.

The calls that ended in an opt-out are applied after the others, in order: the opt-out is a
compliance fact about a phone number within a practice (suppression ledger, every contact with
the number tagged, pending calls canceled, workflows left). They are written together too
(services/call_opt_outs_bulk.py: the rows of `apply_conversation` and `suppress_number`) when
no call of them can see another's writes, else one by one through `apply_conversation`.
Applied after the batch, such a call's shared effects can land on another call of the same
contact (which call's "Actions Triggered" shows a tag applied once), never on another contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallAction, CallJob, CallTranscript
from ringfence.adapters.db.orm import Appointment, Note, Tag, Task, contact_tags
from ringfence.adapters.db.prepared import Prepared
from ringfence.adapters.db.upsert import insert_missing
from ringfence.agent.callee import Conversation
from ringfence.agent.events import OptOut
from ringfence.domain.tags import CONFIRMED_TAG, OPT_OUT_TAG
from ringfence.domain.vocabulary import AppointmentStatus, TaskPriority, TaskStatus
from ringfence.services.call_effects import (
    AddNote,
    ApplyOptOut,
    ApplyTag,
    ConfirmAppointment,
    Effect,
    MakeTask,
    NoteTransfer,
    effects_of,
    task_due,
)
from ringfence.services.call_opt_outs_bulk import OptOutRows, read_opt_outs, write_opt_outs
from ringfence.services.call_outcomes import (
    ACTOR,
    FinishedCall,
    apply_conversation,
    transcript_row,
)

TRANSCRIPTS = cast(Table, CallTranscript.__table__)
ACTIONS = cast(Table, CallAction.__table__)
TASKS = cast(Table, Task.__table__)
NOTES = cast(Table, Note.__table__)
APPOINTMENTS = cast(Table, Appointment.__table__)
JOBS = cast(Table, CallJob.__table__)
# `transcript_row`'s rows, on the driver's cursor (adapters/db/prepared.py), the turns
# encrypted by the column's type as through `Session.execute`.
_INSERT_TRANSCRIPTS = Prepared(
    insert(TRANSCRIPTS),
    column_keys=(
        "account_id",
        "job_id",
        "turns",
        "sentiment",
        "sentiment_score",
        "recording_path",
        "recording_seconds",
        "created_at",
    ),
)
_WRITE_PRODUCED = Prepared(
    update(JOBS).where(JOBS.c.id == bindparam("b_id")).values(produced=bindparam("b_produced"))
)
_INSERT_LINKS = Prepared(insert(contact_tags), column_keys=("contact_id", "tag_id"))
# `_Batch.action`'s rows: every column given (so `detail`'s default never applies).
_INSERT_ACTIONS = Prepared(
    insert(ACTIONS),
    column_keys=(
        "account_id",
        "location_id",
        "job_id",
        "kind",
        "detail",
        "entity_type",
        "entity_id",
        "at",
    ),
)


@dataclass(frozen=True, slots=True)
class _Planned:
    call: FinishedCall
    conversation: Conversation
    effects: list[Effect]
    produced: list[str]


@dataclass(slots=True)
class _Batch:
    """The rows of the whole batch, in the order the per-call path would have written them.
    An action's entity is an id, or ("task" | "note" | "consent", index) of a row inserted
    with it."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, int]] = field(default_factory=list)
    confirmed: list[dict[str, Any]] = field(default_factory=list)
    actions: list[tuple[dict[str, Any], tuple[str, int] | None]] = field(default_factory=list)
    opt_outs: OptOutRows | None = None

    def action(
        self,
        call: FinishedCall,
        kind: str,
        detail: str,
        entity_type: str | None,
        entity: int | tuple[str, int] | None,
    ) -> None:
        row = {
            "account_id": call.account_id,
            "location_id": call.location_id,
            "job_id": call.job_id,
            "kind": kind,
            "detail": detail,
            "entity_type": entity_type,
            "entity_id": entity if isinstance(entity, int) else None,
            "at": call.ended_at,
        }
        self.actions.append((row, entity if isinstance(entity, tuple) else None))


def apply_conversations(
    session: Session, finished: Sequence[tuple[FinishedCall, Conversation]]
) -> None:
    """Store each call's transcript and apply its outcome events, as `apply_conversation`
    would one call after another in this order (callers sort by their lock order)."""
    planned: list[_Planned] = []
    opted_out: list[_Planned] = []
    for call, conversation in finished:
        effects, produced = effects_of(conversation)
        found = _Planned(call, conversation, effects, produced)
        if any(isinstance(effect, ApplyOptOut) for effect in effects):
            opted_out.append(found)
        else:
            planned.append(found)
    if planned:
        _apply(session, planned)
    if not opted_out:
        return
    # Read after the batch's writes, as the per-call path would after each earlier call.
    reads = read_opt_outs(session, [(p.call, p.effects) for p in opted_out])
    if reads is not None:
        _apply(session, opted_out, OptOutRows(reads))
        return
    if planned:
        # The batch wrote past the ORM (Core inserts of tag links, Core updates of
        # appointments): a contact's `tags` loaded before it would be stale, and the
        # per-call path would link a tag again (a unique-constraint failure every retry).
        session.flush()
        session.expire_all()
    for item in opted_out:
        apply_conversation(session, item.call, item.conversation)


def _apply(session: Session, planned: list[_Planned], opt_outs: OptOutRows | None = None) -> None:
    _INSERT_TRANSCRIPTS.run_many(
        session.connection(), [transcript_row(p.call, p.conversation) for p in planned]
    )
    appointments = _confirmations(session, planned)
    tags = _tag_ids(session, planned, appointments)
    linked = _links(session, planned, tags, opt_outs.reads.contact_ids() if opt_outs else [])
    batch = _Batch(opt_outs=opt_outs)
    for index, item in enumerate(planned):
        call = item.call
        for effect in item.effects:
            match effect:
                case MakeTask(title, body, priority):
                    batch.tasks.append(_task_row(call, title, body, priority))
                    task = ("task", len(batch.tasks) - 1)
                    batch.action(call, "task_created", f"{priority.value}: {title}", "task", task)
                case AddNote(body):
                    batch.notes.append(_note_row(call, body))
                    batch.action(call, "note_added", body, "note", ("note", len(batch.notes) - 1))
                case NoteTransfer(to):
                    batch.action(call, "call_transferred", f"to the staff line {to}", None, None)
                case ApplyTag(name):
                    _tag(batch, linked, call, name, tags)
                case ConfirmAppointment():
                    found = appointments.get(index)
                    if found is None:
                        continue
                    appointment_id, service = found
                    batch.confirmed.append({"b_id": appointment_id, "b_at": call.ended_at})
                    batch.action(
                        call, "appointment_confirmed", service, "appointment", appointment_id
                    )
                    _tag(batch, linked, call, CONFIRMED_TAG, tags)
                case ApplyOptOut(event):
                    if batch.opt_outs is None:  # pragma: no cover - apply_conversations' split
                        raise AssertionError("an opt-out without its reads")
                    _opt_out(batch, batch.opt_outs, linked, call, event, tags)
    _write(session, batch)
    produced = [{"b_id": p.call.job_id, "b_produced": p.produced} for p in planned if p.produced]
    if produced:
        # What workflow branches test ("confirmed", "opted out", "clinical question"...).
        _WRITE_PRODUCED.run_many(session.connection(), produced)


def _opt_out(
    batch: _Batch,
    rows: OptOutRows,
    linked: set[tuple[int, int]],
    call: FinishedCall,
    event: OptOut,
    tags: dict[tuple[int, str], int],
) -> None:
    """`_Effects.opt_out` (services/call_outcomes.py), its actions in the same order."""
    record = rows.revoke(call, event)
    batch.action(call, "opt_out_applied", event.callee_said, "consent_record", ("consent", record))
    _tag(batch, linked, call, OPT_OUT_TAG, tags)
    tag_id = tags[(call.account_id, OPT_OUT_TAG)]

    def link(contact_id: int) -> None:  # `tag_contact`: tagged, no action of this call's
        if (contact_id, tag_id) not in linked:
            linked.add((contact_id, tag_id))
            batch.links.append({"contact_id": contact_id, "tag_id": tag_id})

    canceled = rows.suppress(call, link)
    if canceled:
        batch.action(
            call, "calls_canceled", f"{canceled} pending call(s)", "contact", call.contact_id
        )


def _write(session: Session, batch: _Batch) -> None:
    ids: dict[str, list[int]] = {"task": [], "note": [], "consent": []}
    if batch.opt_outs is not None:
        ids["consent"] = write_opt_outs(session, batch.opt_outs)
    for kind, table, rows in (("task", TASKS, batch.tasks), ("note", NOTES, batch.notes)):
        if rows:
            ids[kind] = list(
                session.execute(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
                ).scalars()
            )
    if batch.links:
        _INSERT_LINKS.run_many(session.connection(), batch.links)
    if batch.confirmed:
        session.execute(
            update(APPOINTMENTS)
            .where(APPOINTMENTS.c.id == bindparam("b_id"))
            .values(status=AppointmentStatus.CONFIRMED, updated_at=bindparam("b_at")),
            batch.confirmed,
        )
    if batch.actions:
        rows = []
        for row, ref in batch.actions:
            if ref is not None:
                row["entity_id"] = ids[ref[0]][ref[1]]
            rows.append(row)
        _INSERT_ACTIONS.run_many(session.connection(), rows)


def _confirmations(session: Session, planned: list[_Planned]) -> dict[int, tuple[int, str]]:
    """Per planned call (by index), the appointment its confirmation confirms: the contact's
    next scheduled one from the answer on, not one an earlier call of the batch confirmed."""
    wanted = [
        (index, item.call)
        for index, item in enumerate(planned)
        if any(isinstance(effect, ConfirmAppointment) for effect in item.effects)
    ]
    if not wanted:
        return {}
    scheduled: dict[int, list[tuple[Any, int, str]]] = {}
    rows = session.execute(
        select(
            APPOINTMENTS.c.contact_id,
            APPOINTMENTS.c.starts_at,
            APPOINTMENTS.c.id,
            APPOINTMENTS.c.service,
        )
        .where(
            APPOINTMENTS.c.contact_id.in_(sorted({call.contact_id for _i, call in wanted})),
            APPOINTMENTS.c.status == AppointmentStatus.SCHEDULED,
        )
        .order_by(APPOINTMENTS.c.starts_at, APPOINTMENTS.c.id)
    )
    for contact_id, starts_at, appointment_id, service in rows:
        scheduled.setdefault(contact_id, []).append((starts_at, appointment_id, service))
    taken: set[int] = set()
    found: dict[int, tuple[int, str]] = {}
    for index, call in wanted:
        for starts_at, appointment_id, service in scheduled.get(call.contact_id, []):
            if starts_at >= call.answered_at and appointment_id not in taken:
                taken.add(appointment_id)
                found[index] = (appointment_id, service)
                break
    return found


def _tag_ids(
    session: Session, planned: list[_Planned], confirmed: dict[int, tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The ids of the tags the batch applies, by (account, name); a missing one is created as
    the first call that applies it would have (stamped with that call's end)."""
    first: dict[tuple[int, str], FinishedCall] = {}
    for index, item in enumerate(planned):
        for effect in item.effects:
            name = (
                effect.name
                if isinstance(effect, ApplyTag)
                else CONFIRMED_TAG
                if isinstance(effect, ConfirmAppointment) and index in confirmed
                else OPT_OUT_TAG
                if isinstance(effect, ApplyOptOut)
                else None
            )
            if name is not None:
                first.setdefault((item.call.account_id, name), item.call)
    if not first:
        return {}

    def read() -> dict[tuple[int, str], int]:
        rows = session.execute(
            select(Tag.account_id, Tag.name, Tag.id).where(
                tuple_(Tag.account_id, Tag.name).in_(sorted(first))
            )
        )
        return {(account_id, name): tag_id for account_id, name, tag_id in rows}

    found = read()
    missing = [key for key in first if key not in found]
    if missing:
        insert_missing(
            session,
            Tag,
            [
                {"account_id": account_id, "name": name, "created_at": at, "updated_at": at}
                for account_id, name in missing
                for at in (first[(account_id, name)].ended_at,)
            ],
        )
        found = read()
    return found


def _links(
    session: Session,
    planned: list[_Planned],
    tags: dict[tuple[int, str], int],
    others: Sequence[int] = (),
) -> set[tuple[int, int]]:
    """The (contact, tag) links already stored among those the batch may make (`others`:
    contacts the batch tags besides its calls' own: those sharing an opted-out number)."""
    if not tags:
        return set()
    contacts = sorted({item.call.contact_id for item in planned} | set(others))
    rows = session.execute(
        select(contact_tags.c.contact_id, contact_tags.c.tag_id).where(
            contact_tags.c.contact_id.in_(contacts),
            contact_tags.c.tag_id.in_(sorted(set(tags.values()))),
        )
    )
    return {(contact_id, tag_id) for contact_id, tag_id in rows}


def _tag(
    batch: _Batch,
    linked: set[tuple[int, int]],
    call: FinishedCall,
    name: str,
    tags: dict[tuple[int, str], int],
) -> None:
    tag_id = tags[(call.account_id, name)]
    if (call.contact_id, tag_id) in linked:
        return
    linked.add((call.contact_id, tag_id))
    batch.links.append({"contact_id": call.contact_id, "tag_id": tag_id})
    batch.action(call, "tag_applied", name, "tag", tag_id)


def _task_row(call: FinishedCall, title: str, body: str, priority: TaskPriority) -> dict[str, Any]:
    now = call.ended_at
    return {
        "account_id": call.account_id,
        "location_id": call.location_id,
        "contact_id": call.contact_id,
        "title": title,
        "body": body,
        "assignee": None,
        "status": TaskStatus.OPEN,
        "priority": priority,
        "due_at": task_due(priority, now),
        "created_at": now,
        "updated_at": now,
    }


def _note_row(call: FinishedCall, body: str) -> dict[str, Any]:
    now = call.ended_at
    return {
        "account_id": call.account_id,
        "location_id": call.location_id,
        "contact_id": call.contact_id,
        "body": body,
        "author": ACTOR,
        "created_at": now,
        "updated_at": now,
    }
