"""The test console's agent lines, spoken aloud: the recordings' agent voice reads one stored
line as a WAV when the browser asks for it.

Synthesis takes hundreds of milliseconds, so nothing is spoken when the page renders: each
line's `<audio preload="none">` asks when staff press Play. The text is the stored turn's (the
line shown on the page), never a re-run of the agent, so what is heard is what is read. A
turn's text never changes once written, so the WAV is kept in a small in-memory LRU keyed by
the call, the turn and that text: a replay is instant, and the bound keeps memory (and the
PHI it holds) small. Every lookup still reads the turn through the account's scope first, so
the cache never answers for another account's call.

The voice is loaded once per process, on first use (about half a second for Piper), by the
`load_voice` seam (tests pass a fake). Without any engine, `missing_engine()` gives the
sentence the recordings worker logs, saying what to install.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.recording_store import encode_wav
from ringfence.adapters.speech import default_voices
from ringfence.domain.vocabulary import CallType
from ringfence.services.errors import NotFound
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork
from ringfence.speech.contracts import SpeechEngineUnavailable, TextToSpeech

CACHED_LINES: Final = 32  # about 100 KB a line at 22 kHz: a few MB at most
AGENT: Final = "agent"

VoiceLoader = Callable[[], TextToSpeech]


def recordings_agent_voice() -> TextToSpeech:
    """The voice the call recordings give the agent (Piper if installed, else espeak-ng), at
    its engine's own rate. Raises SpeechEngineUnavailable saying what to install."""
    agent, _callee = default_voices()
    return agent


class ConsoleAudio:
    """Speaks the console's agent lines with one voice, caching the last `cache_size` WAVs.

    Thread-safe: the web app's sync routes run on a thread pool, and a voice speaks for one
    thread at a time (contracts.TextToSpeech), so synthesis is serialised by a lock.
    """

    def __init__(
        self, load_voice: VoiceLoader = recordings_agent_voice, *, cache_size: int = CACHED_LINES
    ) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, got {cache_size}")
        self._load_voice = load_voice
        self._cache_size = cache_size
        self._voice: TextToSpeech | None = None
        self._missing: str | None = None  # installing an engine needs a restart: kept
        self._load_lock = threading.Lock()
        self._speak_lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, int, str], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()

    def missing_engine(self) -> str | None:
        """None when the agent's lines can be spoken; else the sentence saying what to install.
        The first call loads the voice."""
        try:
            self._voice_or_raise()
        except SpeechEngineUnavailable as exc:
            return str(exc)
        return None

    def agent_line_wav(
        self, *, uow: UnitOfWork, scope: TenantScope, call_id: int, turn: int
    ) -> bytes:
        """Turn `turn` (1 = the call's first line) of the account's test call `call_id`,
        spoken as a WAV (PCM16 mono at the voice's own rate).

        NotFound for another account's call, a call that is not a test call, a turn that does
        not exist or is the patient's; SpeechEngineUnavailable when no engine is installed.
        """
        text = _agent_line(uow, scope, call_id, turn)
        key = (call_id, turn, text)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        voice = self._voice_or_raise()
        with self._speak_lock:
            wav = encode_wav(voice.synthesize(text))
        with self._cache_lock:
            self._cache[key] = wav
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return wav

    def _voice_or_raise(self) -> TextToSpeech:
        with self._load_lock:  # two first requests at once load the voice once
            if self._voice is not None:
                return self._voice
            if self._missing is not None:
                raise SpeechEngineUnavailable(self._missing)
            try:
                self._voice = self._load_voice()
            except SpeechEngineUnavailable as exc:
                self._missing = str(exc)
                raise
            return self._voice


def _agent_line(uow: UnitOfWork, scope: TenantScope, call_id: int, turn: int) -> str:
    """The stored text of one of the agent's lines in the account's test call."""
    job = get_owned(uow.session, CallJob, call_id, scope)
    if job.call_type is not CallType.TEST:
        raise NotFound(f"call {call_id} is not a test call")
    turns = uow.session.scalar(select(CallTranscript.turns).where(CallTranscript.job_id == job.id))
    lines = list(turns or [])
    if not 1 <= turn <= len(lines) or str(lines[turn - 1].get("speaker")) != AGENT:
        raise NotFound(f"call {call_id} has no agent line {turn}")
    return str(lines[turn - 1].get("text", ""))
