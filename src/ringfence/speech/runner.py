"""Where the pipeline's slow work (speech-to-text, the agent's reply, synthesis) runs.

The carrier calls the pipeline on its own loop every 20 ms and must not wait a second for a
transcription, so that work goes to a `ThreadRunner`: one worker thread, jobs in order (a
call's turns are answered one after another). The engines release the GIL while they
compute. Tests use the `InlineRunner`, which runs each job at once: same code path, fully
deterministic.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("ringfence.speech")

Job = Callable[[], None]


class Runner(Protocol):
    def submit(self, job: Job) -> None:
        """Run `job` (after the jobs submitted before it)."""
        ...

    def close(self, timeout_s: float = 5.0) -> None:
        """Finish the job in progress (up to `timeout_s`), drop the rest, stop."""
        ...


class InlineRunner:
    def submit(self, job: Job) -> None:
        job()

    def close(self, timeout_s: float = 5.0) -> None:
        return None


class ThreadRunner:
    def __init__(self, name: str = "speech-pipeline") -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        if self._closed.is_set():
            raise RuntimeError("the runner is closed")
        self._jobs.put(job)

    def close(self, timeout_s: float = 5.0) -> None:
        self._closed.set()
        self._jobs.put(None)
        self._thread.join(timeout_s)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self._closed.is_set():
                return
            try:
                job()
            except Exception:
                # A failed turn must not kill the call's worker; the pipeline's own job
                # wrappers report failures, this is the last line.
                log.exception("speech pipeline job failed")
