"""The dispatcher as a long-running worker: `ringfence worker`, or inside `ringfence serve`."""

from __future__ import annotations

import functools
import logging
import threading
from typing import cast

from ringfence.adapters.db.orm import CarrierKind
from ringfence.adapters.http.guarded import guarded_client
from ringfence.adapters.speech import SpeechUnavailable, default_voices
from ringfence.adapters.telephony.base import TelephonyProvider
from ringfence.adapters.telephony.router import (
    CarrierRouter,
    UnavailableCarrier,
    load_number_carriers,
)
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.adapters.telephony.sip.endpoint import SipUnavailable
from ringfence.adapters.telephony.twilio import TwilioOptions, TwilioUnavailable, connect_twilio
from ringfence.agent.policies.factory import policy_factory
from ringfence.agent.understanding.model import default_model
from ringfence.bootstrap import Container
from ringfence.services.dispatch import DispatchConfig, Dispatcher
from ringfence.services.phi_retention import purge_expired
from ringfence.services.recordings import (
    render_pending,
)
from ringfence.services.workflows.runner import WorkflowRunner
from ringfence.services.workflows.webhooks import deliver_due
from ringfence.speech.contracts import SpeechEngineUnavailable
from ringfence.speech.sessions import LiveMediaSessions, engines_of

log = logging.getLogger("ringfence.worker")

PURGE_INTERVAL_SECONDS = 3600.0


_SHARED_LOCK = threading.RLock()  # reentrant: the SIP carrier builds the media sessions


def make_carrier(container: Container) -> TelephonyProvider:
    settings = container.settings
    try:
        default = CarrierKind(settings.carrier)
    except ValueError:
        known = ", ".join(kind.value for kind in CarrierKind)
        raise ValueError(f"unknown carrier {settings.carrier!r} (available: {known})") from None
    sandbox = SandboxCarrier(container.session_factory, container.clock, seed=settings.sandbox_seed)
    numbers = functools.partial(load_number_carriers, container.session_factory)
    if default is CarrierKind.SANDBOX and all(
        kind is CarrierKind.SANDBOX for kind in numbers().kinds()
    ):
        return sandbox
    # Some caller ID dials through another carrier: route each call by its from-number.
    return CarrierRouter(
        {
            CarrierKind.SANDBOX: sandbox,
            CarrierKind.TWILIO: make_twilio_carrier(container),
            CarrierKind.SIP: make_sip_carrier(container),
        },
        default=default,
        numbers=numbers,
        clock=container.clock,
    )


def live_media_sessions(container: Container) -> LiveMediaSessions | None:
    """The speech pipeline of live calls (Twilio, SIP), built once per process (the engines
    load once, in a background thread at start-up, not on the first call's answer: loading
    takes seconds and the agent must speak within 2 s of it). None, with the reason logged,
    when the engines the settings ask for are not installed."""
    with _SHARED_LOCK:
        if "media_sessions" in container.shared:
            return cast(LiveMediaSessions | None, container.shared["media_sessions"])
        settings = container.settings
        sessions: LiveMediaSessions | None = None
        try:
            engines = engines_of(settings.speech_engines)
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
            )
            if settings.speech_engines == "local":
                threading.Thread(target=engines, name="speech-warm-up", daemon=True).start()
        container.shared["media_sessions"] = sessions
        return sessions


def make_sip_carrier(container: Container) -> TelephonyProvider:
    """The SIP carrier from the settings (one endpoint per process), or a stand-in that says
    what is missing. Without speech engines it places no call: an answered call must hear the
    agent within 2 s (the abandonment rule), not silence."""
    settings = container.settings
    if not settings.sip_trunk_host:
        return UnavailableCarrier("sip", "set RINGFENCE_SIP_TRUNK_HOST")
    with _SHARED_LOCK:  # one endpoint per process, even when two threads ask at once
        held = container.shared.get("sip_carrier")
        if held is not None:
            return cast(TelephonyProvider, held)
        carrier = _connect_sip(container)
        if not isinstance(carrier, UnavailableCarrier):
            container.shared["sip_carrier"] = carrier
        return carrier


def _connect_sip(container: Container) -> TelephonyProvider:
    settings = container.settings
    assert settings.sip_trunk_host is not None
    sessions = live_media_sessions(container)
    if sessions is None:
        return UnavailableCarrier(
            "sip", f"the speech engines ({settings.speech_engines}) are not installed"
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
        )
    except SipUnavailable as exc:
        return UnavailableCarrier("sip", str(exc))
    return carrier


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


