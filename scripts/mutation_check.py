"""Mutation check of the compliance rules: make the checks able to fail.

Plants named rule breaks, one at a time, each in its own throw-away copy of the repository,
and runs the killers against the copy:

1. the unit tests of the pure compliance core, the independent simulation audit and the
   workflow forecast (`pytest -q -x ...`, below);
2. the simulation audit (`ringfence simulate ... --json`): caught when it reports violations
   or exits non-zero.

A mutant is caught by the first killer that fails. The simulation runs for every mutant, even
one the unit tests already caught, so the table also says whether the simulation audit alone
would have caught it.

Each mutant is an exact text replacement (old -> new) that must match exactly once in the
current tree: a refactor that removes or duplicates a target makes the script fail loudly
instead of silently testing nothing (tests/unit/test_mutation_check.py checks the same without
running anything). The tree is snapshotted once, at the start, so every mutant (and the
unmutated baseline, which must pass both killers) sees the same code even while others edit
the working tree. Copies import their own `src/` (PYTHONPATH first, checked per copy), never
the editable install.

    .venv/bin/python scripts/mutation_check.py [--only NAME ...] [--jobs N] [--markdown]

Exit status: 0 when every mutant was caught; 1 when one survived both killers; 2 when a
target text is missing or not unique, or the environment is wrong; 3 when the unmutated
baseline already fails a killer.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

UNIT_KILLER = (
    "-m",
    "pytest",
    "-q",
    "-x",
    "-p",
    "no:cacheprovider",
    "tests/unit/compliance",
    "tests/unit/simulation",
    "tests/unit/workflows/test_forecast.py",
)

# The simulation, sized for the whole run (22 copies) to fit in about 15 minutes on 2 cores
# with --jobs 2: about 40 s alone, 50-60 s beside the other job. The ledger scenario (numbers
# shared across locations, every contact enqueued again every 3 days at any hour, mid-run
# opt-outs by SMS, DND and email) over 7 days exercises the per-number daily and 14-day caps,
# the number-wide suppression and dials late in the window, which a one-off campaign does
# not; the week starts Thursday 5 March 2026 and crosses the spring-forward change (8 March)
# and a weekend; ticks every 30 s, so a 30 s pacing bug can show. The start is a UTC instant:
# an ISO date there is midnight in New York as a zoned datetime, and the runner's tick grid
# (`start + n * step`) then does wall-clock arithmetic, which livelocks across the change.
SIMULATION_ARGS: tuple[str, ...] = (
    "--scenario",
    "ledger",
    "--locations",
    "10",
    "--contacts-per-location",
    "40",
    "--days",
    "7",
    "--start",
    "2026-03-05T05:00:00+00:00",
    "--step",
    "30",
)

# Directories that never travel into a copy.
_IGNORED = (
    ".git",
    ".venv",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "__pycache__",
    "test-artifacts",
    "var",
    "node_modules",
)


@dataclass(frozen=True, slots=True)
class Mutant:
    """One planted rule break: replace `old` (exactly one occurrence) by `new` in `path`."""

    name: str
    path: str  # relative to the repository root
    old: str
    new: str
    planted: str  # what the bug is, in words


_POLICY = "src/ringfence/domain/compliance/policy.py"
_GATE = "src/ringfence/domain/compliance/gate.py"
_THROTTLES = "src/ringfence/domain/compliance/throttles.py"
_WINDOWS = "src/ringfence/domain/compliance/windows.py"
_TIMEZONES = "src/ringfence/domain/compliance/timezones.py"
_FACTS = "src/ringfence/domain/compliance/facts.py"
_SERVICE_FACTS = "src/ringfence/services/facts.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "window_start",
        _POLICY,
        "window: LocalHours = field(default_factory=lambda: hours(10, 18))",
        "window: LocalHours = field(default_factory=lambda: hours(9, 18))",
        "policy window opens at 09:00 instead of 10:00",
    ),
    Mutant(
        "window_end",
        _POLICY,
        "window: LocalHours = field(default_factory=lambda: hours(10, 18))",
        "window: LocalHours = field(default_factory=lambda: hours(10, 19))",
        "policy window closes at 19:00 instead of 18:00",
    ),
    Mutant(
        "window_end_inclusive",
        _WINDOWS,
        "if interval is not None and interval[1] > t:",
        "if interval is not None and interval[1] >= t:",
        "window search treats 18:00:00 as still open (end inclusive)",
    ),
    Mutant(
        "dst",
        _WINDOWS,
        "        start = (midnight + timedelta(minutes=allowed.start)).replace(tzinfo=tz)\n"
        "        end = (midnight + timedelta(minutes=allowed.end)).replace(tzinfo=tz)\n"
        "        interval = (start.astimezone(UTC), end.astimezone(UTC))\n",
        "        offset = tz.utcoffset(datetime(day.year, 1, 1)) or timedelta(0)\n"
        "        start = midnight + timedelta(minutes=allowed.start) - offset\n"
        "        end = midnight + timedelta(minutes=allowed.end) - offset\n"
        "        interval = (start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))\n",
        "window intervals use the zone's fixed standard-time offset, ignoring DST",
    ),
    Mutant(
        "candidate_zones",
        _TIMEZONES,
        "    return tuple(sorted(from_number | postal_zones))\n",
        "    return tuple(sorted(from_number | postal_zones))[:1]\n",
        "only the first candidate zone is checked, not every one",
    ),
    Mutant(
        "candidate_zones_prefix",
        _TIMEZONES,
        'if len(prefix) >= 4 and prefix[0] == "1":',
        'if len(prefix) == 4 and prefix[0] == "1":',
        "zones from the area code's own entry only, not every longer prefix's",
    ),
    Mutant(
        "per_minute",
        _POLICY,
        "location_pacing: timedelta = timedelta(minutes=1)",
        "location_pacing: timedelta = timedelta(seconds=30)",
        "location pacing 30 s instead of 60 s",
    ),
    Mutant(
        "per_day_location",
        _THROTTLES,
        "    if dials_today < cap:",
        "    if dials_today <= cap:",
        "location daily cap off by one (`<` -> `<=`: 101 a day)",
    ),
    Mutant(
        "per_day_number",
        _GATE,
        "check_number_daily(dials, now, zones or (location.time_zone,), policy)",
        "check_number_daily(dials, now, (location.time_zone,), policy)",
        "number daily cap counted on the location's day, not the contact's zones'",
    ),
    Mutant(
        "per_day_number_cap",
        _THROTTLES,
        "        if count >= cap:",
        "        if count > cap:",
        "number daily cap off by one (`>=` -> `>`: 2 a day)",
    ),
    Mutant(
        "fourteen_day",
        _THROTTLES,
        "    if used < cap:\n"
        "        return RuleCheck(Rule.NUMBER_14_DAY_CAP, Outcome.PASSED, note, values)",
        "    if used <= cap:\n"
        "        return RuleCheck(Rule.NUMBER_14_DAY_CAP, Outcome.PASSED, note, values)",
        "14-day cap off by one (`<` -> `<=`: 5 in 14 days)",
    ),
    Mutant(
        "fourteen_day_window",
        _THROTTLES,
        "counted = [dial for dial in dials if dial > window_start]",
        "counted = [dial for dial in dials if dial >= window_start]",
        "14-day window boundary `>` -> `>=` (a dial exactly 14 days old still counts)",
    ),
    Mutant(
        "consent",
        _GATE,
        "    if form is not None and form > now:\n        form = None\n",
        "",
        "a CRM-form opt-in recorded after `now` counts",
    ),
    Mutant(
        "consent_form_valid",
        _FACTS,
        "return self.form_valid is True and not self.held",
        "return not self.held",
        "a crm_form opt-in counts without form_valid (failing consent text)",
    ),
    Mutant(
        "consent_number",
        _FACTS,
        "            if record.phone_e164 != number:\n",
        "            if number is None:\n",
        "ConsentFacts.from_records ignores the phone: consent for any number counts",
    ),
    Mutant(
        "revocation",
        _GATE,
        "if revoked is not None and (latest is None or revoked >= latest):",
        "if revoked is not None and (latest is None or revoked > latest):",
        "a revocation at the same instant as the consent is ignored (`>=` -> `>`)",
    ),
    Mutant(
        "revocation_channel",
        _SERVICE_FACTS,
        "if consent_kind is not ConsentKind.REVOCATION and Channel(channel) is not Channel.VOICE:",
        "if Channel(channel) is not Channel.VOICE:",
        "services/facts.py `_fact` drops revocations on non-voice channels",
    ),
    Mutant(
        "dnd",
        _GATE,
        "    return _DND if contact.dnd_voice else _NO_DND\n",
        "    return _NO_DND\n",
        "check_dnd ignores the voice DND flag",
    ),
    Mutant(
        "opt_out_suppression",
        _SERVICE_FACTS,
        "        if (account_id, phone) in wanted\n",
        "        if (phone, account_id) in wanted\n",
        "services/facts.py `suppression_facts` returns nothing (key order swapped)",
    ),
    Mutant(
        "opt_out_suppression_gate",
        _GATE,
        "    if suppression is not None and suppression.in_force(consent_at):\n",
        "    if suppression is not None and not suppression.in_force(consent_at):\n",
        "check_opt_out ignores an unlifted suppression entry (condition inverted)",
    ),
    Mutant(
        "us_only",
        _POLICY,
        'allowed_regions: frozenset[str] = frozenset({"US"})',
        'allowed_regions: frozenset[str] = frozenset({"US", "CA"})',
        "allowed regions accept Canada (CA)",
    ),
)

MUTANTS_BY_NAME = {mutant.name: mutant for mutant in MUTANTS}


def target_count(mutant: Mutant, root: Path = ROOT) -> int:
    """How often the mutant's old text occurs in its file under `root` (-1: no such file)."""
    path = root / mutant.path
    if not path.is_file():
        return -1
    return path.read_text(encoding="utf-8").count(mutant.old)


