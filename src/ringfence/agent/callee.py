"""The simulated callee for the sandbox carrier, and whole conversations played agent <-> persona.

The nine personas are the sandbox carrier's (adapters/telephony/sandbox.py, PERSONAS; a
test checks both lists agree). Each
answers what the agent just said from a small script; `seed` picks the wording variant and
speaking rate, so a seed replays the same conversation. Offsets in the transcript are
estimated from words per minute, never read from a clock.
"""

from __future__ import annotations

import json
import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from ringfence.agent.events import (
    AgentEvent,
    CallEnded,
    ConversationOutcome,
    EndReason,
    VoicemailLeft,
    outcome_of,
)
from ringfence.agent.guardrails.outgoing import Screened, Withheld, screen_utterance
from ringfence.agent.policies.base import DialoguePolicy, Speaker
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection
from ringfence.agent.runtime import ConversationRuntime, InvalidAgentProfile
from ringfence.agent.session import AgentSession, session_to_json
from ringfence.agent.text import speech_seconds
from ringfence.agent.understanding.understander import (
    LearnedUnderstander,
    MemoUnderstander,
    Understander,
)
from ringfence.agent.validation import validate_agent
from ringfence.agent.voicemail import compose_voicemail

AGENT_WPM: Final = 165.0
FIRST_WORDS_AFTER_ANSWER_S: Final = 0.5  # well inside the 2-second greeting rule
AGENT_GAP_S: Final = 0.6
MAX_CALLEE_REPLIES: Final = 8


class _Ask(StrEnum):
    IDENTITY = "identity"
    TIME = "time"
    QUESTION = "question"
    OTHER = "other"


# persona -> what the agent asked -> wording variants ({name} is the patient's first name).
_SCRIPTS: Final[dict[str, dict[_Ask, tuple[str, ...]]]] = {
    "confirms": {
        _Ask.IDENTITY: ("Yes, this is {name}.", "Speaking.", "Yes, that's me."),
        _Ask.QUESTION: (
            "Yes, I'll be there.",
            "Yes, that works for me.",
            "Sounds good, see you then.",
        ),
        _Ask.TIME: ("Tuesday at 11 am works.", "Friday morning is best."),
    },
    "reschedules": {
        _Ask.IDENTITY: ("Yes, this is {name}.", "Speaking."),
        _Ask.QUESTION: (
            "I can't make it then. Could we do Thursday at 3 pm instead?",
            "Can we move it to next Monday morning?",
        ),
        _Ask.TIME: ("Thursday at 3 pm would be great.",),
    },
    "asks_if_robot": {
        _Ask.IDENTITY: ("Wait, am I talking to a real person?", "Is this a robot?"),
        _Ask.QUESTION: ("Yes, I'll be there.", "Okay, sure, that works."),
        _Ask.TIME: ("Wednesday at 10 am.",),
    },
    "clinical_question": {
        _Ask.IDENTITY: ("Yes, this is {name}.",),
        _Ask.QUESTION: (
            "Before that, is it normal that I still have some bruising from my last filler?",
            "Quick question, can I take ibuprofen before my appointment?",
            "My lips keep swelling since my filler, and it's getting worse.",
            "The skin near where I had filler turned white and it really hurts.",
        ),
        _Ask.TIME: ("Thursday at 3 pm.",),
    },
    "call_back_later": {
        _Ask.IDENTITY: ("Yes, speaking.",),
        _Ask.QUESTION: (
            "Sorry, this is a bad time. Can you call me back tomorrow afternoon?",
            "I'm driving right now, can you call me back later?",
        ),
    },
    "not_interested": {
        _Ask.IDENTITY: ("Yes, this is {name}.",),
        _Ask.QUESTION: ("No thanks, I'm not interested.", "I'm all set, thank you."),
    },
    "says_stop": {
        _Ask.IDENTITY: (
            "Stop calling me.",
            "Please take me off your list.",
            "I don't want these calls, remove me from your list.",
            "Stop.",
        ),
        _Ask.QUESTION: ("Stop calling me.",),
    },
    "wrong_number": {
        _Ask.IDENTITY: (
            "Sorry, you have the wrong number.",
            "There's no {name} here, wrong number.",
        ),
        _Ask.QUESTION: ("I think you have the wrong number.",),
    },
    "asks_for_person": {
        _Ask.IDENTITY: ("Yes, this is {name}.", "Speaking."),
        _Ask.QUESTION: (
            "Can I talk to someone at the front desk, please?",
            "I'd rather speak with a member of your staff. Can you put me through?",
        ),
    },
}
# What each persona says first when it is the one calling in.
_INBOUND: Final[dict[str, str]] = {
    "confirms": "Hi, I'm calling to confirm my appointment.",
    "reschedules": "Hi, I need to move my appointment to Thursday at 3 pm.",
    "asks_if_robot": "Hold on, am I talking to a robot?",
    "clinical_question": "Is it normal to still have bruising a week after my filler?",
    "call_back_later": "I missed your call, but I'm busy. Can you call me back later?",
    "not_interested": "I got a call from you, but I'm not interested.",
    "says_stop": "Please stop calling me.",
    "wrong_number": "Someone called me from this number, I think it was a wrong number.",
    "asks_for_person": "Hi, can I talk to someone at the front desk, please?",
}


