"""Signed, timestamped values (session cookies, CSRF tokens, flash messages) on our clock.

itsdangerous stamps and checks ages with `time.time()`; its signer is given the injected
`Clock` instead, so expiry follows the same time as everything else (and tests can move it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from ringfence.clock import Clock


def _signer_on(clock: Clock) -> type[TimestampSigner]:
    class ClockTimestampSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return ClockTimestampSigner


class SignedValues:
    """Sign JSON-able values for one purpose (`salt`), valid for `max_age`."""

    def __init__(self, secret: str, *, salt: str, max_age: timedelta, clock: Clock) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=salt, signer=_signer_on(clock))
        self.max_age = max_age

    def dumps(self, value: Any) -> str:
        signed: str = self._serializer.dumps(value)
        return signed

    def loads(self, signed: str | None) -> Any | None:
        """The value, or None when it is missing, tampered with, signed for another purpose
        or older than `max_age`: callers treat every such case alike."""
        if not signed:
            return None
        try:
            return self._serializer.loads(signed, max_age=int(self.max_age.total_seconds()))
        except BadData:
            return None
