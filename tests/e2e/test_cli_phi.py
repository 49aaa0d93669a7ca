"""`ringfence phi ...`: rotate the key and drop the old one (key file and setting), purge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import JSON, bindparam, select, text, update
from typer.testing import CliRunner, Result

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.orm import Account
from ringfence.adapters.phi_cipher import PhiCipher, generate_key
from ringfence.adapters.recording_store import (
    read_recording_bytes,
)
from ringfence.bootstrap import Container, bootstrap
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.entrypoints.cli.phi import phi_app
from ringfence.phi_keys import KeyFile
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.phi_calls import TURNS, recorded_call, tone_wav

TODAY = date(2026, 11, 26)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "phi.keys"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
def writer(
    container: Container, database_url: str, keys: Path, store: Path, clock: VirtualClock
) -> Iterator[Container]:
    """The app's side: the test database (wiped by `container`) with the CLI's key file."""
    settings = Settings(database_url=database_url, phi_key_file=keys, recordings_dir=store)
    built = bootstrap(settings, clock=clock)
    yield built
    built.close()


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(phi_app, list(args), env=env)


@pytest.fixture
def env(database_url: str, keys: Path, store: Path) -> dict[str, str]:
    return {
        "RINGFENCE_DATABASE_URL": database_url,
        "RINGFENCE_PHI_KEY_FILE": str(keys),
        "RINGFENCE_RECORDINGS_DIR": str(store),
    }


def write_plaintext(container: Container, job_id: int) -> None:
    with container.engine.begin() as conn:
        conn.execute(
            text("UPDATE call_transcripts SET turns = :turns WHERE job_id = :job").bindparams(
                bindparam("turns", type_=JSON)
            ),
            {"turns": TURNS, "job": job_id},
        )


def test_generate_key_prints_a_fernet_key(env: dict[str, str]) -> None:
    result = run(env, "generate-key")
    assert result.exit_code == 0
    Fernet(result.stdout.strip().encode())


def test_rotating_the_key_file_then_dropping_the_old_key(
    env: dict[str, str], writer: Container, tenant: Tenant, keys: Path, store: Path
) -> None:
    book = CallBook(writer, tenant)
    job = recorded_call(book, store, day=TODAY)
    legacy = book.call(None, day=TODAY, turns=[])
    write_plaintext(writer, legacy)
    [old] = KeyFile(keys).keys()

    refused = run(env, "drop-old-keys")
    assert refused.exit_code == 1
    assert "1 of 3 transcripts and recordings still need an older key" in refused.stderr
    assert KeyFile(keys).keys() == [old]

    rotated = run(env, "rotate-key")
    assert rotated.exit_code == 0, rotated.output
    assert "New key put first" in rotated.stdout
    assert "Transcripts re-encrypted" in rotated.stdout
    assert "ringfence phi drop-old-keys" in rotated.stdout
    new, kept = KeyFile(keys).keys()
    assert kept == old

    dropped = run(env, "drop-old-keys")
    assert dropped.exit_code == 0, dropped.output
    assert "1 older key(s) dropped" in dropped.stdout
    assert KeyFile(keys).keys() == [new]
    # The running app follows the file: everything reads with the new key alone.
    with writer.uow() as uow:
        turns = uow.session.scalars(select(CallTranscript.turns).order_by(CallTranscript.id))
        assert list(turns) == [TURNS, TURNS]
    path = f"{tenant.account_id}/{job}.wav.enc"
    assert read_recording_bytes(store, path, cipher=PhiCipher.from_keys([new])) == tone_wav()


def test_with_keys_in_the_setting_the_operator_drops_them(
    env: dict[str, str],
    container: Container,
    database_url: str,
    tenant: Tenant,
    store: Path,
    clock: VirtualClock,
) -> None:
    old, new = generate_key(), generate_key()
    before = bootstrap(Settings(database_url=database_url, phi_keys=SecretStr(old)), clock=clock)
    try:
        recorded_call(CallBook(before, tenant), store, day=TODAY)
    finally:
        before.close()
    env = {**env, "RINGFENCE_PHI_KEYS": f"{new},{old}"}

    rotated = run(env, "rotate-key")
    assert rotated.exit_code == 0, rotated.output
    assert "first key of RINGFENCE_PHI_KEYS" in rotated.stdout
    checked = run(env, "drop-old-keys")
    assert checked.exit_code == 0, checked.output
    assert "the others can be removed from it" in checked.stdout
    assert run({**env, "RINGFENCE_PHI_KEYS": new}, "drop-old-keys").exit_code == 0
    broken = run({**env, "RINGFENCE_PHI_KEYS": "not-a-key"}, "purge")
    assert broken.exit_code == 2
    assert "not a Fernet key" in broken.stderr


def test_purge_applies_the_retention_policies(
    env: dict[str, str], writer: Container, tenant: Tenant, store: Path
) -> None:
    # The command runs on the system clock: a call far older than any policy.
    job = recorded_call(CallBook(writer, tenant), store, day=TODAY - timedelta(days=800))
    with writer.uow() as uow:
        uow.session.execute(
            update(Account).where(Account.id == tenant.account_id).values(phi_retention_days=365)
        )
        uow.commit()

    result = run(env, "purge")
    assert result.exit_code == 0, result.output
    assert "Purged 1 transcript(s) and 1 recording(s)." in result.stdout
    assert not (store / f"{tenant.account_id}/{job}.wav.enc").exists()
    assert run(env, "purge").stdout.startswith("Purged 0 transcript(s)")
