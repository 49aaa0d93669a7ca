"""The progress a background contact import writes: throttled, and stale once silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ringfence.clock import VirtualClock
from ringfence.services.contact_import_report import ImportPhase
from ringfence.services.import_progress import (
    STALE_AFTER,
    ImportProgress,
    ProgressTracker,
    RunState,
    progress_view,
)

START = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


class Seconds:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _tracker(
    written: list[ImportProgress], seconds: Seconds, clock: VirtualClock
) -> ProgressTracker:
    started = ImportProgress(
        run_id="r1", dry_run=False, mapping={}, started_at=START, updated_at=START, total=10
    )

    def write(progress: ImportProgress) -> bool:
        written.append(progress)
        return progress.run_id == "r1"

    return ProgressTracker(current=started, write=write, clock=clock, monotonic=seconds)


def test_rows_are_written_a_few_times_a_second_and_every_phase_change_at_once() -> None:
    written: list[ImportProgress] = []
    seconds = Seconds()
    clock = VirtualClock(START)
    track = _tracker(written, seconds, clock)
    for done in range(1, 10):
        track(ImportPhase.VALIDATING, done, 10)
    assert [p.done for p in written] == [1]  # the first; the rest within the same 0.25 s
    seconds.now = 0.3
    track(ImportPhase.VALIDATING, 9, 10)
    track(ImportPhase.VALIDATING, 10, 10)  # the last of a phase is always written
    track(ImportPhase.WRITING, 1, 7)  # a new phase too
    assert [(p.phase, p.done) for p in written[1:]] == [
        (ImportPhase.VALIDATING, 9),
        (ImportPhase.VALIDATING, 10),
        (ImportPhase.WRITING, 1),
    ]
    clock.advance(timedelta(seconds=30))
    track.beat()
    assert written[-1].updated_at == START + timedelta(seconds=30)
    track.finish()
    assert written[-1].state is RunState.DONE
    count = len(written)
    track.beat()  # a finished run's heartbeat writes nothing
    assert len(written) == count


def test_a_run_taken_over_stops_writing() -> None:
    written: list[ImportProgress] = []
    track = _tracker(written, Seconds(), VirtualClock(START))
    track.current = ImportProgress(
        run_id="old", dry_run=False, mapping={}, started_at=START, updated_at=START
    )
    track(ImportPhase.VALIDATING, 1, 10)
    track(ImportPhase.WRITING, 1, 10)
    assert len(written) == 1


def test_silence_longer_than_a_live_run_reads_as_interrupted() -> None:
    progress = ImportProgress(
        run_id="r1",
        dry_run=False,
        mapping={},
        started_at=START,
        updated_at=START,
        done=12_500,
        total=50_000,
    )
    alive = progress_view(progress, START + STALE_AFTER - timedelta(seconds=1))
    assert alive.running
    assert alive.words == "Checking rows: 12,500 of 50,000"
    assert alive.percent == 25
    stopped = progress_view(progress, START + STALE_AFTER)
    assert (stopped.running, stopped.interrupted) == (False, True)
    assert stopped.announcement == "The import was interrupted: nothing was imported."
