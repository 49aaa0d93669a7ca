"""Encrypted columns: PHI is stored as Fernet tokens, and every read and write goes through here.

`EncryptedJSON` is a drop-in for `JSON`: code keeps reading and assigning plain lists and
dicts, and the database only ever sees a token. The token is stored as a JSON *string* in the
same JSON column, so the column's type, its triggers and its indexes stay as they were, and a
value written before encryption existed (a JSON list or object: the column held plaintext
until migration 0011) is still read, as is, until `ringfence phi rotate-key` encrypts it. A
string in the column is always a token: plaintext PHI was never stored as a bare string.

A column type cannot be handed the container, so the cipher is registered per engine (by
its dialect, which SQLAlchemy passes to every conversion) when `bootstrap` builds the engine.
Per engine rather than per process: two containers in one process (tests, a simulation's
scratch database) can never read each other's data with the wrong key by accident. Using an
engine that has no cipher fails loudly, never silently stores plaintext.
"""

from __future__ import annotations

import json
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, Dialect, Engine
from sqlalchemy.types import TypeDecorator

from ringfence.adapters.phi_cipher import PhiCipher

_CIPHERS: WeakKeyDictionary[Dialect, PhiCipher] = WeakKeyDictionary()


class PhiCipherNotConfigured(RuntimeError):
    """An engine without a PHI cipher was asked to read or write an encrypted column."""


def install_cipher(engine: Engine, cipher: PhiCipher) -> None:
    """Encrypt and decrypt this engine's PHI columns with `cipher` (done by `bootstrap`)."""
    _CIPHERS[engine.dialect] = cipher


def engine_cipher(engine: Engine) -> PhiCipher:
    return cipher_for(engine.dialect)


def cipher_for(dialect: Dialect) -> PhiCipher:
    try:
        return _CIPHERS[dialect]
    except KeyError:
        raise PhiCipherNotConfigured(
            "this database engine has no PHI cipher, so transcripts can be neither written "
            "nor read: build it with ringfence.bootstrap.bootstrap(), or call "
            "ringfence.adapters.db.crypto.install_cipher(engine, cipher) after make_engine()"
        ) from None


def is_token(stored: object) -> bool:
    """Whether a raw stored value (as the driver returns it) is encrypted, not legacy JSON."""
    return isinstance(stored, str)


class EncryptedJSON(TypeDecorator[Any]):
    """JSON-serialisable values, stored as a Fernet token of their compact JSON."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return cipher_for(dialect).encrypt(plain.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not is_token(value):
            return value  # legacy plaintext, until `ringfence phi rotate-key` encrypts it
        return json.loads(cipher_for(dialect).decrypt(str(value).encode("ascii")))
