"""Jobs: lifecycle, durable cursor, dead processes found and their imports resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tierwise.errors import DataError, NotFoundError
from tierwise.store import (
    create_job,
    find_resumable_import,
    finish_job,
    get_job,
    mark_stale_jobs_interrupted,
    pid_alive,
    start_job,
    tables,
    update_progress,
    utcnow,
)

SHA = "ab" * 32
OPTIONS: dict[str, Any] = {"kind": "orders", "on_duplicate": "update", "sheets": ["订单"]}


def _import(
    conn: sa.Connection,
    *,
    pid: int,
    state: str = "running",
    options: Any = OPTIONS,
    sha: str = SHA,
    batch_state: str = "running",
    kind: str = "import",
) -> tuple[int, int]:
    """An import job as a crashed or running importer would have left it, with its batch."""
    job_id = create_job(conn, kind=kind, params={"file": "orders.csv"})
    start_job(conn, job_id=job_id, pid=pid)
    update_progress(conn, job_id=job_id, cursor=5000, progress=0.5)
    if state != "running":
        finish_job(conn, job_id=job_id, state=state)
    batch_id = conn.scalar(
        tables.import_batches.insert()
        .values(job_id=job_id, kind="orders", file_sha256=sha, options=options, state=batch_state)
        .returning(tables.import_batches.c.id)
    )
    assert batch_id is not None
    return job_id, int(batch_id)


def test_job_lifecycle(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        job_id = create_job(conn, kind="classify", params={"scheme": "default"}, total=1000)
        job = get_job(conn, job_id=job_id)
        assert (job.state, job.progress, job.cursor, job.total) == ("queued", 0.0, 0, 1000)
        assert job.params == {"scheme": "default"} and job.started_at is None

        start_job(conn, job_id=job_id, pid=os.getpid())
        job = get_job(conn, job_id=job_id)
        assert (job.state, job.pid) == ("running", os.getpid())
        assert job.started_at is not None and job.heartbeat_at is not None

        update_progress(conn, job_id=job_id, cursor=400, progress=0.4)
        job = get_job(conn, job_id=job_id)
        assert (job.cursor, job.progress) == (400, 0.4)
        assert job.heartbeat_at is not None and job.started_at is not None
        assert job.heartbeat_at >= job.started_at

        finish_job(conn, job_id=job_id, state="done", result={"labelled": 1000, "at": utcnow()})
        job = get_job(conn, job_id=job_id)
        assert (job.state, job.progress, job.error) == ("done", 1.0, None)
        assert job.result["labelled"] == 1000 and isinstance(job.result["at"], str)
        assert job.finished_at is not None and job.started_at is not None
        assert job.finished_at >= job.started_at


def test_job_misuse_is_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        job_id = create_job(conn, kind="import", params={})
        with pytest.raises(DataError, match="is queued, not running"):
            update_progress(conn, job_id=job_id, cursor=1, progress=0.1)
        start_job(conn, job_id=job_id)
        with pytest.raises(DataError, match="between 0 and 1"):
            update_progress(conn, job_id=job_id, cursor=1, progress=1.5)
        with pytest.raises(DataError, match="negative"):
            update_progress(conn, job_id=job_id, cursor=-1, progress=0.1)
        with pytest.raises(DataError, match="not 'paused'"):
            finish_job(conn, job_id=job_id, state="paused")
        finish_job(conn, job_id=job_id, state="failed", error="disk full")
        assert get_job(conn, job_id=job_id).error == "disk full"
        start_job(conn, job_id=job_id)  # a failed job may run again (resume)
        finish_job(conn, job_id=job_id, state="done")
        with pytest.raises(DataError, match="already done"):
            start_job(conn, job_id=job_id)
        with pytest.raises(DataError, match="already done"):
            finish_job(conn, job_id=job_id, state="failed")
        with pytest.raises(NotFoundError, match="Job 999"):
            get_job(conn, job_id=999)


def test_a_job_running_in_a_live_process_cannot_be_started_again(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        job_id = create_job(conn, kind="import", params={})
        start_job(conn, job_id=job_id, pid=os.getppid())  # our parent: alive
        with pytest.raises(DataError, match="already running in process"):
            start_job(conn, job_id=job_id, pid=os.getpid())


def test_pid_alive(dead_pid: int) -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid)
    assert not pid_alive(None)
    assert not pid_alive(0)  # os.kill(0, 0) would signal our own process group
    assert not pid_alive(-1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_child_not_yet_reaped_counts_as_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_alive(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        deadline = datetime.now() + timedelta(seconds=10)
        while pid_alive(child.pid) and datetime.now() < deadline:
            pass
        assert not pid_alive(child.pid)  # a zombie until we wait() for it
    finally:
        child.kill()
        child.wait()


def test_import_of_a_dead_process_is_resumable(engine: sa.Engine, dead_pid: int) -> None:
    with engine.begin() as conn:
        job_id, batch_id = _import(conn, pid=dead_pid)
        found = find_resumable_import(conn, file_sha256=SHA, options=dict(OPTIONS))
        assert found == (job_id, batch_id, 5000)
        # the same options as stored JSON: tuples and lists are equal
        same = {**OPTIONS, "sheets": ("订单",)}
        assert find_resumable_import(conn, file_sha256=SHA, options=same) == found


def test_import_running_in_a_live_process_is_not_resumable(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _import(conn, pid=os.getpid())
        assert find_resumable_import(conn, file_sha256=SHA, options=OPTIONS) is None
        # unless its heartbeat stopped (another host, a reused pid)
        conn.execute(tables.jobs.update().values(heartbeat_at=utcnow() - timedelta(hours=1)))
        assert (
            find_resumable_import(
                conn, file_sha256=SHA, options=OPTIONS, stale_after=timedelta(minutes=10)
            )
            is not None
        )


@pytest.mark.parametrize("state", ["interrupted", "failed"])
def test_ended_imports_are_resumable_whatever_their_pid(engine: sa.Engine, state: str) -> None:
    with engine.begin() as conn:
        job_id, batch_id = _import(conn, pid=os.getpid(), state=state)
        assert find_resumable_import(conn, file_sha256=SHA, options=OPTIONS) == (
            job_id,
            batch_id,
            5000,
        )


@pytest.mark.parametrize(
    "other",
    [
        {"options": {**OPTIONS, "on_duplicate": "skip"}},
        {"sha": "cd" * 32},
        {"state": "done"},
        {"batch_state": "done"},
        {"kind": "classify"},
    ],
)
def test_only_the_same_unfinished_import_is_resumable(
    engine: sa.Engine, dead_pid: int, other: dict[str, Any]
) -> None:
    with engine.begin() as conn:
        _import(conn, pid=dead_pid, **other)
        assert find_resumable_import(conn, file_sha256=SHA, options=OPTIONS) is None


def test_latest_resumable_import_wins(engine: sa.Engine, dead_pid: int) -> None:
    with engine.begin() as conn:
        _import(conn, pid=dead_pid, state="interrupted")
        latest = _import(conn, pid=dead_pid, state="interrupted")
        assert find_resumable_import(conn, file_sha256=SHA, options=OPTIONS) == (*latest, 5000)


def test_mark_stale_jobs_interrupted(engine: sa.Engine, dead_pid: int) -> None:
    with engine.begin() as conn:
        crashed, crashed_batch = _import(conn, pid=dead_pid)
        alive, alive_batch = _import(conn, pid=os.getpid())
        finished = create_job(conn, kind="classify", params={})
        start_job(conn, job_id=finished, pid=dead_pid)
        finish_job(conn, job_id=finished, state="done")

        assert mark_stale_jobs_interrupted(conn) == [crashed]
        assert mark_stale_jobs_interrupted(conn) == []

        states = {job: get_job(conn, job_id=job).state for job in (crashed, alive, finished)}
        assert states == {crashed: "interrupted", alive: "running", finished: "done"}
        batches: dict[int, str] = dict(
            conn.execute(sa.select(tables.import_batches.c.id, tables.import_batches.c.state)).all()
        )
        assert batches == {crashed_batch: "interrupted", alive_batch: "running"}
        assert get_job(conn, job_id=crashed).cursor == 5000  # kept for the resume
