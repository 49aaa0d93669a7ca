"""The dispatcher as a long-running worker: `ringfence worker`, or inside `ringfence serve`."""

from __future__ import annotations

import logging
import threading

from ringfence.adapters.telephony.base import TelephonyProvider
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.bootstrap import Container
from ringfence.services.dispatch import DispatchConfig, Dispatcher

log = logging.getLogger("ringfence.worker")


def make_carrier(container: Container) -> TelephonyProvider:
    settings = container.settings
    if settings.carrier == "sandbox":
        return SandboxCarrier(
            container.session_factory, container.clock, seed=settings.sandbox_seed
        )
    raise ValueError(f"unknown carrier {settings.carrier!r} (available: sandbox)")


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
    log.info("dispatcher stopped")


def start_in_thread(container: Container) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(container, stop), name="dispatcher", daemon=True)
    thread.start()
    return thread, stop
