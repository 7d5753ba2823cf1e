"""Long jobs (imports, classifications) as rows: state, progress, a durable cursor, liveness.

A job is ``queued`` → ``running`` → ``done`` | ``failed`` | ``interrupted``. While it runs, the
worker commits its records and `update_progress` (cursor = records durably committed) in the
same transaction, so after a crash the cursor says exactly where to resume. A running job whose
process is gone is found by `mark_stale_jobs_interrupted` and resumed through
`find_resumable_import`.

Liveness is judged by the pid recorded by `start_job` (``os.kill(pid, 0)``), which only means
something on the machine that ran the job; with several hosts on one PostgreSQL database pass
``stale_after`` so that a job whose heartbeat stopped counts as dead whatever its pid.

Example::

    with engine.begin() as conn:
        job_id = create_job(conn, kind="import", params={"path": "orders.csv"})
        start_job(conn, job_id=job_id, pid=os.getpid())
    with engine.begin() as conn:
        ...  # write a chunk of records, then in the same transaction:
        update_progress(conn, job_id=job_id, cursor=5000, progress=0.5)
    with engine.begin() as conn:
        finish_job(conn, job_id=job_id, state="done", result={"inserted": 10000})
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from tierwise.errors import DataError, NotFoundError
from tierwise.store.db import json_dumps
from tierwise.store.tables import import_batches, jobs, utcnow

FINAL_STATES: Final = ("done", "failed", "interrupted")
_RESUMABLE_STATES: Final = ("running", "interrupted", "failed")


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    state: str
    progress: float
    total: int | None
    cursor: int
    params: Any
    result: Any
    error: str | None
    pid: int | None
    heartbeat_at: datetime | None
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists on this machine (zombies count as dead)."""
    if pid is None or pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) would send CTRL_C there
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    try:  # Linux: an exited child not yet reaped still answers kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


if sys.platform == "win32":  # pragma: no cover

    def _windows_pid_alive(pid: int) -> bool:
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)


def _dead(pid: int | None, heartbeat_at: datetime | None, stale_after: timedelta | None) -> bool:
    if stale_after is not None and (heartbeat_at is None or heartbeat_at < utcnow() - stale_after):
        return True
    return not pid_alive(pid)


def _job_row(mapping: sa.RowMapping) -> JobRow:
    return JobRow(**{name: mapping[name] for name in JobRow.__dataclass_fields__})


def create_job(
    conn: sa.Connection,
    *,
    kind: str,
    params: Any,
    created_by: int | None = None,
    total: int | None = None,
) -> int:
    """Queue a job and return its id."""
    job_id = conn.scalar(
        jobs.insert()
        .values(
            kind=kind,
            state="queued",
            progress=0.0,
            cursor=0,
            total=total,
            params=params,
            created_by=created_by,
            created_at=utcnow(),
        )
        .returning(jobs.c.id)
    )
    if job_id is None:  # pragma: no cover - INSERT ... RETURNING always returns the id
        raise RuntimeError("creating a job returned no id")
    return int(job_id)


def get_job(conn: sa.Connection, *, job_id: int) -> JobRow:
    """The job with this id; `NotFoundError` if there is none."""
    mapping = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if mapping is None:
        raise NotFoundError(f"Job {job_id} does not exist.")
    return _job_row(mapping)


def _locked_job(conn: sa.Connection, job_id: int) -> JobRow:
    # FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the lock
    query = sa.select(jobs).where(jobs.c.id == job_id).with_for_update()
    mapping = conn.execute(query).mappings().first()
    if mapping is None:
        raise NotFoundError(f"Job {job_id} does not exist.")
    return _job_row(mapping)


def start_job(conn: sa.Connection, *, job_id: int, pid: int | None = None) -> None:
    """Mark a queued (or interrupted/failed, when resuming) job as running in process ``pid``.

    ``pid`` defaults to this process. Refuses a job that is done, or running in a live process.
    """
    pid = os.getpid() if pid is None else pid
    job = _locked_job(conn, job_id)
    if job.state == "done":
        raise DataError(f"Job {job_id} is already done; create a new job to run it again.")
    if job.state == "running" and job.pid != pid and pid_alive(job.pid):
        raise DataError(f"Job {job_id} is already running in process {job.pid}.")
    now = utcnow()
    conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(
            state="running",
            pid=pid,
            started_at=sa.func.coalesce(jobs.c.started_at, now),
            heartbeat_at=now,
            finished_at=None,
            error=None,
        )
    )


