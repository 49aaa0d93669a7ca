"""Call recordings: a playable WAV of each stored transcript, spoken by local TTS voices.

Functional core, imperative shell: `render_call` turns transcript lines into audio (no I/O
beyond the voices themselves), `encode_wav` makes the file bytes, and `render_pending` is the
shell that finds transcripts without a recording, renders them, stores the files and records
where they are.

How transcript offsets map to audio: each turn's speech starts exactly at its `start`
offset (seconds after the call was answered), so the dashboard's transcript timestamps and
the audio player's clock agree. Between turns is silence. A voice that speaks a turn faster
than its `start`..`end` window leaves silence after it; one that speaks slower runs on
past `end`, and if it reaches the next turn's start the two are mixed (heard at once, like
crosstalk on a real line) rather than cut off or moved, so no words are lost and no offset
shifts. The recording lasts until the last `end` offset, or until the last speech stops if
that is later. The bundled Piper voice speaks ~190 words a minute, faster than the 150-165
the transcripts are timed at, so overlaps are rare.

Format: WAV, 16-bit mono PCM at 16 kHz (wideband, "HD voice"): 32,000 bytes a second, about
1.9 MB a minute. `sample_rate=8000` (telephone narrowband) halves that to about 0.96 MB a
minute. Every browser plays WAV natively, and WAV needs only the stdlib to write.

At rest a recording is PHI, so the file holds the WAV encrypted (Fernet, with the same keys
as the transcripts) and is named `<account_id>/<job_id>.wav.enc`. The Fernet token is kept
base64-decoded: the same bytes, a third smaller. `read_recording_bytes` gives the WAV back
for the routes that serve it; a file from before encryption (a plain RIFF/WAVE `.wav`) is
still served until `ringfence phi rotate-key` encrypts it.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import CursorResult, select, true, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.crypto import cipher_for
from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.adapters.recording_store import (
    encode_wav,
    recording_file,
    recording_path_for,
    seal,
    write_atomically,
)
from ringfence.agent.callee import TranscriptLine
from ringfence.agent.policies.base import Speaker
from ringfence.speech.contracts import SAMPLE_WIDTH, Audio, TextToSpeech

log = logging.getLogger("ringfence.recordings")

RECORDING_RATE: Final = 16_000
SUPPORTED_RATES: Final = frozenset({8_000, 16_000})
_INT16_MIN: Final = -32_768
_INT16_MAX: Final = 32_767
# array("h") is machine-endian; WAV is little-endian.
_BIG_ENDIAN: Final = array("h", [1]).tobytes() == b"\x00\x01"


@dataclass(frozen=True, slots=True)
class RenderedRecording:
    """Where one recording was stored: `path` is relative to the store directory."""

    job_id: int
    path: str
    seconds: float


# --- the functional core --------------------------------------------------------------------


def transcript_lines(turns: Sequence[Mapping[str, Any]]) -> tuple[TranscriptLine, ...]:
    """The stored JSON turns ({"speaker", "text", "start", "end"}) as typed lines.

    Raises ValueError on a malformed turn (unknown speaker, missing or negative offsets).
    """
    lines: list[TranscriptLine] = []
    for i, turn in enumerate(turns):
        try:
            speaker = Speaker(turn["speaker"])
            start, end = float(turn["start"]), float(turn["end"])
            text = str(turn["text"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"turn {i} is malformed: {exc!r}") from exc
        if not 0 <= start <= end:
            raise ValueError(f"turn {i} has offsets {start}..{end}")
        lines.append(TranscriptLine(speaker, text, start, end))
    return tuple(lines)


def render_call(
    lines: Sequence[TranscriptLine],
    *,
    agent_voice: TextToSpeech,
    callee_voice: TextToSpeech,
    sample_rate: int = RECORDING_RATE,
) -> Audio:
    """The whole call as mono audio at `sample_rate`, each turn's speech at its start offset.

    Overlapping speech is mixed, never moved or cut; the audio lasts until the later of the
    last `end` offset and the end of the last speech (see the module docstring).
    """
    if sample_rate not in SUPPORTED_RATES:
        raise ValueError(f"sample_rate must be one of {sorted(SUPPORTED_RATES)}")
    placed: list[tuple[int, array[int]]] = []
    total = _frames(max((line.end_s for line in lines), default=0.0), sample_rate)
    for line in lines:
        if not line.text.strip():
            continue
        voice = agent_voice if line.speaker is Speaker.AGENT else callee_voice
        speech = resample(voice.synthesize(line.text), sample_rate)
        offset = _frames(line.start_s, sample_rate)
        placed.append((offset, speech))
        total = max(total, offset + len(speech))
    return Audio(pcm=_mix(placed, total), sample_rate=sample_rate)


def resample(audio: Audio, sample_rate: int) -> array[int]:
    """`audio`'s samples at `sample_rate`, by linear interpolation.

    Pure Python (numpy is not a base dependency): about 0.2 s per minute of speech here, small
    next to synthesis. No anti-alias filter: going from Piper's 22.05 kHz to 16 kHz folds
    only the faint 8-11 kHz band; speech at 8 kHz is telephone quality either way.
    """
    samples = _samples(audio.pcm)
    if audio.sample_rate == sample_rate or not samples:
        return samples
    count = len(samples) * sample_rate // audio.sample_rate
    step = audio.sample_rate / sample_rate
    last = len(samples) - 1
    out = array("h", bytes(SAMPLE_WIDTH * count))
    for i in range(count):
        position = i * step
        j = int(position)
        if j >= last:
            out[i] = samples[last]
        else:
            a = samples[j]
            out[i] = int(a + (samples[j + 1] - a) * (position - j))
    return out


def _frames(seconds: float, sample_rate: int) -> int:
    return round(seconds * sample_rate)


def _samples(pcm: bytes) -> array[int]:
    samples = array("h", pcm)
    if _BIG_ENDIAN:
        samples.byteswap()
    return samples


def _mix(placed: Sequence[tuple[int, array[int]]], total: int) -> bytes:
    out = array("h", bytes(SAMPLE_WIDTH * total))
    written_to = 0  # everything from here on is still silence
    for offset, speech in placed:
        end = offset + len(speech)
        if offset >= written_to:
            out[offset:end] = speech  # the usual case: nothing to mix with
        else:
            overlap = min(end, written_to) - offset
            for k in range(overlap):
                out[offset + k] = max(_INT16_MIN, min(_INT16_MAX, out[offset + k] + speech[k]))
            out[offset + overlap : end] = speech[overlap:]
        written_to = max(written_to, end)
    if _BIG_ENDIAN:
        out.byteswap()
    return out.tobytes()


# --- the shell -------------------------------------------------------------------------------


def render_pending(
    session_factory: Callable[[], Session],
    *,
    store_dir: Path,
    agent_voice: TextToSpeech,
    callee_voice: TextToSpeech,
    cipher: PhiCipher | None = None,
    limit: int = 20,
    sample_rate: int = RECORDING_RATE,
) -> int:
    """Render up to `limit` transcripts that have no recording yet; return how many were.

    Newest first (staff open today's calls; a backlog, such as the demo's month of history or
    a worker that was down, must not hold them back), never a purged one. Each recording is
    encrypted with `cipher` (by default the one installed on the sessions' database engine,
    which encrypts the transcripts) and
    written atomically (a temporary file, then `os.replace`) to
    `store_dir/<account_id>/<job_id>.wav.enc`, then its row gets `recording_path` (relative
    to `store_dir`) and `recording_seconds` in a transaction of its own. No transaction is
    held while synthesising. A recording that fails is logged and left without a recording
    for a later pass, and the pass goes on past it to the next. Two workers racing for one row
    write the same file; only the one whose update lands counts it. A transcript purged while
    its recording was being made loses the new file at once.
    """
    if limit <= 0:
        return 0
    rendered = 0
    before_id: int | None = None
    if cipher is None:
        with session_factory() as session:
            cipher = cipher_for(session.get_bind().dialect)
    while rendered < limit:
        with session_factory() as session:
            batch = session.execute(
                select(
                    CallTranscript.id,
                    CallTranscript.account_id,
                    CallTranscript.job_id,
                    CallTranscript.turns,
                )
                .where(
                    CallTranscript.recording_path.is_(None),
                    CallTranscript.purged_at.is_(None),
                    CallTranscript.id < before_id if before_id is not None else true(),
                )
                .order_by(CallTranscript.id.desc())
                .limit(limit - rendered)
            ).all()
        if not batch:
            break
        for transcript_id, account_id, job_id, turns in batch:
            before_id = transcript_id
            try:
                done = _render_one(
                    account_id,
                    job_id,
                    turns,
                    store_dir=store_dir,
                    agent_voice=agent_voice,
                    callee_voice=callee_voice,
                    cipher=cipher,
                    sample_rate=sample_rate,
                )
                with session_factory() as session, session.begin():
                    # An UPDATE always gives a CursorResult; Session.execute is typed loosely.
                    stored = cast(
                        CursorResult[Any],
                        session.execute(
                            update(CallTranscript)
                            .where(
                                CallTranscript.id == transcript_id,
                                CallTranscript.recording_path.is_(None),
                                CallTranscript.purged_at.is_(None),
                            )
                            .values(recording_path=done.path, recording_seconds=done.seconds)
                        ),
                    )
                if not stored.rowcount:
                    _drop_if_purged(session_factory, transcript_id, store_dir, done.path)
            except Exception:
                # One bad transcript or engine hiccup must not block every other recording.
                log.exception("recording of call job %s failed; will retry next pass", job_id)
                continue
            if stored.rowcount:
                rendered += 1
    return rendered


def _drop_if_purged(
    session_factory: Callable[[], Session], transcript_id: int, store_dir: Path, path: str
) -> None:
    # The update lost either to another renderer (whose file is this very file: keep it) or
    # to a retention purge (then nothing may keep the recording).
    with session_factory() as session:
        purged = session.scalar(
            select(CallTranscript.purged_at).where(CallTranscript.id == transcript_id)
        )
    if purged is not None:
        recording_file(store_dir, path).unlink(missing_ok=True)


def _render_one(
    account_id: int,
    job_id: int,
    turns: Sequence[Mapping[str, Any]],
    *,
    store_dir: Path,
    agent_voice: TextToSpeech,
    callee_voice: TextToSpeech,
    cipher: PhiCipher,
    sample_rate: int,
) -> RenderedRecording:
    audio = render_call(
        transcript_lines(turns),
        agent_voice=agent_voice,
        callee_voice=callee_voice,
        sample_rate=sample_rate,
    )
    path = recording_path_for(account_id, job_id)
    write_atomically(recording_file(store_dir, path), seal(cipher, encode_wav(audio)))
    return RenderedRecording(job_id=job_id, path=path, seconds=round(audio.seconds, 2))
