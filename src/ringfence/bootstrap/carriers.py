"""How the carriers and the live speech pipeline are built from the settings, once per process.

Part of the composition root: the worker dials through `make_carrier`, the API's Twilio media
route and the SIP carrier share `live_media_sessions`; both ask here and never build them
themselves, so an entrypoint never imports another.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Final

from ringfence.adapters.telephony.base import TelephonyProvider
from ringfence.adapters.telephony.media import MediaSession
from ringfence.adapters.telephony.router import (
    CarrierRouter,
    UnavailableCarrier,
    load_number_carriers,
)
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.adapters.telephony.sip.endpoint import SipUnavailable
from ringfence.adapters.telephony.sip.incoming import Decline, IncomingAnswerer, IncomingInvite
from ringfence.adapters.telephony.twilio import TwilioOptions, TwilioUnavailable, connect_twilio
from ringfence.bootstrap import Container
from ringfence.bootstrap.policies import policy_factory
from ringfence.domain.inbound import Refused
from ringfence.domain.vocabulary import CarrierKind
from ringfence.services.inbound_calls import NoAgent
from ringfence.services.inbound_live import AtCapacity, InboundLiveCalls
from ringfence.services.live_media import LiveMediaSessions, engines_of
from ringfence.speech.contracts import SpeechEngineUnavailable

log = logging.getLogger("ringfence.carriers")

_SHARED_LOCK = threading.RLock()  # reentrant: the SIP carrier builds the media sessions


def make_carrier(container: Container) -> TelephonyProvider:
    """This process's carrier: the sandbox alone when every caller ID dials through it, else
    a router over every registered carrier (each number names its own; `carrier` is the
    default)."""
    settings = container.settings
    try:
        default = CarrierKind(settings.carrier)
    except ValueError:
        known = ", ".join(kind.value for kind in CarrierKind)
        raise ValueError(f"unknown carrier {settings.carrier!r} (available: {known})") from None
    sandbox = make_sandbox_carrier(container)
    numbers = functools.partial(load_number_carriers, container.session_factory)
    if default is CarrierKind.SANDBOX and all(
        kind is CarrierKind.SANDBOX for kind in numbers().kinds()
    ):
        return sandbox
    # Some caller ID dials through another carrier: route each call by its from-number.
    built: dict[CarrierKind, TelephonyProvider] = {
        kind: build(container)
        for kind, build in CARRIERS.items()
        if kind is not CarrierKind.SANDBOX
    }
    return CarrierRouter(
        {CarrierKind.SANDBOX: sandbox, **built},
        default=default,
        numbers=numbers,
        clock=container.clock,
    )


def make_sandbox_carrier(container: Container) -> TelephonyProvider:
    """The embedded carrier: simulated outcomes, no network."""
    return SandboxCarrier(
        container.session_factory, container.clock, seed=container.settings.sandbox_seed
    )


def live_media_sessions(container: Container) -> LiveMediaSessions | None:
    """The speech pipeline of live calls (Twilio, SIP), built once per process (the engines
    load once, in a background thread at start-up, not on the first call's answer: loading
    takes seconds and the agent must speak within 2 s of it). None, with the reason logged,
    when the engines the settings ask for are not installed."""
    with _SHARED_LOCK:
        shared = container.shared
        if shared.media_sessions_built:
            return shared.media_sessions
        settings = container.settings
        sessions: LiveMediaSessions | None = None
        try:
            engines = engines_of(settings)
        except SpeechEngineUnavailable as exc:
            log.error("live calls cannot be held (no agent voice): %s", exc)
        else:
            sessions = LiveMediaSessions(
                container.session_factory,
                engines=engines,
                policy_for=policy_factory(settings),
                results=container.live_calls,
                store_dir=settings.recordings_dir,
                cipher=container.phi_cipher,
                single_frequency_ringback=settings.amd_single_frequency_ringback,
            )
            if engines.loads_models:
                threading.Thread(target=engines, name="speech-warm-up", daemon=True).start()
        shared.media_sessions, shared.media_sessions_built = sessions, True
        return sessions


def make_sip_carrier(container: Container) -> TelephonyProvider:
    """The SIP carrier from the settings (one endpoint per process), or a stand-in that says
    what is missing. Without speech engines it places no call: an answered call must hear the
    agent within 2 s (the abandonment rule), not silence."""
    settings = container.settings
    if not settings.sip_trunk_host:
        return UnavailableCarrier("sip", "set RINGFENCE_SIP_TRUNK_HOST")
    with _SHARED_LOCK:  # one endpoint per process, even when two threads ask at once
        held = container.shared.sip_carrier
        if held is not None:
            return held
        carrier = _connect_sip(container)
        if not isinstance(carrier, UnavailableCarrier):
            container.shared.sip_carrier = carrier
        return carrier


def _connect_sip(container: Container) -> TelephonyProvider:
    settings = container.settings
    assert settings.sip_trunk_host is not None
    sessions = live_media_sessions(container)
    if sessions is None:
        return UnavailableCarrier(
            "sip", f"the speech engines ({settings.speech_choice()}) are not installed"
        )
    password = settings.sip_password
    try:
        carrier = SipCarrier(
            container.session_factory,
            container.clock,
            SipOptions(
                trunk_host=settings.sip_trunk_host,
                trunk_port=settings.sip_trunk_port,
                bind_host=settings.sip_bind_host,
                bind_port=settings.sip_bind_port,
                account=SipAccount(
                    domain=settings.sip_domain or settings.sip_trunk_host,
                    username=settings.sip_username,
                    password=None if password is None else password.get_secret_value(),
                    codecs=settings.sip_codecs,
                ),
                register=settings.sip_register,
                ring_timeout_s=settings.sip_ring_timeout,
                max_call_s=settings.sip_max_call_seconds,
            ),
            prepare=sessions.prepare,
            live=container.live_calls,
            answer=sip_answerer(inbound_live_calls(container, sessions)),
        )
    except SipUnavailable as exc:
        return UnavailableCarrier("sip", str(exc))
    return carrier


def inbound_live_calls(container: Container, sessions: LiveMediaSessions) -> InboundLiveCalls:
    """How a live carrier (SIP, Twilio) answers a call to a practice number: the location's
    agent on this process's speech pipeline (`sessions`)."""
    settings = container.settings
    return InboundLiveCalls(
        container.uow,
        pipeline_for=sessions.pipeline_for,
        store_dir=settings.recordings_dir,
        cipher=container.phi_cipher,
        max_concurrent_calls=settings.max_concurrent_calls,
    )


