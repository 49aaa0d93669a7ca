"""What a finished conversation changes: transcript, sentiment, and the outcome's actions.

The agent runtime only decides (events); this is the shell that applies them, in the same
transaction that completes the call. Each change the call causes is also recorded as a
`CallAction`, the dashboard's "Actions Triggered".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from ringfence.adapters.db.calls import CallAction, CallJob, CallTranscript
from ringfence.adapters.db.orm import Appointment, ConsentRecord, Contact, Note, Tag, Task
from ringfence.agent.callee import Conversation
from ringfence.agent.events import OptOut, TransferFailed
from ringfence.agent.policies.base import Speaker
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import CONFIRMED_TAG, OPT_OUT_TAG
from ringfence.domain.vocabulary import (
    AppointmentStatus,
    CallOutcome,
    Channel,
    ConsentKind,
    TaskPriority,
)
from ringfence.services import audit
from ringfence.services.call_effects import (
    AddNote,
    ApplyOptOut,
    ApplyTag,
    ConfirmAppointment,
    MakeTask,
    NoteTransfer,
    effects_of,
    failed_transfer_task,
    task_due,
)
from ringfence.services.suppression import suppress_number
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.exits import exit_opted_out

# VADER's own recommended cut-offs on the compound score.
POSITIVE_AT, NEGATIVE_AT = 0.05, -0.05
ACTOR = "voice_agent"


@dataclass(frozen=True, slots=True)
class FinishedCall:
    job_id: int
    account_id: int
    location_id: int
    contact_id: int
    outcome: CallOutcome
    answered_at: datetime
    ended_at: datetime
    # A recording made live by the carrier's media pipeline (else rendered from the transcript).
    recording_path: str | None = None
    recording_seconds: float | None = None


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment(conversation: Conversation) -> tuple[str, float] | None:
    """Positive / neutral / negative from the callee's words (None when they said nothing)."""
    words = " ".join(
        line.text for line in conversation.transcript if line.speaker is Speaker.CALLEE
    )
    if not words:
        return None
    score = float(_analyzer().polarity_scores(words)["compound"])
    label = (
        "positive" if score >= POSITIVE_AT else "negative" if score <= NEGATIVE_AT else "neutral"
    )
    return label, score


def transcript_row(call: FinishedCall, conversation: Conversation) -> dict[str, Any]:
    """The `call_transcripts` row of a finished call (turns, and sentiment for a live one)."""
    live = call.outcome is CallOutcome.CONNECTED
    mood = sentiment(conversation) if live else None  # voicemail is excluded from sentiment
    return {
        "account_id": call.account_id,
        "job_id": call.job_id,
        "turns": [
            {"speaker": line.speaker.value, "text": line.text, "start": line.start_s,
             "end": line.end_s}
            for line in conversation.transcript
        ],
        "sentiment": mood[0] if mood else None,
        "sentiment_score": mood[1] if mood else None,
        "recording_path": call.recording_path,
        "recording_seconds": call.recording_seconds,
        "created_at": call.ended_at,
    }  # fmt: skip


def apply_conversation(session: Session, call: FinishedCall, conversation: Conversation) -> None:
    """Store the transcript and apply every outcome event of one finished call."""
    session.add(CallTranscript(**transcript_row(call, conversation)))
    effects, produced = effects_of(conversation)
    shell = _Effects(session, call)
    for effect in effects:
        match effect:
            case ApplyOptOut(event):
                shell.opt_out(event)
            case MakeTask(title, body, priority):
                shell.task(title, body, priority)
            case ConfirmAppointment():
                shell.confirm_appointment()
            case ApplyTag(name):
                shell.tag(name)
            case AddNote(body):
                shell.note(body)
            case NoteTransfer(to):
                shell.transferred(to)
    if produced:
        # What workflow branches test ("confirmed", "opted out", "clinical question"...).
        session.execute(update(CallJob).where(CallJob.id == call.job_id).values(produced=produced))


def apply_failed_transfer(session: Session, call: FinishedCall, conversation: Conversation) -> None:
    """Apply only the `TransferFailed` of a conversation applied before its hand-over to staff
    was known to fail (an inbound Twilio call: its `<Dial>` reports after the record closed):
    the same task `apply_conversation` makes of it."""
    shell = _Effects(session, call)
    for event in conversation.events:
        if isinstance(event, TransferFailed):
            task = failed_transfer_task(event, conversation)
            shell.task(task.title, task.body, task.priority)


