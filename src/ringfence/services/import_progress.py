"""A contact import run in the background of the staff pages, and how far it has got.

A file of 50,000 rows takes long enough that staff should see it move, and longer than a
request should be held open. So "Check" and "Import" start the run in a thread of the web
process (with its own unit of work: the request's is closed once the answer is sent) and the
page follows its progress, which is kept beside the upload (`import_uploads.UploadStore`), so
every web process on the host answers for it.

The run writes its progress through a `ProgressTracker`: at most a few times a second (the
service calls back once per row), at every change of phase, and on a heartbeat while a step
that does not call back (the database work between the phases, the commit, a wait for the
account's lock) takes its time. A run whose progress is older than `STALE_AFTER` therefore
died with its process; as the import is one transaction (`run_import` commits once, at the
end), nothing of it was saved.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Protocol

from ringfence.adapters.db.engine import READ_ONLY
from ringfence.clock import Clock
from ringfence.services.contact_import import run_import
from ringfence.services.contact_import_report import ImportPhase
from ringfence.services.errors import InvalidField
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

if TYPE_CHECKING:
    from ringfence.services.import_uploads import Upload, UploadStore

log = logging.getLogger("ringfence.contact_import")

STALE_AFTER: Final = timedelta(minutes=2)
HEARTBEAT_SECONDS: Final = 20.0  # well inside STALE_AFTER
WRITE_EVERY_SECONDS: Final = 0.25
PHASE_WORDS: Final = {
    ImportPhase.VALIDATING: "Checking rows",
    ImportPhase.WRITING: "Saving contacts",
}


class RunState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """One run of an upload: `done` of `total` rows in `phase`; `error` when it failed.

    `mapping` is the columns it was started with, so an interrupted run can be started again
    as it was (the upload records a run's columns only when it finishes).
    """

    run_id: str
    dry_run: bool
    mapping: dict[str, str]
    started_at: datetime
    updated_at: datetime
    state: RunState = RunState.RUNNING
    phase: ImportPhase = ImportPhase.VALIDATING
    done: int = 0
    total: int = 0
    error: str | None = None
    saved: bool = False  # failed after its commit: the contacts are in, its report is not

    def interrupted(self, now: datetime) -> bool:
        """Still marked running, but silent for longer than a live run ever is."""
        return self.state is RunState.RUNNING and now - self.updated_at >= STALE_AFTER

    def running(self, now: datetime) -> bool:
        return self.state is RunState.RUNNING and not self.interrupted(now)


@dataclass(frozen=True, slots=True)
class ProgressView:
    """What the progress page says about `progress` at `now`."""

    key: str  # what the live region last announced: it speaks again only when this changes
    announcement: str
    words: str
    running: bool
    interrupted: bool
    failed: bool
    percent: int


def progress_view(progress: ImportProgress, now: datetime) -> ProgressView:
    what = "check" if progress.dry_run else "import"
    phase = PHASE_WORDS[progress.phase]
    percent = 100 * progress.done // progress.total if progress.total else 0
    words = f"{phase}: {progress.done:,} of {progress.total:,}"
    if progress.interrupted(now):
        return ProgressView(
            key="interrupted",
            announcement=f"The {what} was interrupted: nothing was imported.",
            words=words,
            running=False,
            interrupted=True,
            failed=False,
            percent=percent,
        )
    if progress.state is RunState.FAILED:
        return ProgressView(
            key="failed",
            announcement=(
                "The contacts were imported, but the report could not be kept."
                if progress.saved
                else f"The {what} stopped: nothing was imported."
            ),
            words=words,
            running=False,
            interrupted=False,
            failed=True,
            percent=percent,
        )
    done = progress.state is RunState.DONE
    return ProgressView(
        key="done" if done else progress.phase.value,
        announcement=f"The {what} is finished." if done else f"{phase}…",
        words=words,
        running=not done,
        interrupted=False,
        failed=False,
        percent=percent,
    )


@dataclass(slots=True)
class ProgressTracker:
    """The run's `ProgressCallback`: keeps the latest count and writes it out, throttled.

    The throttle is on `monotonic` (real seconds), the times written are the injected clock's.
    `write` answers False once another run has taken the upload over; this one then stops
    writing (its work goes on to its end but is no longer shown).
    """

    current: ImportProgress
    write: Callable[[ImportProgress], bool]
    clock: Clock
    monotonic: Callable[[], float] = time.monotonic
    every: float = WRITE_EVERY_SECONDS
    _written_at: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _live: bool = field(default=True, init=False)

    def __call__(self, phase: ImportPhase, done: int, total: int) -> None:
        with self._lock:
            changed = phase is not self.current.phase
            self.current = replace(self.current, phase=phase, done=done, total=total)
            if changed or done == total or self.monotonic() - self._written_at >= self.every:
                self._save()

    def beat(self) -> None:
        """Say the run is alive (between callbacks)."""
        with self._lock:
            if self.current.state is RunState.RUNNING:
                self._save()

    def finish(self) -> None:
        with self._lock:
            self.current = replace(self.current, state=RunState.DONE)
            self._save()

    def fail(self, error: str, *, saved: bool = False) -> None:
        with self._lock:
            self.current = replace(self.current, state=RunState.FAILED, error=error, saved=saved)
            self._save()

    def _save(self) -> None:
        if not self._live:
            return
        self.current = replace(self.current, updated_at=self.clock.now())
        self._live = self.write(self.current)
        self._written_at = self.monotonic()


class ImportRunner(Protocol):
    def start(self, work: Callable[[], None]) -> None: ...


class ThreadRunner:
    """Each run in a daemon thread: a process that stops takes its runs with it, uncommitted
    (and their pages say so once the progress is stale)."""

    def start(self, work: Callable[[], None]) -> None:
        threading.Thread(target=work, name="contact-import", daemon=True).start()


@dataclass(frozen=True, slots=True)
class ImportJob:
    """Everything one run needs, none of it the request's."""

    uow: Callable[[], UnitOfWork]
    uploads: UploadStore
    upload: Upload
    scope: TenantScope
    mapping: Mapping[str, str]
    tracker: ProgressTracker
    heartbeat_seconds: float = HEARTBEAT_SECONDS

    def __call__(self) -> None:
        stop = threading.Event()
        beating = threading.Thread(target=self._beat, args=(stop,), daemon=True)
        beating.start()
        try:
            self._run()
        finally:
            stop.set()
            beating.join()

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat_seconds):
            self.tracker.beat()

    def _run(self) -> None:
        dry_run = self.tracker.current.dry_run
        run_id = self.tracker.current.run_id
        try:
            with self.uow() as uow:
                if dry_run:
                    # It writes nothing: on SQLite, no write lock held for the whole check.
                    uow.session.connection(execution_options={READ_ONLY: True})
                report = run_import(
                    uow=uow,
                    scope=self.scope,
                    location_id=self.upload.location_id,
                    csv_text=self.upload.csv_text,
                    mapping=self.mapping,
                    dry_run=dry_run,
                    progress=self.tracker,
                )
        except InvalidField as exc:
            self.tracker.fail(error_words(exc))
            return
        except Exception as exc:
            # Only the kind of error: its text may quote a patient's row.
            log.error("contact import %s failed: %s", run_id, type(exc).__name__)
            self.tracker.fail(_UNEXPECTED)
            return
        try:
            # The report before "done": a run marked done always has one to show.
            self.uploads.record_run(self.upload, mapping=dict(self.mapping), report=report)
        except Exception as exc:
            log.error("contact import %s: report not kept: %s", run_id, type(exc).__name__)
            self.tracker.fail(_UNEXPECTED, saved=not dry_run)
            return
        self.tracker.finish()


_UNEXPECTED: Final = "an unexpected error stopped it. Try again; if it happens again, tell support."


def error_words(exc: InvalidField) -> str:
    if exc.field == "location_id":
        return "the location chosen for this file no longer exists: upload the file again."
    return exc.message + "."