def sip_answerer(inbound: InboundLiveCalls) -> IncomingAnswerer:
    """The SIP carrier's answer to a call placed to us: the agent's session, or the final
    response that says why not (404: no practice has the number; 480: nobody can answer it
    there; 486: every line is in use)."""

    def answer(invite: IncomingInvite) -> MediaSession | Decline:
        answered = inbound.answer(
            dialed=invite.dialed, caller=invite.caller, carrier_call_id=invite.call_id[:100]
        )
        match answered:
            case Refused():
                return Decline(404, "Not Found")
            case NoAgent():
                return Decline(480, "Temporarily Unavailable")
            case AtCapacity():
                return Decline(486, "Busy Here")
        return answered

    return answer


def make_twilio_carrier(container: Container) -> TelephonyProvider:
    """The Twilio carrier from the settings, or a stand-in that says what is missing."""
    settings = container.settings
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    base = settings.public_base_url
    if not sid or token is None or not base:
        unset = [
            f"RINGFENCE_{name.upper()}"
            for name, value in (
                ("twilio_account_sid", sid),
                ("twilio_auth_token", token),
                ("public_base_url", base),
            )
            if not value
        ]
        return UnavailableCarrier("twilio", f"set {', '.join(unset)}")
    try:
        return connect_twilio(
            account_sid=sid,
            auth_token=token.get_secret_value(),
            session_factory=container.session_factory,
            clock=container.clock,
            options=TwilioOptions(
                public_base_url=base,
                machine_detection=settings.twilio_machine_detection,
            ),
            live=container.live_calls,
        )
    except TwilioUnavailable as exc:
        return UnavailableCarrier("twilio", str(exc))


# Every carrier a caller ID may name, and how this process builds it from the settings (a
# builder returns an `UnavailableCarrier` saying what is missing rather than raising). Adding a
# carrier: a `CarrierKind` member and one line here (docs/architecture.md, "Add a carrier").
CARRIERS: Final[Mapping[CarrierKind, Callable[[Container], TelephonyProvider]]] = {
    CarrierKind.SANDBOX: make_sandbox_carrier,
    CarrierKind.TWILIO: make_twilio_carrier,
    CarrierKind.SIP: make_sip_carrier,
}
