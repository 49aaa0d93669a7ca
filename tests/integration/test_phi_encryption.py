"""PHI at rest: transcripts and recordings are unreadable without the keys, read back whole
with them, fail clearly with the wrong ones, and survive a key rotation with nothing lost."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import JSON, bindparam, select, text, update
from sqlalchemy.exc import StatementError

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.crypto import PhiCipherNotConfigured
from ringfence.adapters.db.engine import make_engine, make_session_factory
from ringfence.adapters.phi_cipher import PhiCipher, PhiDecryptError, generate_key
from ringfence.adapters.recording_store import (
    read_recording_bytes,
    recording_file,
)
from ringfence.bootstrap import Container, bootstrap
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.services.phi_rotation import check_keys, count_items, rotate_all
from ringfence.services.recordings import (
    render_pending,
)
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.phi_calls import SECRET_WORDS, TURNS, HummingVoice, recorded_call, tone_wav

DAY = date(2026, 11, 20)
Keyed = Callable[..., Container]  # keys, newest first -> a container that uses them


def raw_turns(container: Container, job_id: int) -> str:
    """`call_transcripts.turns` as the database holds it, read with plain SQL."""
    with container.engine.connect() as conn:
        value = conn.execute(
            text("SELECT CAST(turns AS TEXT) FROM call_transcripts WHERE job_id = :job"),
            {"job": job_id},
        ).scalar_one()
    return str(value)


def turns_of(container: Container, job_id: int) -> object:
    with container.uow() as uow:
        return uow.session.scalars(
            select(CallTranscript.turns).where(CallTranscript.job_id == job_id)
        ).one()


@pytest.fixture
def keyed(database_url: str, clock: VirtualClock) -> Iterator[Keyed]:
    """Containers on the test database with the keys a test names (newest first)."""
    built: list[Container] = []

    def make(*keys: str) -> Container:
        settings = Settings(database_url=database_url, phi_keys=SecretStr(",".join(keys)))
        container = bootstrap(settings, clock=clock)
        built.append(container)
        return container

    yield make
    for container in built:
        container.close()


def test_transcripts_are_stored_as_tokens_and_read_back_whole(
    container: Container, tenant: Tenant
) -> None:
    job = CallBook(container, tenant).call(None, day=DAY, turns=TURNS)

    stored = raw_turns(container, job)
    # Words of six letters or more: a shorter one can turn up in base64 by chance.
    for word in ["Whitfield", "filler", "dissolution", "Tuesday", "speaker", "callee"]:
        assert word not in stored
    token = json.loads(stored)
    assert isinstance(token, str)
    assert token.startswith("gAAAAA")  # a Fernet token (version 0x80)
    assert turns_of(container, job) == TURNS


def test_plaintext_from_before_encryption_is_still_read(
    container: Container, tenant: Tenant
) -> None:
    job = CallBook(container, tenant).call(None, day=DAY, turns=[])
    with container.engine.begin() as conn:
        conn.execute(
            text("UPDATE call_transcripts SET turns = :turns WHERE job_id = :job").bindparams(
                bindparam("turns", type_=JSON)
            ),
            {"turns": TURNS, "job": job},
        )
    assert SECRET_WORDS in raw_turns(container, job)
    assert turns_of(container, job) == TURNS


def test_recordings_are_encrypted_on_disk_and_served_decrypted(
    container: Container, tenant: Tenant, tmp_path: Path
) -> None:
    job = CallBook(container, tenant).call(None, day=DAY, turns=TURNS)
    rendered = render_pending(
        container.session_factory,
        store_dir=tmp_path,
        agent_voice=HummingVoice(),
        callee_voice=HummingVoice(),
        cipher=container.phi_cipher,
    )
    assert rendered == 1
    with container.uow() as uow:
        path = uow.session.scalars(
            select(CallTranscript.recording_path).where(CallTranscript.job_id == job)
        ).one()
    assert path == f"{tenant.account_id}/{job}.wav.enc"

    on_disk = recording_file(tmp_path, path).read_bytes()
    assert not on_disk.startswith(b"RIFF")
    assert b"WAVE" not in on_disk
    with pytest.raises(wave.Error):
        wave.open(io.BytesIO(on_disk)).close()
    with pytest.raises(InvalidToken):  # a key that is not ours cannot open it either
        Fernet(Fernet.generate_key()).decrypt(base64.urlsafe_b64encode(on_disk))
    assert recording_file(tmp_path, path).stat().st_mode & 0o077 == 0

    wav = read_recording_bytes(tmp_path, path, cipher=container.phi_cipher)
    assert wav is not None
    with wave.open(io.BytesIO(wav)) as audio:
        assert audio.getframerate() == 16_000
        assert audio.getnframes() / 16_000 == pytest.approx(TURNS[-1]["end"], abs=0.01)
    assert read_recording_bytes(tmp_path, "1/404.wav.enc", cipher=container.phi_cipher) is None
    assert read_recording_bytes(tmp_path, "../etc/passwd", cipher=container.phi_cipher) is None


def test_the_wrong_key_fails_clearly(
    container: Container, tenant: Tenant, tmp_path: Path, keyed: Keyed
) -> None:
    job = recorded_call(CallBook(container, tenant), tmp_path, day=DAY)
    stranger = keyed(generate_key())

    with (
        pytest.raises(PhiDecryptError, match="does not decrypt with any of the 1 key"),
        stranger.uow() as uow,
    ):
        uow.session.scalars(select(CallTranscript.turns).where(CallTranscript.job_id == job)).one()
    with pytest.raises(PhiDecryptError, match="changed or dropped"):
        read_recording_bytes(
            tmp_path, f"{tenant.account_id}/{job}.wav.enc", cipher=stranger.phi_cipher
        )


def test_an_engine_without_a_cipher_refuses_to_touch_transcripts(
    container: Container, tenant: Tenant, database_url: str
) -> None:
    job = CallBook(container, tenant).call(None, day=DAY, turns=TURNS)
    bare = make_engine(database_url)  # not built by bootstrap: no cipher installed
    sessions = make_session_factory(bare)
    try:
        with sessions() as session, pytest.raises(PhiCipherNotConfigured, match="install_cipher"):
            session.scalars(select(CallTranscript.turns).where(CallTranscript.job_id == job)).one()
        with sessions() as session, pytest.raises(StatementError, match="no PHI cipher"):
            session.execute(
                update(CallTranscript).where(CallTranscript.job_id == job).values(turns=[])
            )
    finally:
        bare.dispose()
    assert turns_of(container, job) == TURNS  # nothing was written in clear


def test_a_key_rotation_re_encrypts_everything_and_the_old_key_can_go(
    container: Container, tenant: Tenant, tmp_path: Path, keyed: Keyed
) -> None:
    old, new = generate_key(), generate_key()
    before = keyed(old)
    book = CallBook(before, tenant)
    wavs = {recorded_call(book, tmp_path, day=DAY, wav=tone_wav(0.1 * n)): n for n in (1, 2)}
    legacy = book.call(None, day=DAY, turns=[], recording=True)  # from before encryption
    (tmp_path / str(tenant.account_id)).mkdir(exist_ok=True)
    legacy_wav = tone_wav(0.3)
    (tmp_path / f"{tenant.account_id}/{legacy}.wav").write_bytes(legacy_wav)
    with before.engine.begin() as conn:
        conn.execute(
            text("UPDATE call_transcripts SET turns = :turns WHERE job_id = :job").bindparams(
                bindparam("turns", type_=JSON)
            ),
            {"turns": TURNS, "job": legacy},
        )
    assert count_items(before.session_factory) == 6

    after = keyed(new, old)
    check = check_keys(after.session_factory, store_dir=tmp_path, cipher=after.phi_cipher)
    assert (check.checked, check.stale, check.unreadable) == (6, 6, 0)
    steps: list[int] = []
    report = rotate_all(
        after.session_factory,
        store_dir=tmp_path,
        cipher=after.phi_cipher,
        batch=2,
        progress=steps.append,
    )
    assert (report.transcripts, report.recordings, report.plaintext_encrypted) == (2, 2, 2)
    assert (report.missing_recordings, report.unreadable) == (0, [])
    assert sum(steps) == 6
    assert check_keys(
        after.session_factory, store_dir=tmp_path, cipher=after.phi_cipher
    ).only_newest_needed
    # The plaintext recording was encrypted under its new name, the plain file is gone.
    assert not (tmp_path / f"{tenant.account_id}/{legacy}.wav").exists()
    assert SECRET_WORDS not in raw_turns(after, legacy)

    only_new = keyed(new)
    for job in [*wavs, legacy]:
        assert turns_of(only_new, job) == TURNS
        with only_new.uow() as uow:
            path = uow.session.scalars(
                select(CallTranscript.recording_path).where(CallTranscript.job_id == job)
            ).one()
        assert path == f"{tenant.account_id}/{job}.wav.enc"
        expected = legacy_wav if job == legacy else tone_wav(0.1 * wavs[job])
        assert read_recording_bytes(tmp_path, path, cipher=only_new.phi_cipher) == expected
        # The dropped key alone opens nothing any more.
        with pytest.raises(PhiDecryptError):
            read_recording_bytes(tmp_path, path, cipher=PhiCipher.from_keys([old]))
    only_old = keyed(old)
    with pytest.raises(PhiDecryptError), only_old.uow() as uow:
        uow.session.scalars(select(CallTranscript.turns)).all()