class SimulatedCallee:
    """A deterministic persona: `reply(agent_text)` returns the callee's words, or None when
    they hang up."""

    def __init__(self, persona: str, *, first_name: str | None = None, seed: int = 0) -> None:
        if persona not in _SCRIPTS:
            raise ValueError(f"unknown persona {persona!r} (known: {', '.join(_SCRIPTS)})")
        self.persona = persona
        self._name = first_name or "them"
        self._rng = random.Random(f"{persona}|{seed}")
        self._variant = self._rng.randrange(1_000_000)
        self.words_per_minute = self._rng.uniform(135.0, 175.0)
        self._replies = 0
        self._asked_robot = False
        self._asked_clinical = False

    def opening_line(self) -> str:
        return _INBOUND[self.persona]

    def reply(self, agent_text: str) -> str | None:
        if self._replies >= MAX_CALLEE_REPLIES or "goodbye" in agent_text.lower():
            return None
        self._replies += 1
        ask = _classify(agent_text)
        script = _SCRIPTS[self.persona]
        if self.persona == "asks_if_robot" and ask is _Ask.IDENTITY and self._asked_robot:
            return f"Oh, okay. Yes, this is {self._name}."
        if self.persona == "asks_if_robot" and ask is _Ask.IDENTITY:
            self._asked_robot = True
        if self.persona == "clinical_question" and ask is _Ask.QUESTION:
            if self._asked_clinical:  # asked once; now answers like a patient who confirms
                script = _SCRIPTS["confirms"]
            self._asked_clinical = True
        options = script.get(ask) or script.get(_Ask.QUESTION) or ("Okay.",)
        return options[self._variant % len(options)].format(name=self._name)

    def pause_seconds(self) -> float:
        return round(self._rng.uniform(0.5, 1.2), 2)


def _classify(agent_text: str) -> _Ask:
    lowered = agent_text.lower()
    if "am i speaking with" in lowered:
        return _Ask.IDENTITY
    if "what day and time" in lowered:
        return _Ask.TIME
    if "?" in lowered:
        return _Ask.QUESTION
    return _Ask.OTHER


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    speaker: Speaker
    text: str
    start_s: float  # seconds after the call was answered
    end_s: float


@dataclass(frozen=True, slots=True)
class Conversation:
    transcript: tuple[TranscriptLine, ...]
    events: tuple[AgentEvent, ...]
    outcome: ConversationOutcome
    ended_by: EndReason

    @property
    def duration_s(self) -> float:
        return self.transcript[-1].end_s if self.transcript else 0.0


class TimedTranscript:
    """A conversation's lines with the times the sandbox estimates for them: each line starts
    `gap` seconds after the previous one ends and lasts as long as its words at `wpm`."""

    def __init__(self) -> None:
        self.lines: list[TranscriptLine] = []
        self._clock = FIRST_WORDS_AFTER_ANSWER_S

    def add(self, speaker: Speaker, text: str, wpm: float, gap: float) -> None:
        start = round(self._clock + gap, 2)
        self._clock = round(start + speech_seconds(text, wpm), 2)
        self.lines.append(TranscriptLine(speaker, text, start, self._clock))


