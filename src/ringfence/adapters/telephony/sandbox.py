"""The embedded sandbox carrier: a deterministic phone network for demos, tests and simulations.

Each call's fate (refused at once, or how long it rings, whether a person or a voicemail box
answers, how long they talk) is decided at dial time by `decide_fate`, a pure function of
`(seed, to_e164, contact_id)`: the same campaign replays identically, whatever the wall clock
or `PYTHONHASHSEED`. The fate is written to `sandbox_calls` in the carrier's own committed
transaction, as a real carrier keeps its own records whatever happens to the dispatcher's.
Where a call stands is never stored: it is derived from the row and the injected clock, so a
virtual clock drives every call through ringing, in progress and completed with no timers.

Numbers whose last two digits are listed in `FIXED_SUFFIXES` always behave the same way (with
fixed timings), so tests and demos can ask for a given outcome; others follow `OUTCOME_MIX`.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.prepared import Prepared
from ringfence.adapters.telephony.base import (
    BatchDialer,
    CallReport,
    CarrierCallState,
    DialReceipt,
    DialRequest,
    TelephonyError,
    TelephonyProvider,
)
from ringfence.adapters.telephony.sandbox_store import SandboxCall
from ringfence.agent.callee import VOICEMAIL_BOX, simulated_conversation
from ringfence.clock import Clock
from ringfence.domain.vocabulary import CallOutcome

# Shares of outcomes for numbers without a fixed suffix (weights sum to 1).
OUTCOME_MIX: Final[tuple[tuple[CallOutcome, float], ...]] = (
    (CallOutcome.CONNECTED, 0.55),
    (CallOutcome.VOICEMAIL, 0.20),
    (CallOutcome.NO_ANSWER, 0.15),
    (CallOutcome.BUSY, 0.05),
    (CallOutcome.FAILED, 0.05),
)
# Who picks up a connected call (weights); the agent's simulated callee plays this part.
PERSONA_MIX: Final[tuple[tuple[str, int], ...]] = (
    ("confirms", 35),
    ("reschedules", 15),
    ("asks_if_robot", 10),
    ("clinical_question", 10),
    ("call_back_later", 10),
    ("not_interested", 10),
    ("says_stop", 5),
    ("wrong_number", 5),
    # Transferred to staff while the office is open. Weight 0: reached by the 18 suffix only,
    # so the draws of every recorded seed (and the simulations built on them) stay as they were.
    ("asks_for_person", 0),
)
PERSONAS: Final[tuple[str, ...]] = tuple(name for name, _ in PERSONA_MIX)
INVALID_NUMBER: Final = "invalid number: not allocated"
SPAM_BLOCKED: Final = "caller ID blocked: flagged as spam"
DISCONNECTED: Final = "number disconnected"
_E164: Final = re.compile(r"\+(1\d{10}|[2-9]\d{7,14})")  # NANP numbers have ten digits
NO_ANSWER_RING_SECONDS: Final = 30  # rings past the 15-s US abandonment minimum, then gives up


@dataclass(frozen=True, slots=True)
class Fate:
    """What the network will do with a call, decided once at dial time."""

    accepted: bool
    outcome: CallOutcome
    ring_seconds: int
    talk_seconds: int = 0
    carrier_reason: str | None = None
    persona: str | None = None


def _connected(persona: str) -> Fate:
    return Fate(True, CallOutcome.CONNECTED, ring_seconds=6, talk_seconds=90, persona=persona)


# Last two digits -> fate, for predictable tests and demos: 00 connected, 01 voicemail,
# 02 no answer, 03 busy, 04 invalid number, 05 spam-blocked caller ID, and 10-18 connected
# to the persona PERSONAS[d - 10].
FIXED_SUFFIXES: Final[dict[str, Fate]] = {
    "00": _connected("confirms"),
    "01": Fate(True, CallOutcome.VOICEMAIL, ring_seconds=20, talk_seconds=30),
    "02": Fate(True, CallOutcome.NO_ANSWER, ring_seconds=NO_ANSWER_RING_SECONDS),
    "03": Fate(True, CallOutcome.BUSY, ring_seconds=2),
    "04": Fate(False, CallOutcome.FAILED, ring_seconds=0, carrier_reason=INVALID_NUMBER),
    "05": Fate(False, CallOutcome.FAILED, ring_seconds=0, carrier_reason=SPAM_BLOCKED),
    **{f"1{i}": _connected(persona) for i, persona in enumerate(PERSONAS)},
}


def decide_fate(seed: int, to_e164: str, contact_id: int) -> Fate:
    """The call's fate: a pure function of its inputs (a stable digest seeds the draw).

    Not `hash()` (salted per process) nor the time: a seed replays the same campaign.
    """
    if not _E164.fullmatch(to_e164):
        return Fate(False, CallOutcome.FAILED, 0, carrier_reason=INVALID_NUMBER)
    fixed = FIXED_SUFFIXES.get(to_e164[-2:])
    if fixed is not None:
        return fixed
    digest = hashlib.sha256(f"{seed}|{to_e164}|{contact_id}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:16], "big"))
    outcome = rng.choices([o for o, _ in OUTCOME_MIX], [w for _, w in OUTCOME_MIX])[0]
    match outcome:
        case CallOutcome.CONNECTED:
            persona = rng.choices(PERSONAS, [w for _, w in PERSONA_MIX])[0]
            return Fate(True, outcome, rng.randint(3, 20), rng.randint(40, 300), persona=persona)
        case CallOutcome.VOICEMAIL:  # rings until the box picks up, greeting + beep + message
            return Fate(True, outcome, rng.randint(12, 25), rng.randint(20, 45))
        case CallOutcome.NO_ANSWER:
            return Fate(True, outcome, NO_ANSWER_RING_SECONDS)
        case CallOutcome.BUSY:
            return Fate(True, outcome, rng.randint(1, 3))
        case _:
            reason = rng.choices([INVALID_NUMBER, SPAM_BLOCKED, DISCONNECTED], [2, 2, 1])[0]
            return Fate(False, CallOutcome.FAILED, 0, carrier_reason=reason)


def shaped_by_agent(fate: Fate, request: DialRequest) -> Fate:
    """With the agent known, the answered part of the call lasts as long as its conversation.

    The persona (or the voicemail box) converses with the agent's runtime through
    `simulated_conversation`, the same deterministic play Ringfence replays when the call
    ends, so the transcript's offsets and the call's duration agree.
    """
    if request.agent is None or not fate.accepted:
        return fate
    if fate.outcome not in (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL):
        return fate
    callee = fate.persona or VOICEMAIL_BOX
    conversation = simulated_conversation(request.agent, callee, request.contact_id)
    return replace(fate, talk_seconds=max(1, math.ceil(conversation.duration_s) + 1))


def carrier_call_id_for(idempotency_key: str) -> str:
    # Derived from the key (unique already), so replays produce identical call ids.
    return "SB" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class CallRecord(Protocol):
    """What `report_at` reads of a `sandbox_calls` row (an entity, or a row of its columns)."""

    @property
    def idempotency_key(self) -> str: ...
    @property
    def carrier_call_id(self) -> str: ...
    @property
    def dialed_at(self) -> datetime: ...
    @property
    def ring_seconds(self) -> int: ...
    @property
    def talk_seconds(self) -> int: ...
    @property
    def outcome(self) -> CallOutcome: ...
    @property
    def carrier_reason(self) -> str | None: ...
    @property
    def persona(self) -> str | None: ...
    @property
    def hung_up_at(self) -> datetime | None: ...


def report_at(call: CallRecord, now: datetime) -> CallReport:
    """Where `call` stands at `now`, derived from its fate and any hang-up."""
    answered: datetime | None = None
    if call.outcome in (CallOutcome.CONNECTED, CallOutcome.VOICEMAIL):
        answered = call.dialed_at + timedelta(seconds=call.ring_seconds)
        end = answered + timedelta(seconds=call.talk_seconds)
    else:
        end = call.dialed_at + timedelta(seconds=call.ring_seconds)
    outcome = call.outcome
    if call.hung_up_at is not None and call.hung_up_at < end:
        end = call.hung_up_at
        if answered is not None and end <= answered:
            answered = None
        if answered is None:  # the caller gave up before anyone answered
            outcome = CallOutcome.NO_ANSWER
    if now >= end:
        state = CarrierCallState.COMPLETED
    elif answered is not None and now >= answered:
        state = CarrierCallState.IN_PROGRESS
    else:
        state, answered = CarrierCallState.RINGING, None
    done = state is CarrierCallState.COMPLETED
    return CallReport(
        idempotency_key=call.idempotency_key,
        carrier_call_id=call.carrier_call_id,
        state=state,
        dialed_at=call.dialed_at,
        answered_at=answered,
        ended_at=end if done else None,
        outcome=outcome if done else None,
        duration_seconds=_seconds(end - call.dialed_at) if done else None,
        billable_seconds=(0 if answered is None else _seconds(end - answered)) if done else None,
        carrier_reason=call.carrier_reason,
        callee=call.persona
        if call.outcome is CallOutcome.CONNECTED
        else (VOICEMAIL_BOX if call.outcome is CallOutcome.VOICEMAIL else None),
    )


def _seconds(delta: timedelta) -> int:
    # Carriers bill each started second; whole-second fates make this exact.
    return math.ceil(delta.total_seconds())


class SandboxCarrier:
    """The embedded carrier (a `TelephonyProvider`), backed by the `sandbox_calls` table.

    `completed_reports` reports, once each, the calls this instance dialed (refusals
    included, complete at once) or looked up while still in flight. After a crash the
    dispatcher finds its calls in flight with `lookup` (it reads the table, so it works from
    any process), and this instance then reports them when they complete. A hang-up made
    through another instance is reported when the call would have ended. Database errors
    surface as TelephonyError: to the dispatcher, the sandbox's table is the network.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        *,
        seed: int = 0,
        name: str = "sandbox",
    ) -> None:
        self.name = name
        self._sessions = session_factory
        self._clock = clock
        self._seed = seed
        # Calls awaiting their report: a heap of (expected end, tie-break, key) and each
        # key's latest expected end (entries that no longer match it are stale). A sweep
        # only pops what has ended: its cost follows completed calls, not all calls.
        self._heap: list[tuple[datetime, int, str]] = []
        self._pending: dict[str, datetime] = {}
        self._seen: set[str] = set()  # keys ever tracked, so none is reported twice
        self._seq = 0

    def dial(self, request: DialRequest) -> DialReceipt:
        """Place the call, or return the receipt of the one already placed under this key."""
        key = request.idempotency_key
        try:
            with self._sessions() as session:
                call = _by_key(session, key)
                if call is None:
                    fate = shaped_by_agent(
                        decide_fate(self._seed, request.to_e164, request.contact_id), request
                    )
                    session.add(_new_call(request, fate, self._clock.now()))
                    try:
                        session.commit()
                    except IntegrityError:  # another process placed it first: theirs stands
                        session.rollback()
                    call = _by_key(session, key)
                    if call is None:
                        raise TelephonyError(f"sandbox lost the call placed under {key!r}")
                self._track(call, even_if_completed=True)
                return DialReceipt(call.carrier_call_id, call.accepted, call.carrier_reason)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"sandbox carrier unavailable: {exc}") from exc

    def dial_many(self, requests: Sequence[DialRequest]) -> list[DialReceipt]:
        """Place a batch in one committed transaction (a dispatcher tick's dials).

        Keys already on record return their original receipts. If another process races us
        on a key, the whole batch falls back to one `dial` per request. Rows are written with
        one multi-row INSERT: a busy tick places hundreds of calls.
        """
        keys = [request.idempotency_key for request in requests]
        now = self._clock.now()
        try:
            with self._sessions() as session:
                known = {
                    call.idempotency_key: call
                    for i in range(0, len(keys), 500)
                    for call in session.scalars(
                        select(SandboxCall).where(
                            SandboxCall.idempotency_key.in_(keys[i : i + 500])
                        )
                    )
                }
                fresh = {
                    r.idempotency_key: _new_row(
                        r, shaped_by_agent(decide_fate(self._seed, r.to_e164, r.contact_id), r), now
                    )
                    for r in requests
                    if r.idempotency_key not in known
                }
                if fresh:
                    _INSERT_CALLS.run_many(session.connection(), list(fresh.values()))
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    return [self.dial(request) for request in requests]
        except SQLAlchemyError as exc:
            raise TelephonyError(f"sandbox carrier unavailable: {exc}") from exc
        receipts = []
        for key in keys:
            call = known.get(key)
            if call is not None:
                self._track(call, even_if_completed=True)
                receipts.append(
                    DialReceipt(call.carrier_call_id, call.accepted, call.carrier_reason)
                )
                continue
            row = fresh[key]
            if key not in self._seen:
                self._seen.add(key)
                end = row["dialed_at"] + timedelta(
                    seconds=row["ring_seconds"] + row["talk_seconds"]
                )
                self._push(key, end)
            receipts.append(
                DialReceipt(row["carrier_call_id"], row["accepted"], row["carrier_reason"])
            )
        return receipts

    def lookup(self, idempotency_key: str) -> CallReport | None:
        try:
            with self._sessions() as session:
                call = _by_key(session, idempotency_key)
                if call is None:
                    return None
                self._track(call, even_if_completed=False)
                return report_at(call, self._clock.now())
        except SQLAlchemyError as exc:
            raise TelephonyError(f"sandbox carrier unavailable: {exc}") from exc

    def hangup(self, carrier_call_id: str) -> None:
        """End the call now; a no-op once it has ended. Unknown ids raise TelephonyError."""
        now = self._clock.now()
        try:
            with self._sessions() as session:
                call = session.scalars(
                    select(SandboxCall)
                    .where(SandboxCall.carrier_call_id == carrier_call_id)
                    .with_for_update()
                ).one_or_none()
                if call is None:
                    raise TelephonyError(f"no sandbox call {carrier_call_id!r}")
                if report_at(call, now).state is CarrierCallState.COMPLETED:
                    return
                key = call.idempotency_key
                call.hung_up_at = now
                session.commit()
        except SQLAlchemyError as exc:
            raise TelephonyError(f"sandbox carrier unavailable: {exc}") from exc
        if key in self._pending:
            self._push(key, now)

    def completed_reports(self) -> list[CallReport]:
        now = self._clock.now()
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            end, _, key = heapq.heappop(self._heap)
            if self._pending.get(key) == end:
                due.append(key)
        try:
            with self._sessions() as session:
                # Columns, not entities: a busy tick reports hundreds of calls, read only.
                calls: dict[str, CallRecord] = {
                    row.idempotency_key: row
                    for i in range(0, len(due), 500)  # bounded IN lists
                    for row in session.execute(_DUE_CALLS, {"keys": due[i : i + 500]})
                }
                reports = [report_at(calls[key], now) for key in due]
        except SQLAlchemyError as exc:
            for key in due:  # nothing was reported: retry them all on the next sweep
                self._push(key, self._pending[key])
            raise TelephonyError(f"sandbox carrier unavailable: {exc}") from exc
        done: list[CallReport] = []
        for key, report in zip(due, reports, strict=True):
            if report.state is CarrierCallState.COMPLETED:
                del self._pending[key]
                done.append(report)
            else:  # not expected (hang-ups only shorten calls); look again shortly
                self._push(key, now + timedelta(seconds=1))
        return done

    def _track(self, call: SandboxCall, *, even_if_completed: bool) -> None:
        key = call.idempotency_key
        if key in self._seen:
            return
        if even_if_completed or report_at(call, self._clock.now()).state is not (
            CarrierCallState.COMPLETED
        ):
            self._seen.add(key)
            self._push(key, _expected_end(call))

    def _push(self, key: str, end: datetime) -> None:
        self._pending[key] = end
        self._seq += 1
        heapq.heappush(self._heap, (end, self._seq, key))