def make_dispatcher(container: Container) -> Dispatcher:
    settings = container.settings
    return Dispatcher(
        session_factory=container.session_factory,
        carrier=make_carrier(container),
        clock=container.clock,
        config=DispatchConfig(
            carrier_cps=settings.carrier_cps,
            carrier_burst=settings.carrier_burst,
            max_concurrent_calls=settings.max_concurrent_calls,
        ),
    )


def run(container: Container, stop: threading.Event) -> None:
    """Tick every `dispatch_interval` seconds until `stop` is set.

    A failing tick is logged and retried after a pause: its transactions rolled back, and
    anything it had committed (a `dialing` mark) is settled by reconciliation.
    """
    dispatcher = make_dispatcher(container)
    interval = container.settings.dispatch_interval
    # The agent's intent model is trained once per process (about two seconds): here, before
    # the first call is prepared, rather than while a callee waits for the opening.
    default_model()
    log.info("dispatcher started (carrier %s)", dispatcher.carrier.name)
    while not stop.is_set():
        try:
            report = dispatcher.tick()
            if report.dialed or report.completed or report.failed or report.reconciled:
                log.info(
                    "tick: dialed=%d completed=%d deferred=%d failed=%d reconciled=%d",
                    report.dialed,
                    report.completed,
                    report.deferred,
                    report.failed,
                    report.reconciled,
                )
        except Exception:
            log.exception("dispatcher tick failed; retrying")
            stop.wait(min(30.0, interval * 10))
            continue
        stop.wait(interval)
    close = getattr(dispatcher.carrier, "close", None)
    if callable(close):  # live SIP calls: CANCEL the ringing, BYE the answered
        try:
            close()
        except Exception:
            log.exception("the carrier did not close cleanly")
    log.info("dispatcher stopped")


def run_workflows(container: Container, stop: threading.Event) -> None:
    """Advance due workflow enrollments and deliver webhooks, every `dispatch_interval`."""
    runner = WorkflowRunner(container.session_factory, container.clock)
    interval = container.settings.dispatch_interval
    allowed = [h for h in container.settings.webhook_allowed_hosts.split(",") if h.strip()]
    with guarded_client(allowed_hosts=allowed) as client:
        while not stop.is_set():
            try:
                report = runner.run_due()
                if report.advanced:
                    log.info(
                        "workflows: advanced=%d calls=%d completed=%d exited=%d",
                        report.advanced,
                        report.calls_enqueued,
                        report.completed,
                        report.exited,
                    )
                deliver_due(container.session_factory, container.clock, client)
            except Exception:
                log.exception("workflow pass failed; retrying")
                stop.wait(min(30.0, interval * 10))
                continue
            stop.wait(interval)


def run_recordings(container: Container, stop: threading.Event) -> None:
    """Synthesize the recordings of finished calls, off the dispatcher's thread (a minute of
    call takes seconds of CPU). Without a speech engine this logs how to get one and stops."""
    if not container.settings.render_recordings:
        return
    try:
        agent_voice, callee_voice = default_voices()
    except SpeechUnavailable as exc:
        log.warning("call recordings disabled: %s", exc)
        return
    while not stop.is_set():
        try:
            rendered = render_pending(
                container.session_factory,
                store_dir=container.settings.recordings_dir,
                agent_voice=agent_voice,
                callee_voice=callee_voice,
                cipher=container.phi_cipher,
                limit=5,
            )
        except Exception:
            log.exception("recording pass failed; retrying")
            rendered = 0
        if not rendered:
            stop.wait(5.0)


def run_purge(container: Container, stop: threading.Event) -> None:
    """Purge recordings and transcripts past their account's retention policy, and live calls'
    records two days old, hourly (the first pass at start). Several workers may run it at once:
    a row is purged only once."""
    while not stop.is_set():
        try:
            report = purge_expired(
                container.session_factory,
                container.clock,
                store_dir=container.settings.recordings_dir,
            )
            container.live_calls.purge()
            if report.transcripts:
                log.info(
                    "retention purge: transcripts=%d recordings=%d",
                    report.transcripts,
                    report.recordings,
                )
        except Exception:
            log.exception("retention purge failed; retrying at the next pass")
        stop.wait(PURGE_INTERVAL_SECONDS)


def start_in_thread(container: Container) -> tuple[threading.Thread, threading.Event]:
    """The dispatcher, the workflow runner, the recording renderer and the retention purge in
    background threads of this process."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(container, stop), name="dispatcher", daemon=True)
    thread.start()
    threading.Thread(
        target=run_workflows, args=(container, stop), name="workflows", daemon=True
    ).start()
    threading.Thread(
        target=run_recordings, args=(container, stop), name="recordings", daemon=True
    ).start()
    threading.Thread(target=run_purge, args=(container, stop), name="purge", daemon=True).start()
    return thread, stop