def plant(mutant: Mutant, root: Path) -> None:
    path = root / mutant.path
    text = path.read_text(encoding="utf-8")
    count = text.count(mutant.old)
    if count != 1:
        raise RuntimeError(f"{mutant.name}: target occurs {count} times in {mutant.path}")
    path.write_text(text.replace(mutant.old, mutant.new, 1), encoding="utf-8")


# -- running ------------------------------------------------------------------------------


@dataclass(slots=True)
class KillerResult:
    caught: bool
    seconds: float
    detail: str  # the failing test, the violations, or why it stopped


@dataclass(slots=True)
class MutantResult:
    name: str
    planted: str
    path: str
    unit: KillerResult | None = None
    simulation: KillerResult | None = None
    error: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def caught_by(self) -> str | None:
        if self.unit is not None and self.unit.caught:
            return "1 unit tests"
        if self.simulation is not None and self.simulation.caught:
            return "2 simulation"
        return None

    @property
    def seconds(self) -> float:
        return sum(k.seconds for k in (self.unit, self.simulation) if k is not None)


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    src = str(copy / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # No database URL from the caller's environment leaks into the copy's runs.
    for name in list(env):
        if name.startswith("RINGFENCE_") and "DATABASE" in name:
            del env[name]
    return env


def _module_of(path: str) -> str | None:
    if not (path.startswith("src/") and path.endswith(".py")):
        return None
    return path[len("src/") : -len(".py")].replace("/", ".")


def check_imports(copy: Path, python: str, module: str | None) -> None:
    """The copy's processes must import the copy's package (and mutated module)."""
    wanted = [("ringfence", copy / "src" / "ringfence" / "__init__.py")]
    if module is not None:
        wanted.append((module, copy / "src" / (module.replace(".", "/") + ".py")))
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    print(importlib.import_module(name).__file__)\n"
    )
    out = subprocess.run(
        [python, "-c", code, *(name for name, _ in wanted)],
        cwd=copy,
        env=_env(copy),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    files = out.stdout.split()
    if out.returncode != 0 or len(files) != len(wanted):
        raise RuntimeError(f"import check failed in {copy}: {out.stderr.strip()[-500:]}")
    for (name, expected), found in zip(wanted, files, strict=True):
        if Path(found).resolve() != expected.resolve():
            raise RuntimeError(f"{name} imports from {found}, not the copy ({expected})")


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def _run_in(
    copy: Path, command: Sequence[str], timeout: float
) -> tuple[subprocess.CompletedProcess[str] | None, float]:
    """Run `command` against the copy; None when it ran past `timeout` (seconds taken too)."""
    began = time.perf_counter()
    try:
        out = subprocess.run(
            list(command),
            cwd=copy,
            env=_env(copy),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - began
    return out, time.perf_counter() - began


def run_unit(copy: Path, python: str, timeout: float) -> KillerResult:
    out, seconds = _run_in(copy, [python, *UNIT_KILLER], timeout)
    if out is None:
        return KillerResult(True, seconds, f"timed out after {timeout:.0f} s")
    if out.returncode == 0:
        return KillerResult(False, seconds, "all passed")
    failed = _FAILED.findall(out.stdout)
    if failed:
        test = failed[0]
        if test.startswith("tests/unit/"):
            test = test[len("tests/unit/") :]
        return KillerResult(True, seconds, test)
    tail = (out.stdout + out.stderr).strip().splitlines()
    return KillerResult(True, seconds, f"exit {out.returncode}: {tail[-1] if tail else ''}")


def run_simulation(copy: Path, python: str, args: Sequence[str], timeout: float) -> KillerResult:
    database = copy / "mutation-sim.db"
    for leftover in copy.glob("mutation-sim.db*"):
        leftover.unlink()
    command = [
        python,
        "-m",
        "ringfence",
        "simulate",
        *args,
        "--json",
        "--database",
        f"sqlite:///{database}",
    ]
    out, seconds = _run_in(copy, command, timeout)
    if out is None:
        return KillerResult(True, seconds, f"timed out after {timeout:.0f} s")
    report: dict[str, object] | None = None
    start = out.stdout.find("{")
    if start >= 0:
        try:
            report = json.loads(out.stdout[start:])
        except json.JSONDecodeError:
            report = None
    if out.returncode != 0 or report is None:
        tail = out.stderr.strip().splitlines()
        return KillerResult(
            True, seconds, f"exit {out.returncode}: {tail[-1][:160] if tail else 'no JSON'}"
        )
    violations = int(str(report.get("violations", 0)))
    raw = report.get("violations_by_rule")
    by_rule = {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    dials = report.get("dials")
    if violations > 0:
        ranked = sorted(by_rule.items(), key=lambda item: (-item[1], item[0]))
        rules = ", ".join(f"{rule} {count}" for rule, count in ranked)
        return KillerResult(True, seconds, f"{violations} violations ({rules}) in {dials} dials")
    return KillerResult(False, seconds, f"0 violations in {dials} dials")


def _copy_tree(source: Path, destination: Path) -> None:
    shutil.copytree(source, destination, symlinks=True, ignore=shutil.ignore_patterns(*_IGNORED))


@dataclass
class Runner:
    pristine: Path
    workdir: Path
    python: str
    simulation_args: tuple[str, ...]
    timeout: float
    keep: bool
    log_lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def log(self, message: str) -> None:
        with self.log_lock:
            print(message, file=sys.stderr, flush=True)

    def run(self, mutant: Mutant | None) -> MutantResult:
        name = mutant.name if mutant is not None else "baseline"
        result = MutantResult(
            name,
            mutant.planted if mutant is not None else "nothing (the unmutated snapshot)",
            mutant.path if mutant is not None else "",
        )
        if self.stop.is_set():
            result.error = "not run: the baseline failed"
            return result
        copy = self.workdir / name
        try:
            _copy_tree(self.pristine, copy)
            if mutant is not None:
                plant(mutant, copy)
            check_imports(copy, self.python, _module_of(mutant.path) if mutant else None)
            result.unit = run_unit(copy, self.python, self.timeout)
            self.log(f"  {name}: unit tests {_word(result.unit)} ({result.unit.detail})")
            result.simulation = run_simulation(
                copy, self.python, self.simulation_args, self.timeout
            )
            sim = result.simulation
            self.log(f"  {name}: simulation {_word(sim)} ({sim.detail})")
        except Exception as exc:  # reported in the table; the other mutants go on
            result.error = f"{type(exc).__name__}: {exc}"
            self.log(f"  {name}: ERROR {result.error}")
        finally:
            if not self.keep:
                shutil.rmtree(copy, ignore_errors=True)
        return result


def _word(killer: KillerResult) -> str:
    return "FAILED (caught)" if killer.caught else "passed"


# -- reporting ----------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rows(results: Sequence[MutantResult]) -> list[list[str]]:
    table = []
    for r in results:
        if r.error is not None:
            verdict, by, unit, sim = "ERROR", "-", r.error, "-"
        else:
            assert r.unit is not None
            assert r.simulation is not None
            by = r.caught_by or "-"
            if r.name == "baseline":
                verdict = "green" if by == "-" else "RED"
            else:
                verdict = "caught" if by != "-" else "SURVIVED"
            unit = ("caught: " if r.unit.caught else "passed: ") + r.unit.detail
            sim = ("yes: " if r.simulation.caught else "no: ") + r.simulation.detail
        table.append(
            [
                r.name,
                f"{r.planted} ({r.path.removeprefix('src/ringfence/')})" if r.path else r.planted,
                verdict,
                by,
                unit,
                sim,
                f"{r.unit.seconds:.0f} + {r.simulation.seconds:.0f} s"
                if r.unit and r.simulation
                else "-",
            ]
        )
    return table


HEADER = [
    "mutant",
    "planted",
    "verdict",
    "caught by",
    "killer 1: unit tests",
    "killer 2: simulation audit alone",
    "time (unit + sim)",
]


def markdown(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table]
    return "\n".join(lines)


def plain(table: list[list[str]]) -> str:
    limits = [24, 60, 8, 12, 60, 70, 14]
    cut = [
        [c if len(c) <= n else c[: n - 1] + "~" for c, n in zip(row, limits, strict=True)]
        for row in table
    ]
    widths = [max(len(h), *(len(r[i]) for r in cut)) for i, h in enumerate(HEADER)]
    out = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cut]
    return "\n".join(out)


# -- main ---------------------------------------------------------------------------------


def simulate_flags(copy: Path, python: str) -> set[str]:
    out = subprocess.run(
        [python, "-m", "ringfence", "simulate", "--help"],
        cwd=copy,
        env={**_env(copy), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"ringfence simulate --help failed: {out.stderr.strip()[-300:]}")
    return set(re.findall(r"--[a-z][a-z0-9-]*", out.stdout))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", action="extend", metavar="NAME", default=[])
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument(
        "--simulation-args",
        help="replace the simulation's sizing flags (default: %(default)s)",
        default=" ".join(SIMULATION_ARGS),
    )
    parser.add_argument("--timeout", type=float, default=600, help="per killer, seconds")
    parser.add_argument("--workdir", type=Path, help="where the copies go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the copies")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the killers")
    args = parser.parse_args(argv)

    if args.list:
        for m in MUTANTS:
            print(f"{m.name:26} {m.path.removeprefix('src/ringfence/'):32} {m.planted}")
        return 0
    unknown = [name for name in args.only if name not in MUTANTS_BY_NAME]
    if unknown:
        print(f"unknown mutants: {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    selected = [m for m in MUTANTS if not args.only or m.name in args.only]

    began = time.perf_counter()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ringfence-mutants-"))
    workdir.mkdir(parents=True, exist_ok=True)
    pristine = workdir / "_snapshot"
    if pristine.exists():
        shutil.rmtree(pristine)
    print(f"snapshot of {ROOT} -> {pristine}", file=sys.stderr)
    _copy_tree(ROOT, pristine)
    try:
        missing = [(m, target_count(m, pristine)) for m in selected]
        missing = [(m, n) for m, n in missing if n != 1]
        for m, n in missing:
            what = "file missing" if n < 0 else f"target text occurs {n} times"
            print(f"TARGET NOT FOUND: {m.name} in {m.path}: {what}", file=sys.stderr)
        if missing:
            return 2
        simulation_args = tuple(args.simulation_args.split())
        flags = simulate_flags(pristine, args.python)
        unsupported = [a for a in simulation_args if a.startswith("--") and a not in flags]
        if unsupported:
            print(f"ringfence simulate lacks {', '.join(unsupported)}", file=sys.stderr)
            return 2
        runner = Runner(pristine, workdir, args.python, simulation_args, args.timeout, args.keep)
        print(
            f"{len(selected)} mutants, {args.jobs} at a time; simulation: "
            f"ringfence simulate {' '.join(simulation_args)} --json",
            file=sys.stderr,
        )
        results: list[MutantResult] = []
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            baseline_future = pool.submit(runner.run, None)
            futures = [pool.submit(runner.run, m) for m in selected]
            baseline = baseline_future.result()
            baseline_ok = (
                baseline.error is None
                and baseline.unit is not None
                and not baseline.unit.caught
                and baseline.simulation is not None
                and not baseline.simulation.caught
            )
            if not baseline_ok:
                runner.stop.set()
            results = [f.result() for f in futures]
    finally:
        if not args.keep:
            shutil.rmtree(pristine, ignore_errors=True)
            if args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - began

    table = rows([baseline, *results])
    print(markdown(table) if args.markdown else plain(table))
    survived = [r.name for r in results if r.error is None and r.caught_by is None]
    errors = [r.name for r in results if r.error is not None]
    sim_alone = sum(1 for r in results if r.simulation is not None and r.simulation.caught)
    caught = len(results) - len(survived) - len(errors)
    print(
        f"\n{caught} of {len(results)} mutants caught ({sim_alone} by the simulation audit "
        f"alone); {len(survived)} survived{': ' + ', '.join(survived) if survived else ''}; "
        f"wall time {elapsed / 60:.1f} min with --jobs {args.jobs}."
    )
    if not baseline_ok:
        print("BASELINE FAILED: the unmutated snapshot fails a killer", file=sys.stderr)
        return 3
    if errors:
        return 2
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
