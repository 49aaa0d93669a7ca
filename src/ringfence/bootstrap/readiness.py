"""`/readyz`: whether this process can do its work, check by check.

The database checks (reachable, schema at head) come from `services/health.py`; the process's
own are here, in the composition root that built them: the speech engines (required only when
a live carrier, Twilio or SIP, is in use: a live call must hear the agent) and each carrier in
use, reported as configured or not without a network call (the sandbox is embedded).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import live_media_sessions
from ringfence.domain.vocabulary import CarrierKind
from ringfence.services.health import (
    Check,
    carrier_kinds_in_use,
    database_check,
    migrations_check,
)

LIVE_CARRIERS = frozenset({CarrierKind.TWILIO, CarrierKind.SIP})


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks if check.required)

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {
                check.name: {"ok": check.ok, "required": check.required, "detail": check.detail}
                for check in self.checks
            },
        }


def readiness(container: Container) -> Readiness:
    database = database_check(container.engine)
    checks = [database]
    if database.ok:
        checks.append(migrations_check(container.engine))
    else:
        checks.append(Check("migrations", False, True, "not checked: the database is down"))
    # With the database down, its carriers are not asked for (each try would wait again).
    kinds = _kinds_in_use(container, ask_database=database.ok)
    checks.append(_speech_check(container, live=bool(kinds & LIVE_CARRIERS)))
    checks += [_carrier_check(container, kind) for kind in sorted(kinds)]
    return Readiness(tuple(checks))


def _kinds_in_use(container: Container, *, ask_database: bool) -> set[CarrierKind]:
    kinds = {CarrierKind.SANDBOX}
    # An unknown default carrier stops the worker with its own message.
    with contextlib.suppress(ValueError):
        kinds.add(CarrierKind(container.settings.carrier))
    if not ask_database:
        return kinds
    return kinds | (carrier_kinds_in_use(container.engine) or set())


def _speech_check(container: Container, *, live: bool) -> Check:
    choice = container.settings.speech_choice()
    if not live:
        # Sandbox calls are simulated in text: no engine is needed, none is loaded for this.
        return Check("speech", True, False, f"not needed: sandbox only ({choice})")
    sessions = live_media_sessions(container)  # built once per process, then cached
    if sessions is None:
        return Check("speech", False, True, f"speech engines not installed ({choice})")
    return Check("speech", True, True, f"speech engines ready ({choice})")


def _carrier_check(container: Container, kind: CarrierKind) -> Check:
    settings = container.settings
    name = f"carrier_{kind.value}"
    if kind is CarrierKind.SANDBOX:
        return Check(name, True, False, "embedded")
    if kind is CarrierKind.TWILIO:
        missing = [
            setting
            for setting, value in (
                ("twilio_account_sid", settings.twilio_account_sid),
                ("twilio_auth_token", settings.twilio_auth_token),
                ("public_base_url", settings.public_base_url),
            )
            if not value
        ]
        if missing:
            return Check(name, False, False, f"not configured: set {', '.join(missing)}")
        return Check(name, True, False, "configured (not contacted)")
    if not settings.sip_trunk_host:
        return Check(name, False, False, "not configured: set sip_trunk_host")
    opened = container.shared.sip_carrier is not None
    return Check(name, True, False, "endpoint open" if opened else "configured (not contacted)")
