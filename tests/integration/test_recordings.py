"""Call recordings: placing speech at transcript offsets, storing WAVs, serving them safely.

The first part needs no speech engine (a fake voice that hums a tone per word); the real
engines are exercised at the end: Piper (skipped only when the speech extra is not
installed; CI installs it) and espeak-ng (skipped when the program is not on PATH).
"""

from __future__ import annotations

import io
import math
import shutil
import struct
import sys
import wave
from array import array
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.orm import Contact
from ringfence.adapters.recording_store import (
    UnsafeRecordingPath,
    encode_wav,
    read_recording_bytes,
    recording_file,
)
from ringfence.adapters.speech import default_voices
from ringfence.adapters.speech.espeak import EspeakTts, parse_wav
from ringfence.agent.callee import TranscriptLine
from ringfence.agent.policies.base import Speaker
from ringfence.agent.text import sentences
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from ringfence.services.recordings import (
    render_call,
    render_pending,
    transcript_lines,
)
from ringfence.speech.contracts import Audio, AudioChunk, SpeechEngineUnavailable, TextToSpeech
from tests.integration.dispatch.practice import make_practice

ENGINE_RATE = 22_050  # what Piper and espeak-ng produce; the fake does too, to be resampled


class ToneVoice:
    """A fake voice: `seconds_per_word` of a square wave per word, at one amplitude, so a test
    can tell which voice spoke where."""

    def __init__(self, amplitude: int, *, seconds_per_word: float = 0.2) -> None:
        self.amplitude = amplitude
        self.seconds_per_word = seconds_per_word
        self.spoken: list[str] = []

    @property
    def name(self) -> str:
        return f"tone:{self.amplitude}"

    @property
    def sample_rate(self) -> int:
        return ENGINE_RATE

    def synthesize_stream(self, text: str) -> Iterator[AudioChunk]:
        for sentence in sentences(text):
            yield AudioChunk(self.synthesize(sentence).pcm, ENGINE_RATE, sentence)

    def synthesize(self, text: str) -> Audio:
        self.spoken.append(text)
        if "FAIL" in text:
            raise RuntimeError("the engine choked")
        frames = round(len(text.split()) * self.seconds_per_word * ENGINE_RATE)
        # A square wave at 441 Hz: +a for 25 samples, -a for 25.
        samples = array(
            "h", (self.amplitude if (i // 25) % 2 else -self.amplitude for i in range(frames))
        )
        return Audio(pcm=_le(samples), sample_rate=ENGINE_RATE)


def _le(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _samples(audio: Audio) -> array[int]:
    samples = array("h", audio.pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _peak(samples: array[int], rate: int, start_s: float, end_s: float) -> int:
    window = samples[round(start_s * rate) : round(end_s * rate)]
    return max((abs(s) for s in window), default=0)


def _rms(samples: array[int], rate: int, start_s: float, end_s: float) -> float:
    window = samples[round(start_s * rate) : round(end_s * rate)]
    return math.sqrt(sum(s * s for s in window) / len(window)) if window else 0.0


def line(speaker: Speaker, text: str, start: float, end: float) -> TranscriptLine:
    return TranscriptLine(speaker, text, start, end)


AGENT, CALLEE = Speaker.AGENT, Speaker.CALLEE


# --- render_call with a fake voice -----------------------------------------------------------


@pytest.mark.parametrize("rate", [16_000, 8_000])
def test_each_turn_starts_at_its_offset_with_silence_between(rate: int) -> None:
    agent, callee = ToneVoice(8000), ToneVoice(3000)
    lines = [
        line(AGENT, "one two three four five", 0.5, 1.7),  # 1.0 s of speech
        line(CALLEE, "yes please", 2.0, 2.6),  # 0.4 s
        line(AGENT, "goodbye now", 3.0, 3.5),  # 0.4 s
    ]

    audio = render_call(lines, agent_voice=agent, callee_voice=callee, sample_rate=rate)

    samples = _samples(audio)
    assert audio.sample_rate == rate
    assert audio.seconds == pytest.approx(3.5, abs=1 / rate)  # lasts until the last end
    assert _peak(samples, rate, 0.0, 0.5) == 0  # silence until the first word
    assert _peak(samples, rate, 0.5, 1.5) == 8000  # the agent, from exactly 0.5 s
    assert samples[round(0.5 * rate)] != 0
    assert _peak(samples, rate, 1.51, 2.0) == 0  # speech ended at 1.5; silence till 2.0
    assert _peak(samples, rate, 2.0, 2.4) == 3000  # the callee's voice, at its offset
    assert _peak(samples, rate, 2.41, 3.0) == 0
    assert _peak(samples, rate, 3.0, 3.4) == 8000
    assert _peak(samples, rate, 3.41, 3.5) == 0
    assert agent.spoken == ["one two three four five", "goodbye now"]
    assert callee.spoken == ["yes please"]


def test_speech_overrunning_the_next_turn_is_mixed_not_moved() -> None:
    agent, callee = ToneVoice(20_000), ToneVoice(20_000)
    lines = [
        line(AGENT, "a b c d e", 0.0, 0.5),  # 1.0 s of speech in a 0.5 s window
        line(CALLEE, "f g", 0.8, 1.0),  # 0.4 s, starting while the agent still talks
    ]

    audio = render_call(lines, agent_voice=agent, callee_voice=callee)

    samples = _samples(audio)
    # The callee still starts at 0.8 s; where both talk, the samples add (and clip).
    assert _peak(samples, 16_000, 0.0, 0.8) == 20_000
    assert _peak(samples, 16_000, 0.8, 1.0) == 32_768  # clipped to int16's -32768
    # And the recording runs on to the end of the last speech (0.8 + 0.4), past the last end.
    assert audio.seconds == pytest.approx(1.2, abs=0.01)
    assert _peak(samples, 16_000, 1.0, 1.2) == 20_000


def test_empty_and_blank_turns() -> None:
    voice = ToneVoice(1000)
    assert render_call([], agent_voice=voice, callee_voice=voice).frames == 0
    blank = render_call([line(CALLEE, "  ", 0.5, 1.0)], agent_voice=voice, callee_voice=voice)
    assert blank.seconds == pytest.approx(1.0)
    assert max(_samples(blank)) == 0
    assert voice.spoken == []
    assert isinstance(voice, TextToSpeech)  # the fake keeps the same contract


def test_render_call_refuses_an_odd_sample_rate() -> None:
    voice = ToneVoice(1000)
    with pytest.raises(ValueError, match="sample_rate"):
        render_call([], agent_voice=voice, callee_voice=voice, sample_rate=44_100)


def test_encode_wav_writes_16_bit_mono() -> None:
    audio = Audio(pcm=_le(array("h", [0, 1000, -1000, 32767])), sample_rate=8000)
    path_bytes = encode_wav(audio)
    with wave.open(io.BytesIO(path_bytes)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.readframes(10) == audio.pcm
    assert len(path_bytes) == 44 + 8


def test_transcript_lines_parses_stored_turns_and_rejects_bad_ones() -> None:
    stored = [{"speaker": "agent", "text": "Hi", "start": 0.5, "end": 1}]
    assert transcript_lines(stored) == (line(AGENT, "Hi", 0.5, 1.0),)
    bad: list[dict[str, Any]] = [
        {"speaker": "robot", "text": "Hi", "start": 0, "end": 1},
        {"speaker": "agent", "text": "Hi", "start": 0},
        {"speaker": "agent", "text": "Hi", "start": 2, "end": 1},
        {"speaker": "agent", "text": "Hi", "start": -1, "end": 1},
        {"speaker": "agent", "text": "Hi", "start": "soon", "end": 1},
    ]
    for turn in bad:
        with pytest.raises(ValueError, match="turn 0"):
            transcript_lines([turn])


# --- serving files safely --------------------------------------------------------------------


def test_recording_file_stays_inside_the_store(tmp_path: Path) -> None:
    store = tmp_path / "recordings"
    (store / "1").mkdir(parents=True)
    assert recording_file(store, "1/7.wav") == (store / "1" / "7.wav").resolve()

    outside = tmp_path / "secret.txt"
    outside.write_text("no")
    (store / "1" / "link.wav").symlink_to(outside)
    for unsafe in [
        "../secret.txt",
        "1/../../secret.txt",
        "/etc/passwd",
        str(outside),
        "1/link.wav",  # a symlink pointing out
        "..",
        ".",
        "",
        "1\\..\\..\\secret.txt",
        "1/7.wav\x00.png",
    ]:
        with pytest.raises(UnsafeRecordingPath):
            recording_file(store, unsafe)


# --- speech engines: contract bits that need no engine ---------------------------------------


def test_no_engine_at_all_says_what_to_install() -> None:
    with pytest.raises(SpeechEngineUnavailable, match=r"pip install 'ringfence\[speech\]'"):
        default_voices(piper=False, espeak=False)


def test_a_streamed_wav_with_placeholder_sizes_is_parsed() -> None:
    pcm = _le(array("h", [1, -2, 3, -4]))
    # What espeak-ng --stdout writes: it cannot seek back, so both sizes are placeholders.
    header = b"RIFF" + struct.pack("<I", 0x7FFFF024) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
    data = b"data" + struct.pack("<I", 0x7FFFF000) + pcm + b"\x00"  # a stray odd byte
    assert parse_wav(header + fmt + data) == Audio(pcm=pcm, sample_rate=22050)
    with pytest.raises(RuntimeError, match="WAV"):
        parse_wav(b"not a wav at all")


# --- render_pending against the database -----------------------------------------------------


def add_transcript(container: Container, turns: list[dict[str, Any]]) -> tuple[int, int]:
    """A call job with a stored transcript; returns (account_id, job_id)."""
    practice = make_practice(container)
    (job_id,) = practice.enqueue(practice.add_contact("+12125550101"))
    with container.uow() as uow:
        uow.session.add(
            CallTranscript(
                account_id=practice.account_id,
                job_id=job_id,
                turns=turns,
                created_at=uow.clock.now(),
            )
        )
        uow.commit()
    return practice.account_id, job_id


def add_more(container: Container, account_id: int, turns: list[dict[str, Any]]) -> int:
    """Another call job (and transcript) in an existing practice; returns the job id."""

    with container.uow() as uow:
        contact_id = uow.session.scalars(
            select(Contact.id).where(Contact.account_id == account_id)
        ).first()
        assert contact_id is not None
        (job_id,) = enqueue_calls(
            uow.session,
            account_id=account_id,
            requests=[
                CallRequest(contact_id=contact_id, purpose=CallPurpose.APPOINTMENT_CONFIRMATION)
            ],
            now=uow.clock.now() + timedelta(minutes=1),
        )
        uow.session.add(
            CallTranscript(
                account_id=account_id, job_id=job_id, turns=turns, created_at=uow.clock.now()
            )
        )
        uow.commit()
    return job_id


def stored(container: Container, job_id: int) -> tuple[str | None, float | None]:
    with container.uow() as uow:
        row = uow.session.execute(
            select(CallTranscript.recording_path, CallTranscript.recording_seconds).where(
                CallTranscript.job_id == job_id
            )
        ).one()
    return row[0], row[1]


SHORT_CALL: list[dict[str, Any]] = [
    {
        "speaker": "agent",
        "text": "Hi, this is Glow Aesthetics calling for Pat.",
        "start": 0.5,
        "end": 3.2,
    },
    {"speaker": "callee", "text": "Yes, speaking.", "start": 3.8, "end": 4.8},
    {"speaker": "agent", "text": "Great, see you on Tuesday. Goodbye.", "start": 5.4, "end": 7.6},
]


def read_wav(container: Container, store: Path, path: str) -> Audio:
    """A stored recording, decrypted (the file itself is encrypted: tests/integration/
    test_phi_encryption.py)."""
    data = read_recording_bytes(store, path, cipher=container.phi_cipher)
    assert data is not None
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return Audio(pcm=wav.readframes(wav.getnframes()), sample_rate=wav.getframerate())


def test_render_pending_stores_files_and_a_failure_does_not_stop_the_rest(
    container: Container, tmp_path: Path
) -> None:
    account_id, first = add_transcript(container, SHORT_CALL)
    broken = add_more(
        container, account_id, [{"speaker": "agent", "text": "FAIL", "start": 0, "end": 1}]
    )
    malformed = add_more(
        container, account_id, [{"speaker": "nobody", "text": "x", "start": 0, "end": 1}]
    )
    last = add_more(container, account_id, SHORT_CALL[:1])
    agent, callee = ToneVoice(9000), ToneVoice(4000)
    store = tmp_path / "store"

    assert (
        render_pending(
            container.session_factory, store_dir=store, agent_voice=agent, callee_voice=callee
        )
        == 2
    )

    path, seconds = stored(container, first)
    assert path == f"{account_id}/{first}.wav.enc"
    assert seconds == pytest.approx(7.6)
    audio = read_wav(container, store, path)
    assert audio.sample_rate == 16_000
    assert audio.seconds == pytest.approx(7.6)
    assert stored(container, last) == (f"{account_id}/{last}.wav.enc", pytest.approx(3.2))
    # The two that failed are left for a later pass, and no temporary files linger.
    assert stored(container, broken) == (None, None)
    assert stored(container, malformed) == (None, None)
    assert sorted(p.name for p in (store / str(account_id)).iterdir()) == sorted(
        [f"{first}.wav.enc", f"{last}.wav.enc"]
    )

    # A second pass retries only the failures, and renders nothing new.
    agent.spoken.clear()
    assert (
        render_pending(
            container.session_factory, store_dir=store, agent_voice=agent, callee_voice=callee
        )
        == 0
    )
    assert agent.spoken == ["FAIL"]


def test_render_pending_honours_its_limit(container: Container, tmp_path: Path) -> None:
    account_id, first = add_transcript(container, SHORT_CALL[:1])
    second = add_more(container, account_id, SHORT_CALL[:1])
    voice = ToneVoice(5000)
    store = tmp_path / "store"

    assert (
        render_pending(
            container.session_factory,
            store_dir=store,
            agent_voice=voice,
            callee_voice=voice,
            limit=1,
        )
        == 1
    )
    # Newest first: today's calls are the ones staff open.
    assert stored(container, second)[0] is not None
    assert stored(container, first) == (None, None)
    assert (
        render_pending(
            container.session_factory, store_dir=store, agent_voice=voice, callee_voice=voice
        )
        == 1
    )


# --- the real engines ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def piper_voices() -> tuple[TextToSpeech, TextToSpeech]:
    pytest.importorskip(
        "piper", reason="piper-tts is not installed (pip install 'ringfence[speech]')"
    )
    # Piper for both speakers, so the result does not depend on espeak-ng being installed.
    return default_voices(espeak=False)


def test_render_pending_with_the_real_piper_voice(
    container: Container, tmp_path: Path, piper_voices: tuple[TextToSpeech, TextToSpeech]
) -> None:
    agent_voice, callee_voice = piper_voices
    assert agent_voice.name.startswith("piper:")
    account_id, job_id = add_transcript(container, SHORT_CALL)
    store = tmp_path / "recordings"

    rendered = render_pending(
        container.session_factory,
        store_dir=store,
        agent_voice=agent_voice,
        callee_voice=callee_voice,
    )

    assert rendered == 1
    path, seconds = stored(container, job_id)
    assert path is not None
    assert seconds is not None
    file = store / str(account_id) / f"{job_id}.wav.enc"
    assert recording_file(store, path) == file.resolve()
    audio = read_wav(container, store, path)
    assert audio.sample_rate == 16_000
    last_end = SHORT_CALL[-1]["end"]
    assert audio.seconds == pytest.approx(last_end, abs=1.5)
    assert seconds == pytest.approx(audio.seconds, abs=0.01)
    samples = _samples(audio)
    assert _peak(samples, 16_000, 0.0, SHORT_CALL[0]["start"]) == 0  # before the first word
    for turn in SHORT_CALL:  # someone is audibly talking during every turn
        assert _rms(samples, 16_000, turn["start"], turn["end"]) > 300, turn["text"]

    # Nothing is left to render, and the store refuses to serve anything outside itself.
    assert (
        render_pending(
            container.session_factory,
            store_dir=store,
            agent_voice=agent_voice,
            callee_voice=callee_voice,
        )
        == 0
    )
    with pytest.raises(UnsafeRecordingPath):
        recording_file(store, f"../{path}")


def test_piper_fallback_callee_is_the_same_voice_deeper_and_slower(
    piper_voices: tuple[TextToSpeech, TextToSpeech],
) -> None:
    agent_voice, callee_voice = piper_voices
    text = "Yes, that works for me."
    agent, callee = agent_voice.synthesize(text), callee_voice.synthesize(text)
    assert agent.sample_rate == ENGINE_RATE
    # Labelled at a lower rate: played at any fixed rate, it is ~2 semitones lower.
    assert callee.sample_rate == round(ENGINE_RATE * 0.89)
    # Piper's durations are random (within ~10%); the pitch alone makes it ~12% longer.
    assert callee.seconds > agent.seconds
    assert agent_voice.synthesize("").frames == 0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_speaks_and_takes_text_literally() -> None:
    voice = EspeakTts()
    audio = voice.synthesize("--help -v xx Yes, speaking.")  # text, not options
    assert audio.sample_rate == ENGINE_RATE
    assert 1.0 < audio.seconds < 6.0
    assert max(abs(s) for s in _samples(audio)) > 1000
    assert isinstance(voice, TextToSpeech)
