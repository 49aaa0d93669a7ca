"""Run one benchmark on two revisions side by side, in one run, and print the figures together.

    .venv/bin/python benchmarks/compare_revisions.py --base HEAD~3 [--rounds 2] \\
        [--figure NAME=REGEX ...] -- benchmarks/bench_dispatcher.py --locations 100 ...

The base revision is checked out once into a git worktree (under the system temp folder, reused
by later runs); each round runs the base's copy of the benchmark on the base's code, then the
working tree's copy on the working tree's code (`PYTHONPATH=<tree>/src`, the same virtualenv),
so both see the same machine load as nearly as a shared machine allows (the order swaps every
round, so what one run leaves behind does not always fall on the same side). `--figure` names a
number to pull out of each output (the regex's first group); the table gives each round's pair
and the median ratio head / base. Figures only: nothing here asserts a time.

Examples (the regexes match the benchmarks' own output lines):

    --figure "dispatch s=^sqlite\\s+\\d+\\s+[\\d,]+\\s+\\d+\\s+[\\d.]+\\s+\\d+\\s+([\\d.]+)"
    --figure "achieved/s=achieved ([\\d.]+)/s"   (bench_events.py)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    pattern: re.Pattern[str]

    @staticmethod
    def parse(spec: str) -> Figure:
        name, sep, regex = spec.partition("=")
        if not sep or not name or not regex:
            raise argparse.ArgumentTypeError(f"--figure wants NAME=REGEX, got {spec!r}")
        return Figure(name, re.compile(regex, re.MULTILINE))

    def read(self, output: str) -> float | None:
        found = self.pattern.search(output)
        return float(found.group(1).replace(",", "")) if found else None


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def base_tree(revision: str) -> Path:
    """A worktree of `revision` (created once, reused)."""
    sha = _git("rev-parse", "--verify", f"{revision}^{{commit}}")
    tree = Path(tempfile.gettempdir()) / f"ringfence-base-{sha[:12]}"
    if not (tree / "src").is_dir():
        _git("worktree", "add", "--force", "--detach", str(tree), sha)
    return tree


def run(tree: Path, command: list[str], script_tree: Path | None = None) -> str:
    """Run the benchmark on `tree`'s code; its script comes from `script_tree` (default: `tree`)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    script, *rest = command
    done = subprocess.run(
        [sys.executable, str((script_tree or tree) / script), *rest],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{script} failed in {tree} ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the revision to compare against")
    parser.add_argument("--rounds", type=int, default=2, help="base/head pairs to run")
    parser.add_argument("--figure", type=Figure.parse, action="append", default=[])
    parser.add_argument(
        "--script-from",
        choices=("each", "head"),
        default="each",
        help="each: every revision runs its own copy of the benchmark; head: both run the working "
        "tree's copy (when the base's copy measured the wrong thing, e.g. a seed since fixed)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- SCRIPT [ARGS...]")
    args = parser.parse_args()
    command = [part for part in args.command if part != "--"]
    if not command:
        parser.error("give the benchmark after --, e.g. -- benchmarks/bench_dispatcher.py")
    trees = {"base": base_tree(args.base), "head": ROOT}
    head = _git("rev-parse", "--short", "HEAD")
    dirty = (
        " + uncommitted changes" if _git("status", "--porcelain", "--untracked-files=no") else ""
    )
    print(f"base {args.base} ({trees['base'].name}) vs head {head}{dirty}: {' '.join(command)}")
    print(
        "benchmark script: "
        + ("the working tree's, on both" if args.script_from == "head" else "each revision's own")
    )
    readings: dict[str, list[tuple[float | None, float | None]]] = {f.name: [] for f in args.figure}
    for round_index in range(1, args.rounds + 1):
        # Odd rounds run the base first, even rounds the head first: whatever the first run
        # of a pair leaves behind (a server still stopping, a warm cache, a WAL to checkpoint)
        # falls on each side alike.
        order = list(trees.items()) if round_index % 2 else list(reversed(trees.items()))
        script_tree = ROOT if args.script_from == "head" else None
        outputs = {label: run(tree, command, script_tree) for label, tree in order}
        for label, output in outputs.items():
            print(f"\n--- round {round_index}, {label} ---\n{output.rstrip()}", flush=True)
        for figure in args.figure:
            readings[figure.name].append(
                (figure.read(outputs["base"]), figure.read(outputs["head"]))
            )
    if not args.figure:
        return
    print("\nfigure                          base        head   head/base")
    for name, pairs in readings.items():
        ratios = []
        for base, new in pairs:
            ratio = new / base if base and new is not None else None
            if ratio is not None:
                ratios.append(ratio)
            shown = "n/a" if ratio is None else f"{ratio:.2f}"
            print(f"{name:<28} {base!s:>9} {new!s:>11} {shown:>10}")
        if ratios:
            print(f"{name:<28} {'median ratio':>21} {statistics.median(ratios):>10.2f}")


if __name__ == "__main__":
    main()