class _Effects:
    def __init__(self, session: Session, call: FinishedCall) -> None:
        self.session = session
        self.call = call
        self.scope = TenantScope(account_id=call.account_id, actor=ACTOR)
        self._contact: Contact | None = None

    @property
    def contact(self) -> Contact:
        # Loaded only for the events that change the contact (most calls change none).
        if self._contact is None:
            self._contact = self.session.get(Contact, self.call.contact_id)
            if self._contact is None:  # foreign keys make this unreachable
                raise LookupError(f"contact {self.call.contact_id} vanished")
        return self._contact

    def _action(
        self, kind: str, detail: str, entity_type: str | None, entity_id: int | None
    ) -> None:
        self.session.add(
            CallAction(
                account_id=self.call.account_id,
                location_id=self.call.location_id,
                job_id=self.call.job_id,
                kind=kind,
                detail=detail,
                entity_type=entity_type,
                entity_id=entity_id,
                at=self.call.ended_at,
            )
        )

    def tag(self, name: str) -> None:
        tag = self.session.scalars(
            select(Tag).where(Tag.account_id == self.call.account_id, Tag.name == name)
        ).first()
        if tag is None:
            now = self.call.ended_at
            tag = Tag(account_id=self.call.account_id, name=name, created_at=now, updated_at=now)
            self.session.add(tag)
            self.session.flush()
        if tag not in self.contact.tags:
            self.contact.tags.append(tag)
            self._action("tag_applied", name, "tag", tag.id)

    def task(self, title: str, body: str, priority: TaskPriority = TaskPriority.NORMAL) -> None:
        now = self.call.ended_at
        task = Task(
            account_id=self.call.account_id,
            location_id=self.call.location_id,
            contact_id=self.call.contact_id,
            title=title,
            body=body,
            priority=priority,
            due_at=task_due(priority, now),
            created_at=now,
            updated_at=now,
        )
        self.session.add(task)
        self.session.flush()
        self._action("task_created", f"{priority.value}: {title}", "task", task.id)

    def transferred(self, to: str) -> None:
        self._action("call_transferred", f"to the staff line {to}", None, None)

    def note(self, body: str) -> None:
        now = self.call.ended_at
        note = Note(
            account_id=self.call.account_id,
            location_id=self.call.location_id,
            contact_id=self.call.contact_id,
            body=body,
            author=ACTOR,
            created_at=now,
            updated_at=now,
        )
        self.session.add(note)
        self.session.flush()
        self._action("note_added", body, "note", note.id)

    def confirm_appointment(self) -> None:
        appointment = self.session.scalars(
            select(Appointment)
            .where(
                Appointment.contact_id == self.call.contact_id,
                Appointment.status == AppointmentStatus.SCHEDULED,
                Appointment.starts_at >= self.call.answered_at,
            )
            .order_by(Appointment.starts_at)
        ).first()
        if appointment is None:
            return
        appointment.status = AppointmentStatus.CONFIRMED
        appointment.updated_at = self.call.ended_at
        self._action("appointment_confirmed", appointment.service, "appointment", appointment.id)
        self.tag(CONFIRMED_TAG)

    def opt_out(self, event: OptOut) -> None:
        """'Stop calling me' on a call: voice DND, the opt-out, the tag, a revocation record,
        and every pending call to the contact canceled; all audited."""
        now = self.call.ended_at
        contact = self.contact
        before = audit.snapshot(contact, ("dnd_voice", "opted_out_at", "opted_out_channel"))
        contact.dnd_voice = True
        if contact.opted_out_at is None:
            contact.opted_out_at, contact.opted_out_channel = now, Channel.VOICE
        contact.updated_at = now
        after = audit.snapshot(contact, ("dnd_voice", "opted_out_at", "opted_out_channel"))
        audit.record_changes(
            self.session,
            self.scope,
            entity_type="contact",
            entity_id=contact.id,
            action="contact.opted_out_on_call",
            at=now,
            before=before,
            after=after,
        )
        job = self.session.get(CallJob, self.call.job_id)
        dialed = job.phone_e164 if job is not None and job.phone_e164 else contact.phone_e164
        record = ConsentRecord(
            account_id=self.call.account_id,
            location_id=self.call.location_id,
            contact_id=contact.id,
            kind=ConsentKind.REVOCATION,
            channel=Channel.VOICE,
            recorded_at=now,
            note=f'Said on call {self.call.job_id}: "{event.callee_said}" (rule: {event.rule})',
            recorded_by=ACTOR,
            phone_e164=dialed,
        )
        self.session.add(record)
        self.session.flush()
        self._action("opt_out_applied", event.callee_said, "consent_record", record.id)
        self.tag(OPT_OUT_TAG)
        # The number is suppressed for the whole practice: every contact and location with it
        # is tagged, loses its pending calls and leaves its workflows, except the run that
        # placed this call, which goes on into its "opted out" branch (it can never dial
        # again). A number changed during the call is suppressed as well.
        canceled = 0
        for phone in dict.fromkeys(p for p in (dialed, contact.phone_e164) if p):
            done = suppress_number(
                self.session,
                self.scope,
                phone,
                at=now,
                source=SuppressionSource.CALL_OPT_OUT,
                contact_id=contact.id,
                note=f"said on call {self.call.job_id}",
                keep_call_job=self.call.job_id,
            )
            canceled += done.canceled_calls if done is not None else 0
        if canceled:
            self._action("calls_canceled", f"{canceled} pending call(s)", "contact", contact.id)
        if dialed is None:
            exit_opted_out(self.session, contact.id, now, keep_call_job=self.call.job_id)
