"""The PHI keys: the cipher's rotation rules, the key file made on first use and re-read when a
rotation changes it, clear errors for unusable keys, and the retention rule."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from ringfence.adapters.phi_cipher import PhiCipher, PhiDecryptError, PhiKeyError, generate_key
from ringfence.config import Settings
from ringfence.domain.phi import describe_policy, policy_label, retention_cutoff
from ringfence.phi_keys import KeyFile, add_key, keep_newest, key_file, load_phi_cipher


def test_the_newest_key_encrypts_and_every_key_decrypts() -> None:
    old, new = generate_key(), generate_key()
    token = PhiCipher.from_keys([old]).encrypt(b"Botox at 2 PM")
    both = PhiCipher.from_keys([new, old])
    assert both.decrypt(token) == b"Botox at 2 PM"
    assert not both.is_current(token)
    rotated = both.rotate(token)
    assert both.is_current(rotated)
    assert PhiCipher.from_keys([new]).decrypt(rotated) == b"Botox at 2 PM"
    with pytest.raises(PhiDecryptError, match="changed or dropped"):
        PhiCipher.from_keys([old]).decrypt(rotated)
    assert both.is_current(both.encrypt(b"x"))


def test_unusable_keys_are_named() -> None:
    with pytest.raises(PhiKeyError, match="holds no PHI key"):
        PhiCipher.from_keys([], origin="RINGFENCE_PHI_KEYS")
    with pytest.raises(PhiKeyError, match="PHI key 2 of RINGFENCE_PHI_KEYS is not a Fernet key"):
        PhiCipher.from_keys([generate_key(), "hunter2"], origin="RINGFENCE_PHI_KEYS")
    settings = Settings(phi_keys=SecretStr(f"{generate_key()}, nope"))
    with pytest.raises(PhiKeyError, match="key 2 of RINGFENCE_PHI_KEYS"):
        load_phi_cipher(settings)


def test_without_a_setting_a_key_file_is_made_beside_the_secret_key(tmp_path: Path) -> None:
    settings = Settings(secret_key_file=tmp_path / "var" / "secret.key")
    assert key_file(settings) == tmp_path / "var" / "phi.keys"
    cipher = load_phi_cipher(settings)
    path = tmp_path / "var" / "phi.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(KeyFile(path).keys()) == 1
    token = cipher.encrypt(b"kept")
    assert load_phi_cipher(settings).decrypt(token) == b"kept"  # the same key next start
    assert sorted(p.name for p in path.parent.iterdir()) == ["phi.keys"]  # no temporaries


def test_the_setting_wins_and_no_file_is_written(tmp_path: Path) -> None:
    key = generate_key()
    settings = Settings(phi_keys=SecretStr(key), phi_key_file=tmp_path / "phi.keys")
    token = load_phi_cipher(settings).encrypt(b"x")
    assert PhiCipher.from_keys([key]).decrypt(token) == b"x"
    assert not (tmp_path / "phi.keys").exists()


def test_a_running_cipher_follows_a_rotation_of_its_key_file(tmp_path: Path) -> None:
    settings = Settings(phi_key_file=tmp_path / "phi.keys")
    running = load_phi_cipher(settings)
    before = running.encrypt(b"old call")

    new = add_key(settings.phi_key_file or tmp_path)
    assert KeyFile(tmp_path / "phi.keys").keys()[0] == new
    assert stat.S_IMODE((tmp_path / "phi.keys").stat().st_mode) == 0o600
    # Without a restart: the running cipher encrypts with the new key, still reads the old.
    assert running.key_count == 2
    assert PhiCipher.from_keys([new]).decrypt(running.encrypt(b"new call")) == b"new call"
    assert running.decrypt(before) == b"old call"

    assert keep_newest(tmp_path / "phi.keys") == 1
    assert running.key_count == 1
    with pytest.raises(PhiDecryptError):
        running.decrypt(before)


def test_a_deleted_key_file_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(phi_key_file=tmp_path / "phi.keys")
    cipher = load_phi_cipher(settings)
    (tmp_path / "phi.keys").unlink()
    with pytest.raises(PhiKeyError, match="is gone: restore it from a backup"):
        cipher.encrypt(b"x")


def test_the_retention_cutoff_keeps_at_least_the_policy() -> None:
    now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    assert retention_cutoff(now, 30) == now - timedelta(days=30)
    with pytest.raises(ValueError, match="30, 90, 365"):
        retention_cutoff(now, 45)
    assert policy_label(90) == "retention 90 days"
    assert describe_policy(policy_label(365)) == "the 365-day policy"
    assert describe_policy("legal hold") == "the policy “legal hold”"