def update_progress(conn: sa.Connection, *, job_id: int, cursor: int, progress: float) -> None:
    """Record progress (0..1) and the durable cursor of a running job; also a heartbeat.

    Call it in the transaction that commits the records the cursor counts. Raises `DataError`
    if the job is no longer running (e.g. it was marked interrupted): the worker should stop.
    """
    if not 0.0 <= progress <= 1.0:
        raise DataError(f"Progress must be between 0 and 1 (got {progress}).")
    if cursor < 0:
        raise DataError(f"The cursor counts committed records and cannot be negative ({cursor}).")
    result = conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.state == "running")
        .values(cursor=cursor, progress=progress, heartbeat_at=utcnow())
    )
    if result.rowcount == 0:
        state = get_job(conn, job_id=job_id).state
        raise DataError(f"Job {job_id} is {state}, not running; its progress cannot change.")


def finish_job(
    conn: sa.Connection,
    *,
    job_id: int,
    state: str,
    result: Any = None,
    error: str | None = None,
) -> None:
    """End a job as ``done``, ``failed`` or ``interrupted``, with its result or error."""
    if state not in FINAL_STATES:
        raise DataError(f"A job ends as one of {', '.join(FINAL_STATES)}, not {state!r}.")
    job = _locked_job(conn, job_id)
    if job.state == "done":
        raise DataError(f"Job {job_id} is already done.")
    values: dict[str, Any] = {"state": state, "finished_at": utcnow(), "error": error}
    if result is not None:
        values["result"] = result
    if state == "done":
        values["progress"] = 1.0
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def _canonical(options: Any) -> str:
    # compare options as JSON, as stored: tuples equal lists, dates equal their ISO strings
    return json.dumps(json.loads(json_dumps(options)), sort_keys=True)


def find_resumable_import(
    conn: sa.Connection,
    *,
    file_sha256: str,
    options: Any,
    stale_after: timedelta | None = None,
) -> tuple[int, int, int] | None:
    """``(job_id, batch_id, cursor)`` of the latest unfinished import of this file with these
    options, or None.

    Unfinished: ``interrupted`` or ``failed`` (both ended, whatever their pid), or ``running``
    in a process that is gone (or, with ``stale_after``, whose heartbeat is older than that).
    The caller resumes by calling `start_job` and skipping the first ``cursor`` records.
    """
    query = (
        sa.select(
            jobs.c.id,
            jobs.c.state,
            jobs.c.pid,
            jobs.c.heartbeat_at,
            jobs.c.cursor,
            import_batches.c.id.label("batch_id"),
            import_batches.c.options,
        )
        .join(import_batches, import_batches.c.job_id == jobs.c.id)
        .where(
            import_batches.c.file_sha256 == file_sha256,
            import_batches.c.state != "done",
            jobs.c.kind == "import",
            jobs.c.state.in_(_RESUMABLE_STATES),
        )
        .order_by(jobs.c.id.desc(), import_batches.c.id.desc())
    )
    wanted = _canonical(options)
    for row in conn.execute(query):
        if _canonical(row.options) != wanted:
            continue
        # a failed job ended by itself: its process may live on (a web server) and that is fine
        if row.state != "running" or _dead(row.pid, row.heartbeat_at, stale_after):
            return int(row.id), int(row.batch_id), int(row.cursor)
    return None


def mark_stale_jobs_interrupted(
    conn: sa.Connection, *, stale_after: timedelta | None = None
) -> list[int]:
    """Mark running jobs whose process is gone as ``interrupted`` (and their running import
    batches too); return their ids. Run it at start-up and before offering to resume."""
    running = conn.execute(
        sa.select(jobs.c.id, jobs.c.pid, jobs.c.heartbeat_at).where(jobs.c.state == "running")
    ).all()
    stale = [int(r.id) for r in running if _dead(r.pid, r.heartbeat_at, stale_after)]
    if stale:
        now = utcnow()
        conn.execute(
            jobs.update()
            .where(jobs.c.id.in_(stale), jobs.c.state == "running")
            .values(state="interrupted", finished_at=now, error="the process running it stopped")
        )
        conn.execute(
            import_batches.update()
            .where(import_batches.c.job_id.in_(stale), import_batches.c.state == "running")
            .values(state="interrupted", finished_at=now)
        )
    return stale


__all__ = [
    "FINAL_STATES",
    "JobRow",
    "create_job",
    "find_resumable_import",
    "finish_job",
    "get_job",
    "mark_stale_jobs_interrupted",
    "pid_alive",
    "start_job",
    "update_progress",
]
