"""The URLs Twilio calls back on and the TwiML the carrier hands it: the bidirectional Media
Stream at answer, and a warm transfer to staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode, urlsplit

from ringfence.adapters.telephony.twilio.rest import INSTALL_HINT, TwilioUnavailable
from ringfence.domain.staff_hours import is_sip_uri

STATUS_PATH: Final = "/twilio/status"
AMD_PATH: Final = "/twilio/amd"
DIAL_PATH: Final = "/twilio/dial"
INCOMING_PATH: Final = "/twilio/incoming"  # a practice number's Voice webhook (inbound calls)
MEDIA_PATH: Final = "/twilio/media/"
STATUS_EVENTS: Final = ("initiated", "ringing", "answered", "completed")
KEY_PARAMETER: Final = "idempotency_key"  # the <Stream>'s custom parameter


# --- URLs and TwiML -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicUrls:
    """Where Twilio reaches this server: `base` is the public https origin (and any path
    prefix a proxy strips); media streams use its wss:// form."""

    base: str

    @classmethod
    def of(cls, base: str) -> PublicUrls:
        parts = urlsplit(base)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(f"public base URL must be http(s)://host[/prefix], not {base!r}")
        return cls(base.rstrip("/"))

    def status(self, key: str) -> str:
        return f"{self.base}{STATUS_PATH}?{urlencode({'key': key})}"

    def amd(self, key: str) -> str:
        return f"{self.base}{AMD_PATH}?{urlencode({'key': key})}"

    def dial(self, key: str) -> str:
        """Where the `<Dial>` of a hand-over to staff reports how it ended."""
        return f"{self.base}{DIAL_PATH}?{urlencode({'key': key})}"

    def media(self, key: str) -> str:
        return websocket_url(f"{self.base}{MEDIA_PATH}{key}")


def websocket_url(url: str) -> str:
    """The ws(s):// form of an http(s):// URL."""
    scheme, rest = url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


def stream_twiml(stream_url: str, key: str) -> str:
    """`<Response><Connect><Stream url=...>` with the key as a custom parameter: Twilio runs
    it on answer and opens the bidirectional media stream (the call lasts as long as it)."""
    try:
        from twilio.twiml.voice_response import Connect, VoiceResponse
    except ImportError as exc:
        raise TwilioUnavailable(INSTALL_HINT) from exc
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    stream.parameter(name=KEY_PARAMETER, value=key)
    response.append(connect)
    return str(response)


def reject_twiml(*, busy: bool) -> str:
    """`<Reject>` an inbound call without answering it (nothing is billed, the caller's side
    plays its own tone or message): `busy` when every line is in use, else `rejected`."""
    try:
        from twilio.twiml.voice_response import VoiceResponse
    except ImportError as exc:
        raise TwilioUnavailable(INSTALL_HINT) from exc
    response = VoiceResponse()
    response.reject(reason="busy" if busy else "rejected")
    return str(response)


TRANSFER_UNANSWERED: Final = (
    "Sorry, no one from our team can take the call right now. We'll call you back. Goodbye."
)


def transfer_twiml(to_e164: str, action_url: str | None = None) -> str:
    """`<Dial>` the staff line (a `<Number>`, or a `<Sip>` address): the caller hears ringing
    and the call bridges when staff answer (within 25 s). With `action_url`, Twilio posts how
    the dial ended there (DialCallStatus) and runs the TwiML it answers (`dial_ended_twiml`);
    without, a caller no one answered is told the team will call back."""
    try:
        from twilio.twiml.voice_response import Dial, VoiceResponse
    except ImportError as exc:
        raise TwilioUnavailable(INSTALL_HINT) from exc
    response = VoiceResponse()
    if action_url is None:
        dial = Dial(timeout=25, answer_on_bridge=True)
    else:
        dial = Dial(timeout=25, answer_on_bridge=True, action=action_url, method="POST")
    if is_sip_uri(to_e164):  # a PBX extension
        dial.sip(to_e164)
    else:
        dial.number(to_e164)
    response.append(dial)
    if action_url is None:  # with an action, Twilio never reaches the verbs after <Dial>
        response.say(TRANSFER_UNANSWERED)
    return str(response)


def dial_ended_twiml(*, bridged: bool) -> str:
    """What the call does once its `<Dial>` to staff ended: hang up after staff talked with the
    caller; else tell the caller the team will call back, then hang up."""
    try:
        from twilio.twiml.voice_response import VoiceResponse
    except ImportError as exc:
        raise TwilioUnavailable(INSTALL_HINT) from exc
    response = VoiceResponse()
    if not bridged:
        response.say(TRANSFER_UNANSWERED)
    response.hangup()
    return str(response)