class UnreachableCarrier:
    """A carrier that cannot be reached: every operation raises TelephonyError.

    For tests of what the dispatcher does when a dial's fate is unknown (reconciliation).
    """

    def __init__(self, name: str = "unreachable") -> None:
        self.name = name

    def dial(self, request: DialRequest) -> DialReceipt:
        raise TelephonyError(f"{self.name}: carrier unreachable")

    def lookup(self, idempotency_key: str) -> CallReport | None:
        raise TelephonyError(f"{self.name}: carrier unreachable")

    def hangup(self, carrier_call_id: str) -> None:
        raise TelephonyError(f"{self.name}: carrier unreachable")

    def completed_reports(self) -> list[CallReport]:
        raise TelephonyError(f"{self.name}: carrier unreachable")


_DUE_CALLS = select(
    SandboxCall.idempotency_key,
    SandboxCall.carrier_call_id,
    SandboxCall.dialed_at,
    SandboxCall.ring_seconds,
    SandboxCall.talk_seconds,
    SandboxCall.outcome,
    SandboxCall.carrier_reason,
    SandboxCall.persona,
    SandboxCall.hung_up_at,
).where(SandboxCall.idempotency_key.in_(bindparam("keys", expanding=True)))


def _new_row(request: DialRequest, fate: Fate, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": request.idempotency_key,
        "carrier_call_id": carrier_call_id_for(request.idempotency_key),
        "job_id": request.job_id,
        "contact_id": request.contact_id,
        "to_e164": request.to_e164,
        "from_e164": request.from_e164,
        "dialed_at": now,
        "accepted": fate.accepted,
        "ring_seconds": fate.ring_seconds,
        "talk_seconds": fate.talk_seconds,
        "outcome": fate.outcome,
        "carrier_reason": fate.carrier_reason,
        "persona": fate.persona,
        "hung_up_at": None,
    }


