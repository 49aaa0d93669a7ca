"""The dispatcher as a long-running worker: `ringfence worker`, or inside `ringfence serve`."""

from __future__ import annotations

import logging
import threading

from ringfence.adapters.http.guarded import guarded_client
from ringfence.adapters.speech import default_voices
from ringfence.agent.understanding.model import default_model
from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import make_carrier
from ringfence.domain.pacing import DispatchConfig
from ringfence.services.console import close_abandoned
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.services.phi_retention import purge_expired
from ringfence.services.recordings import render_pending
from ringfence.services.workflows.runner import WorkflowRunner
from ringfence.services.workflows.webhooks import deliver_due
from ringfence.speech.contracts import SpeechEngineUnavailable

log = logging.getLogger("ringfence.worker")

PURGE_INTERVAL_SECONDS = 3600.0


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
    except SpeechEngineUnavailable as exc:
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
    records two days old, and end test-console calls left open, hourly (the first pass at
    start). Several workers may run it at once:
    a row is purged only once."""
    while not stop.is_set():
        try:
            report = purge_expired(
                container.session_factory,
                container.clock,
                store_dir=container.settings.recordings_dir,
            )
            container.live_calls.purge()
            with container.uow() as uow:
                abandoned = close_abandoned(uow=uow)
            if abandoned:
                log.info("test console: %d abandoned test calls ended", abandoned)
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
