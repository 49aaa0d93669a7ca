"""What Twilio posts back: the `X-Twilio-Signature` checked, then status and AMD callbacks
recorded."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.carriers import CarrierCall
from ringfence.adapters.telephony.call_records import rows_of
from ringfence.adapters.telephony.twilio.records import (
    record,
    record_dial_status,
    state_of_row,
)
from ringfence.adapters.telephony.twilio.rest import INSTALL_HINT
from ringfence.adapters.telephony.twilio.state import (
    NOT_PLACED,
    CallState,
    Observation,
    observation_of_callback,
    transfer_failure_of,
)
from ringfence.adapters.telephony.twilio.twiml import websocket_url
from ringfence.clock import Clock
from ringfence.domain.vocabulary import CarrierKind

_TWILIO = rows_of(CarrierKind.TWILIO)

log = logging.getLogger("ringfence.twilio")


# --- Callbacks ------------------------------------------------------------------------------


class _SignedParams:
    """Form fields in the shape RequestValidator reads repeated fields from (`getlist`)."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[str]:
        return iter({name for name, _ in self._items})

    def __len__(self) -> int:
        return len(self._items)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]


def dial_result(form: Mapping[str, str]) -> tuple[str, str]:
    """The CallSid and DialCallStatus of a `<Dial>` action callback; ValueError without them."""
    sid, dial_status = form.get("CallSid", ""), form.get("DialCallStatus", "")
    if not sid or not dial_status or len(dial_status) > 32:
        raise ValueError("a dial callback needs CallSid and DialCallStatus")
    return sid, dial_status


class TwilioWebhooks:
    """What Twilio sends back: request signatures checked, then status and AMD recorded.

    Signatures are HMAC-SHA1 of the URL Twilio requested (rebuilt from `public_base_url`, as a
    proxy in front of this server changes the one it sees) and the sorted form fields, keyed
    with the Auth Token. Without a token nothing verifies, so every callback is refused.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        *,
        auth_token: str | None,
        public_base_url: str | None,
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._token = auth_token
        self._base = public_base_url.rstrip("/") if public_base_url else None

    def public_url(self, seen_url: str) -> str:
        """The URL Twilio requested, given the one this server saw (path and query kept)."""
        if self._base is None:
            return seen_url
        parts = urlsplit(seen_url)
        return self._base + parts.path + (f"?{parts.query}" if parts.query else "")

    def verify(self, url: str, form: Sequence[tuple[str, str]], signature: str | None) -> bool:
        """Whether `signature` (X-Twilio-Signature) signs `url` and `form` with our token."""
        if not self._token or not signature:
            return False
        try:
            from twilio.request_validator import RequestValidator
        except ImportError:
            log.error("Twilio callback refused: %s", INSTALL_HINT)
            return False
        return bool(RequestValidator(self._token).validate(url, _SignedParams(form), signature))

    def verify_stream(self, url: str, signature: str | None) -> bool:
        """A media stream's handshake: Twilio signs the wss:// URL (its https:// form too is
        accepted, as the documentation is not explicit about which one)."""
        https = "https://" + url.split("://", 1)[1] if "://" in url else url
        return self.verify(websocket_url(https), [], signature) or self.verify(https, [], signature)

    def record_status(self, key: str, form: Mapping[str, str]) -> bool:
        """Record a status callback; False when no call is on record under the key."""
        now = self._clock.now()
        return record(self._sessions, key, observation_of_callback(form, now), now=now) is not None

    def record_amd(self, key: str, form: Mapping[str, str]) -> bool:
        """Record an asynchronous AMD result (AnsweredBy) for the call under `key`."""
        now = self._clock.now()
        sid, answered_by = form.get("CallSid", ""), form.get("AnsweredBy", "")
        if not sid or not answered_by:
            raise ValueError("an AMD callback needs CallSid and AnsweredBy")
        news = Observation(status="", at=now, call_sid=sid, answered_by=answered_by)
        return record(self._sessions, key, news, now=now) is not None

    def record_dial(self, key: str, form: Mapping[str, str]) -> str | None:
        """Record how the hand-over to staff ended (`<Dial>`'s action: DialCallStatus) on the
        call under `key`; returns why it did not bridge (None: staff answered, or the call is
        not on record). Raises ValueError without CallSid and DialCallStatus."""
        sid, dial_status = dial_result(form)
        if record_dial_status(self._sessions, key, sid, dial_status) is None:
            log.warning("dial callback for unknown key %s (call %s)", key, sid)
        return transfer_failure_of(dial_status)

    def live_call(self, key: str) -> CallState | None:
        """The call a media stream under `key` belongs to; None if unknown or already ended."""
        with self._sessions() as session:
            row = session.scalars(
                select(CarrierCall).where(_TWILIO, CarrierCall.idempotency_key == key)
            ).one_or_none()
            state = None if row is None else state_of_row(row)
        return None if state is None or state.final or state.status == NOT_PLACED else state
