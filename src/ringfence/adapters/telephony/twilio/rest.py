"""The part of Twilio's REST client the carrier uses, as Protocols (the SDK, or the tests' fake
of it, is injected), and how its errors read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Protocol

INSTALL_HINT: Final = "the Twilio carrier needs the twilio package: pip install 'ringfence[twilio]'"


class TwilioUnavailable(RuntimeError):
    """The twilio package is not installed."""


# --- The REST surface used (twilio.rest.Client has it; so does the tests' fake) -------------


class TwilioCallResource(Protocol):
    """A Call resource, as `twilio.rest.api.v2010.account.call.CallInstance` exposes it."""

    @property
    def sid(self) -> str | None: ...

    @property
    def status(self) -> str | None: ...

    @property
    def date_created(self) -> datetime | None: ...

    @property
    def end_time(self) -> datetime | None: ...

    @property
    def duration(self) -> str | None: ...

    @property
    def answered_by(self) -> str | None: ...


class TwilioCallContext(Protocol):
    def fetch(self) -> TwilioCallResource: ...

    def update(self, *, status: str = ..., twiml: str = ...) -> TwilioCallResource: ...


class TwilioCallList(Protocol):
    def create(
        self,
        *,
        to: str,
        from_: str,
        twiml: str,
        status_callback: str,
        status_callback_event: Sequence[str],
        status_callback_method: str,
        timeout: int,
        time_limit: int,
        machine_detection: str = ...,
        async_amd: str = ...,
        async_amd_status_callback: str = ...,
        async_amd_status_callback_method: str = ...,
    ) -> TwilioCallResource: ...

    def list(self, *, to: str, from_: str, limit: int) -> Sequence[TwilioCallResource]: ...

    def __call__(self, sid: str) -> TwilioCallContext: ...


class TwilioRestClient(Protocol):
    @property
    def calls(self) -> TwilioCallList: ...


def rest_error(exc: BaseException) -> tuple[int, int | None, str] | None:
    """(HTTP status, Twilio error code, message) when `exc` is Twilio's REST error."""
    try:
        from twilio.base.exceptions import TwilioRestException
    except ImportError:
        return None
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        return int(exc.status), code, str(exc.msg)
    return None


def describe_rest_error(status: int, code: int | None, message: str) -> str:
    text = f"Twilio {code}: {message}" if code else f"Twilio HTTP {status}: {message}"
    return text[:200]