# `_new_row`'s rows, on the driver's cursor (adapters/db/prepared.py): a busy tick places
# hundreds of calls. Every column is given (none has a default).
_INSERT_CALLS = Prepared(
    insert(cast(Table, SandboxCall.__table__)),
    column_keys=(
        "idempotency_key",
        "carrier_call_id",
        "job_id",
        "contact_id",
        "to_e164",
        "from_e164",
        "dialed_at",
        "accepted",
        "ring_seconds",
        "talk_seconds",
        "outcome",
        "carrier_reason",
        "persona",
        "hung_up_at",
    ),
)


def _new_call(request: DialRequest, fate: Fate, now: datetime) -> SandboxCall:
    return SandboxCall(**_new_row(request, fate, now))


def _expected_end(call: SandboxCall) -> datetime:
    end = call.dialed_at + timedelta(seconds=call.ring_seconds + call.talk_seconds)
    return min(end, call.hung_up_at) if call.hung_up_at is not None else end


def _by_key(session: Session, key: str) -> SandboxCall | None:
    return session.scalars(
        select(SandboxCall).where(SandboxCall.idempotency_key == key)
    ).one_or_none()


if TYPE_CHECKING:  # mypy (strict, whole package) proves both keep the carrier contract

    def _conforms(sandbox: SandboxCarrier, down: UnreachableCarrier) -> list[TelephonyProvider]:
        return [sandbox, down]

    def _batches(sandbox: SandboxCarrier) -> BatchDialer:
        return sandbox
