"""Snapshots (published classifications), the labels of one, and jobs — as a caller may see them.

Label pages are scoped like every customer read: a rep pages through their own customers' and
the public pool's labels only.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Final

import sqlalchemy as sa

from tierwise.access._principal import Principal, scope_clause
from tierwise.errors import NotFoundError
from tierwise.store import audit
from tierwise.store.jobs import get_job
from tierwise.store.labelset import labels_at
from tierwise.store.tables import customers, labels, snapshots

LABELS_PAGE_MAX: Final = 1000


def list_snapshots(
    conn: sa.Connection, *, principal: Principal, limit: int = 100
) -> list[dict[str, Any]]:
    """Published snapshots, newest first: as of, scheme version, engine, counts, hash, timings.

    The label counts are of every customer (a snapshot's own figures); use the dashboard for
    counts in scope."""
    principal.require("read")
    cols = [snapshots.c[c] for c in ("id", "as_of", "scheme_version", "scheme_hash", "engine",
                                     "customers", "hash", "timings", "created_at", "published_at")]  # fmt: skip
    if principal.role in ("admin", "analyst"):
        cols.append(snapshots.c.dimensions)
    query = (
        sa.select(*cols)
        .where(snapshots.c.state == "published")
        .order_by(snapshots.c.as_of.desc(), snapshots.c.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    return [audit.jsonable(dict(r)) for r in conn.execute(query).mappings()]


def _published(conn: sa.Connection, snapshot_id: int) -> None:
    state = conn.scalar(sa.select(snapshots.c.state).where(snapshots.c.id == snapshot_id))
    if state != "published":
        raise NotFoundError(f"Snapshot {snapshot_id} does not exist.")


def snapshot_labels(
    conn: sa.Connection,
    *,
    principal: Principal,
    snapshot_id: int,
    dimension: str | None = None,
    label: str | None = None,
    after: str | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    """One page of a snapshot's labels in scope, ordered by customer id; ``after`` is the last
    customer id of the previous page (keyset paging: every page costs the same)."""
    principal.require("read")
    _published(conn, snapshot_id)
    query = (
        sa.select(customers.c.customer_id, labels.c.dimension, labels.c.label, labels.c.score,
                  labels.c.source, labels.c.since)
        .join(customers, customers.c.id == labels.c.customer_pk)
        .where(labels_at(conn, snapshot_id), scope_clause(principal))
    )  # fmt: skip
    if dimension:
        query = query.where(labels.c.dimension == dimension)
    if label:
        query = query.where(labels.c.label == label)
    if after:
        query = query.where(customers.c.customer_id > after)
    size = max(1, min(limit, LABELS_PAGE_MAX))
    rows = [
        audit.jsonable(dict(r))
        for r in conn.execute(
            query.order_by(customers.c.customer_id, labels.c.dimension).limit(size)
        ).mappings()
    ]
    full = len(rows) == size
    if full:
        # end the page at a customer boundary, so that `after` never splits one customer
        last = rows[-1]["customer_id"]
        complete = [r for r in rows if r["customer_id"] != last]
        rows = complete or rows
    return {
        "snapshot_id": snapshot_id,
        "labels": rows,
        "next_after": rows[-1]["customer_id"] if full and rows else None,
    }


def job_status(conn: sa.Connection, *, principal: Principal, job_id: int) -> dict[str, Any]:
    """A job's state and progress. Classification jobs are visible to every reader; other jobs
    (imports) to admins and to the user who started them; otherwise: not found."""
    principal.require("read")
    try:
        job = get_job(conn, job_id=job_id)
    except NotFoundError:
        raise NotFoundError(f"Job {job_id} does not exist.") from None
    if job.kind != "classify" and principal.role != "admin" and job.created_by != principal.user_id:
        raise NotFoundError(f"Job {job_id} does not exist.")
    data = asdict(job)
    data.pop("pid", None)
    out: dict[str, Any] = audit.jsonable(data)
    return out


__all__ = ["job_status", "list_snapshots", "snapshot_labels"]