def play_conversation(
    profile: AgentProfile,
    context: CallContext,
    policy: DialoguePolicy,
    persona: str,
    seed: int = 0,
    *,
    max_callee_turns: int = 12,
) -> Conversation:
    """Play a whole call, agent <-> persona, and return its transcript and outcome."""
    runtime = ConversationRuntime(
        profile,
        context,
        policy,
        max_callee_turns=max_callee_turns,
        understander=_personas_understander(),
        screen=_screened,
    )
    callee = SimulatedCallee(persona, first_name=context.patient_first_name, seed=seed)
    timed = TimedTranscript()
    lines, add = timed.lines, timed.add
    agent_text = runtime.start().text
    add(Speaker.AGENT, agent_text, AGENT_WPM, 0.0)
    if context.direction is CallDirection.INBOUND:
        said: str | None = callee.opening_line()
        add(Speaker.CALLEE, said or "", callee.words_per_minute, callee.pause_seconds())
        turn = runtime.respond(said or "")
        add(Speaker.AGENT, turn.text, AGENT_WPM, AGENT_GAP_S)
    while not runtime.ended:
        said = callee.reply(lines[-1].text)
        if said is None:
            runtime.callee_hung_up()
            break
        add(Speaker.CALLEE, said, callee.words_per_minute, callee.pause_seconds())
        turn = runtime.respond(said)
        add(Speaker.AGENT, turn.text, AGENT_WPM, AGENT_GAP_S)
    ended_by = runtime.ended_by or EndReason.CALLEE_HUNG_UP
    return Conversation(tuple(lines), runtime.events, runtime.outcome, ended_by)


def leave_voicemail(profile: AgentProfile, context: CallContext) -> Conversation:
    """The message for a voicemail box: practice, callback number, generic reason, opt-out."""
    problems = validate_agent(profile)
    if problems:
        raise InvalidAgentProfile(problems)
    text, filtered = compose_voicemail(profile, context)
    start = FIRST_WORDS_AFTER_ANSWER_S
    line = TranscriptLine(
        Speaker.AGENT, text, start, round(start + speech_seconds(text, AGENT_WPM), 2)
    )
    events: tuple[AgentEvent, ...] = (*filtered, VoicemailLeft(), CallEnded(EndReason.VOICEMAIL))
    return Conversation((line,), events, outcome_of(events), EndReason.VOICEMAIL)


@lru_cache(maxsize=1)
def _personas_understander() -> Understander:
    """The learned understander, its answers kept: the personas repeat their scripted lines
    call after call (`MemoUnderstander`), so each line is read once per process."""
    return MemoUnderstander(LearnedUnderstander())


def _screened(
    text: str,
    *,
    practice_name: str,
    allowed: Sequence[str] = (),
    withheld: Sequence[Withheld] = (),
) -> Screened:
    """`screen_utterance`, its answers kept (a pure function of its arguments): the agent
    says the same scripted lines to the personas call after call (~85% repeats)."""
    return _screen_kept(text, practice_name, tuple(allowed), tuple(withheld))


@lru_cache(maxsize=4096)
def _screen_kept(
    text: str, practice_name: str, allowed: tuple[str, ...], withheld: tuple[Withheld, ...]
) -> Screened:
    return screen_utterance(text, practice_name=practice_name, allowed=allowed, withheld=withheld)


VOICEMAIL_BOX = "voicemail_box"  # the callee of a call a voicemail box answered


def simulated_conversation(session: AgentSession, callee: str, contact_id: int) -> Conversation:
    """The conversation of an answered call whose callee is simulated (the sandbox carrier):
    a persona talking with the agent, or the agent's message to a voicemail box.

    Deterministic, so the carrier (which times the call by it) and Ringfence (which stores the
    transcript and applies the outcome when the call ends) play the same conversation. It
    always uses the embedded scripted policy: a model would make the simulation
    non-deterministic. Being a pure function of its arguments, the play is kept (a bounded
    memo, `_PLAYED`): the call's completion in the same process reuses the conversation its
    dial played instead of playing it again (half the simulated day's agent time).
    """
    key = (json.dumps(session_to_json(session), sort_keys=True), callee, contact_id)
    with _PLAYED_LOCK:
        played = _PLAYED.get(key)
        if played is not None:
            _PLAYED.move_to_end(key)
            return played
    if callee == VOICEMAIL_BOX:
        played = leave_voicemail(session.profile, session.context)
    else:
        played = play_conversation(
            session.profile, session.context, ScriptedPolicy(), callee, seed=contact_id
        )
    with _PLAYED_LOCK:
        _PLAYED[key] = played
        while len(_PLAYED) > _PLAYED_KEPT:
            _PLAYED.popitem(last=False)
    return played


# Conversations played lately, by (the session as canonical JSON, callee, contact): enough for
# every call a busy tick dials to still be here when it completes minutes later (~4 KB each).
_PLAYED_KEPT: Final = 8192
_PLAYED: OrderedDict[tuple[str, str, int], Conversation] = OrderedDict()
_PLAYED_LOCK = threading.Lock()
