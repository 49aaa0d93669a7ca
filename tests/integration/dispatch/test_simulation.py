"""The virtual-clock simulation at small scale: the independent audit finds no violation, the
dispatcher reaches the lawful capacity, and (on PostgreSQL) several worker processes and
crashing workers keep every guarantee."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from ringfence.bootstrap import Container
from ringfence.domain.compliance import (
    ContactFacts,
    PlatformPolicy,
    RuleCheck,
    Suppression,
    gate,
)
from ringfence.simulation.population import PopulationSpec
from ringfence.simulation.runner import SimulationResult, SimulationSpec, run_simulation


def _simulate(database_url: str, **kwargs: object) -> SimulationResult:
    locations = int(kwargs.pop("locations", 3))  # type: ignore[call-overload]
    per = int(kwargs.pop("contacts", 25))  # type: ignore[call-overload]
    spec = SimulationSpec(
        population=PopulationSpec(locations=locations, contacts_per_location=per, seed=11),
        database_url=database_url,
        **kwargs,  # type: ignore[arg-type]
    )
    return run_simulation(spec)


def _assert_lawful(result: SimulationResult) -> None:
    assert result.violations == 0, result.violations_by_rule
    assert result.dialed_twice == 0
    assert result.dials > 0
    assert result.utilization is not None
    assert result.utilization >= 0.99, (result.dials, result.lawful_capacity)
    assert result.ledger_matches
    assert (result.in_flight, result.needs_review) == (0, 0)  # nothing lost or stuck
    assert result.notes == []


def test_one_worker_dials_lawfully_at_capacity(container: Container, database_url: str) -> None:
    result = _simulate(database_url, locations=4, contacts=30)
    _assert_lawful(result)
    assert set(result.outcomes) >= {"connected", "voicemail", "no_answer"}
    assert result.failed_by_reason  # the population includes contacts that must never be dialed
    assert result.decisions >= result.dials


def test_daily_cap_overflow_is_deferred(container: Container, database_url: str) -> None:
    result = _simulate(database_url, locations=1, contacts=130)
    _assert_lawful(result)
    assert result.dials == 100
    assert result.deferred_by_reason.get("location_daily_cap", 0) > 0


postgres_only = pytest.mark.skipif(
    not os.environ.get("RINGFENCE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="several dispatcher processes need PostgreSQL (SQLite is the single-process default)",
)


@postgres_only
def test_four_worker_processes_share_the_limits(container: Container, database_url: str) -> None:
    result = _simulate(database_url, locations=4, contacts=20, workers=4)
    _assert_lawful(result)


@postgres_only
def test_killing_workers_mid_tick_loses_and_repeats_nothing(
    container: Container, database_url: str
) -> None:
    result = _simulate(database_url, locations=3, contacts=20, workers=2, kill_workers=20)
    assert result.workers_killed == 20
    _assert_lawful(result)
    assert result.ledger_seconds == result.billable_seconds


# Sunday 8 March 2026 is the spring DST change: the run starts the Friday before.
DST_WEEK = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)


def _ledger_run(database_url: str, days: int) -> SimulationResult:
    """`days` across a DST change (Sunday, the third day): numbers shared across locations of
    one account, every contact enqueued again every day at any hour (so the 14-day cap binds
    within the run), and patients opting out mid-run by SMS, DND or email. (`ringfence
    simulate --scenario ledger --days 15` is the full-length version; see
    docs/operations.md.)"""
    spec = SimulationSpec(
        population=PopulationSpec(
            locations=3,
            contacts_per_location=10,
            seed=7,
            shared_number_share=0.5,
            recurring_every_days=1,
            mid_run_opt_out_share=0.3,
        ),
        database_url=database_url,
        days=days,
        start=DST_WEEK,
    )
    return run_simulation(spec)


def test_the_ledger_scenario_keeps_every_rule_across_a_dst_change(
    container: Container, database_url: str
) -> None:
    # Five days: every refusal reason of the population occurs (measured: consent revoked, DND,
    # the 14-day cap, no opt-in, number suppressed, written consent unconfirmed); a sixth day
    # added none and cost twice the run's time.
    result = _ledger_run(database_url, days=5)
    assert result.violations == 0, result.violations_by_rule
    assert result.dialed_twice == 0
    assert result.ledger_matches
    assert (result.in_flight, result.needs_review) == (0, 0)
    assert result.events > 0
    assert result.jobs > result.contacts  # recurring calls were enqueued during the run
    # The rules the richer population exists to exercise did bind.
    assert result.failed_by_reason.get("fourteen_day_cap", 0) > 0
    assert result.failed_by_reason.get("number_suppressed", 0) > 0
    # The ledger model's capacity: exact here, and reached (over five days no number's first
    # dial leaves its 14-day window, so no job the cap failed could have been dialed later).
    assert result.lawful_capacity_exact
    assert result.utilization is not None
    assert result.utilization >= 0.99, (result.dials, result.lawful_capacity)
    assert result.notes == []


def test_the_audit_catches_a_gate_that_ignores_the_suppression_ledger(
    container: Container, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plant the bug the ledger exists for: the gate reads only the contact's own flags. The
    same number saved at another location is then dialed after its opt-out, and the
    independent audit must say so."""
    original = gate.check_opt_out

    def contact_only(
        contact: ContactFacts,
        suppression: Suppression | None,
        consent_at: datetime | None,
        policy: PlatformPolicy,
    ) -> RuleCheck:
        return original(contact, None, consent_at, policy)

    monkeypatch.setattr(gate, "check_opt_out", contact_only)
    # Three days are enough for the bug to show (measured: 5 numbers dialed after their
    # opt-out; 4 over six days).
    result = _ledger_run(database_url, days=3)
    assert result.violations_by_rule.get("number_suppressed", 0) > 0, result.violations_by_rule
