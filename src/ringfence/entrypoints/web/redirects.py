"""Where to send a browser after sign-in: only to a path on this site (no open redirect)."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode, urlsplit

HOME: Final = "/app/voice-ai"
LOGIN: Final = "/login"
_MAX_LENGTH: Final = 2048


def safe_next(candidate: str | None, *, default: str = HOME) -> str:
    """`candidate` if it is a relative path on this site, else `default`.

    Refused: absolute URLs, scheme-relative ones ("//evil.example"), and backslashes or control
    characters, which some browsers read as "//" or drop ("/\\evil.example", "/\\tevil").
    """
    if not candidate or len(candidate) > _MAX_LENGTH:
        return default
    if not candidate.startswith("/") or candidate.startswith("//"):
        return default
    if "\\" in candidate or any(ord(c) < 0x20 or ord(c) == 0x7F for c in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate


def login_url(next_path: str) -> str:
    """The sign-in page, set to come back to `next_path` afterwards."""
    return f"{LOGIN}?{urlencode({'next': next_path})}"
