"""Calls that carry PHI for the PHI-protection tests: a transcript whose words a test can look
for, and a recording stored the way the renderer stores it (encrypted, `.wav.enc`)."""

from __future__ import annotations

from array import array
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import update

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.recording_store import (
    encode_wav,
    recording_file,
    recording_path_for,
    seal,
    write_atomically,
)
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallOutcome
from ringfence.speech.contracts import Audio
from tests.dashboard_calls import CallBook

SECRET_WORDS = "Jane Whitfield filler dissolution on Tuesday"
TURNS: list[dict[str, Any]] = [
    {"speaker": "agent", "text": "Hi, Glow Aesthetics calling for Jane.", "start": 0.5, "end": 2.5},
    {"speaker": "callee", "text": SECRET_WORDS, "start": 3.0, "end": 5.0},
]


class HummingVoice:
    """A fake voice: a quiet square wave, 0.1 s a word, at 16 kHz."""

    @property
    def name(self) -> str:
        return "hum"

    def synthesize(self, text: str) -> Audio:
        frames = 1600 * len(text.split())
        samples = array("h", (300 if (i // 20) % 2 else -300 for i in range(frames)))
        return Audio(pcm=samples.tobytes(), sample_rate=16_000)


def tone_wav(seconds: float = 0.25) -> bytes:
    frames = round(seconds * 16_000)
    samples = array("h", (1000 if (i // 20) % 2 else -1000 for i in range(frames)))
    return encode_wav(Audio(pcm=samples.tobytes(), sample_rate=16_000))


def use_store(container: Container, store: Path) -> None:
    """Serve recordings from `store` (the routes read `container.settings` per request)."""
    container.settings = container.settings.model_copy(update={"recordings_dir": store})


def recorded_call(
    book: CallBook,
    store: Path,
    *,
    day: date,
    turns: list[dict[str, Any]] | None = None,
    wav: bytes | None = None,
    caller_id: str = "+12125550100",
) -> int:
    """A connected call of `day` with a transcript and an encrypted recording; its job id."""
    container, account_id = book.container, book.tenant.account_id
    job_id = book.call(
        CallOutcome.CONNECTED,
        day=day,
        duration=30,
        sentiment="positive",
        turns=TURNS if turns is None else turns,
        recording=True,
        caller_id=caller_id,
    )
    path = recording_path_for(account_id, job_id)
    write_atomically(recording_file(store, path), seal(container.phi_cipher, wav or tone_wav()))
    with container.uow() as uow:
        uow.session.execute(
            update(CallTranscript)
            .where(CallTranscript.job_id == job_id)
            .values(recording_path=path)
        )
        uow.commit()
    return job_id
