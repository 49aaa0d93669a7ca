"""PHI and key files are owner-only (finding 6 / item 7, Low).

Before: the SQLite file and its WAL were 0644 and recording folders 0755. Now `serve`,
`worker` and `demo` set the umask to 077 before they create anything, and warn at start-up
about what already exists readable by others, with the chmod that fixes it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ringfence.config import Settings
from ringfence.file_modes import loose_files, owner_only_umask, sensitive_paths, warnings_for


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'ringfence.db'}",
        recordings_dir=tmp_path / "recordings",
        secret_key_file=tmp_path / "keys" / "secret.key",
    )


def test_files_made_after_start_up_are_owner_only(tmp_path: Path) -> None:
    previous = owner_only_umask()
    try:
        (tmp_path / "recordings").mkdir()
        (tmp_path / "ringfence.db").write_bytes(b"")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "recordings").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "ringfence.db").stat().st_mode) == 0o600
    assert loose_files(sensitive_paths(_settings(tmp_path))) == []


def test_what_others_can_read_is_named_with_its_fix(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    (tmp_path / "ringfence.db").write_bytes(b"")
    (tmp_path / "ringfence.db-wal").write_bytes(b"")
    (tmp_path / "recordings").mkdir()
    os.chmod(tmp_path / "ringfence.db", 0o644)
    os.chmod(tmp_path / "ringfence.db-wal", 0o640)
    os.chmod(tmp_path / "recordings", 0o755)
    lines = warnings_for(settings)
    assert len(lines) == 3
    assert any("ringfence.db is -rw-r--r--" in line and "chmod 600" in line for line in lines)
    assert any("ringfence.db-wal" in line for line in lines)
    assert any("recordings is drwxr-xr-x" in line and "chmod 700" in line for line in lines)


def test_the_key_files_are_checked_only_when_they_hold_the_keys(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.secret_key_file in sensitive_paths(settings)
    assert tmp_path / "keys" / "phi.keys" in sensitive_paths(settings)
    postgres = Settings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        secret_key="x" * 40,
        phi_keys="k" * 44,
        recordings_dir=tmp_path / "recordings",
    )
    assert sensitive_paths(postgres) == [tmp_path / "recordings"]
