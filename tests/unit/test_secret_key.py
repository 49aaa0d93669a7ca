"""The web secret key: from the settings, or generated once and kept private in a file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from ringfence.config import Settings
from ringfence.secret_key import SecretKeyFileError, load_or_create, secret_key


def test_generated_once_then_reused_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"
    first = load_or_create(path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary left


def test_the_setting_wins_and_no_file_is_written(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    settings = Settings(secret_key=SecretStr("k" * 40), secret_key_file=path)
    assert secret_key(settings) == "k" * 40
    assert not path.exists()


def test_unset_setting_uses_the_configured_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "key"
    key = secret_key(Settings(secret_key=None, secret_key_file=path))
    assert path.read_text().strip() == key


def test_a_short_configured_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="secret_key"):
        Settings(secret_key=SecretStr("too-short"))


def test_an_unusable_key_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("\n")
    with pytest.raises(SecretKeyFileError, match="delete it"):
        load_or_create(path)


def test_a_key_written_by_another_process_first_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("x" * 64 + "\n")
    assert load_or_create(path) == "x" * 64


def test_losing_the_race_to_create_keeps_the_winners_key(tmp_path: Path) -> None:
    # Two servers starting at once both find no file; the second link must not replace the
    # first key, or sessions signed by the first server would be refused by both.
    from ringfence.secret_key import _create

    path = tmp_path / "secret.key"
    _create(path)
    winner = path.read_text()
    _create(path)
    assert path.read_text() == winner
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]
