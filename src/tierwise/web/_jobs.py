"""Long jobs started from the web app run in a background thread, one classification at a time.

The job's state lives in the jobs table (written by the library function itself), so a page
polling for progress sees the same thing whichever worker answers; the in-process record covers
the moment between the click and the job row.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tierwise.access import Principal
from tierwise.errors import TierwiseError
from tierwise.settings import Settings
from tierwise.store import audit


class BusyError(TierwiseError):
    """A classification is already running."""


@dataclass
class Run:
    kind: str
    started: float = field(default_factory=time.monotonic)
    state: str = "running"  # running | done | failed
    result: dict[str, Any] | None = None
    error: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "state": self.state,
            "seconds": round(time.monotonic() - self.started, 1),
            "result": self.result,
            "error": self.error,
        }


class Jobs:
    def __init__(self, settings: Settings, store: sa.Engine) -> None:
        self.settings = settings
        self.store = store
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.classify_run: Run | None = None

    def start_classify(self, principal: Principal) -> Run:
        """Start a classification as of the last order day; `BusyError` if one runs."""
        from tierwise.classify import classify_store
        from tierwise.classify._service import last_order_day

        principal.require("classify")
        from tierwise.store.jobs import mark_stale_jobs_interrupted
        from tierwise.store.tables import jobs

        with self.store.begin() as conn:
            mark_stale_jobs_interrupted(conn)
            elsewhere = conn.scalar(
                sa.select(sa.func.count())
                .select_from(jobs)
                .where(jobs.c.kind == "classify", jobs.c.state == "running")
            )
        with self._lock:
            running_here = self.classify_run is not None and self.classify_run.state == "running"
            if running_here or elsewhere:
                raise BusyError("A classification is already running; wait for it to finish.")
            run = Run("classify")
            self.classify_run = run
        with self.store.begin() as conn:
            audit.record(
                conn, actor=principal.username, actor_id=principal.user_id,
                action="classify.start", entity="snapshot",
            )  # fmt: skip

        def work() -> None:
            try:
                run.result = classify_store(
                    self.settings, self.store, as_of=last_order_day(self.store),
                    actor=principal.username,
                )  # fmt: skip
                self._warm(principal)
                run.state = "done"
            except Exception as exc:  # the page shows why; the snapshot stays as it was
                run.error = str(exc) or type(exc).__name__
                run.state = "failed"

        self.submit(work)
        return run

    def _warm(self, principal: Principal) -> None:
        """Compute the new snapshot's dashboard now, so that nobody waits for it later."""
        from tierwise.access import dashboard
        from tierwise.store import read_only

        for lang in ("zh", "en"):
            with read_only(self.store).connect() as conn:
                dashboard(conn, principal=principal, data_dir=self.settings.data_dir, lang=lang)

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` in a job thread; the threads start on first use, so an app whose server
        stopped (its lifespan shut them down) works again when it is served anew."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tierwise-job")
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self) -> None:
        """Wait for the running jobs, drop the queued ones and stop the threads."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["BusyError", "Jobs", "Run"]
