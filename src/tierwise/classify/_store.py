"""Schemes, snapshots, labels and history in the store (keyword-only persistence functions).

Publishing a snapshot is one transaction: its labels, change events and approval requests are
written and its state set to ``published`` together, so a reader sees the previous snapshot or
the new one, never a mix; a killed run leaves a ``running`` row behind that the next run marks
``failed``, and the previous snapshot stays published.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from tierwise.classify._post import Prior
from tierwise.classify._run import RunResult
from tierwise.errors import ConflictError, NotFoundError, SchemeError
from tierwise.scheme._io import default_scheme, dump_scheme, load_scheme, scheme_hash
from tierwise.scheme._model import Scheme
from tierwise.store import audit, jobs
from tierwise.store.bulk import insert_frame, read_frame
from tierwise.store.labelset import head_snapshot, held_at, labels_at, open_rows, store_labels
from tierwise.store.tables import (
    customers,
    label_changes,
    label_overrides,
    labels,
    pending_changes,
    schemes,
    snapshots,
    utcnow,
)


@dataclass(frozen=True)
class SchemeVersion:
    scheme: Scheme
    version: int  # 0: the shipped default, never published
    scheme_id: int | None
    hash: str


def current_scheme(conn: sa.Connection) -> SchemeVersion:
    """The published scheme (the latest version), or the shipped default before any."""
    row = conn.execute(sa.select(schemes).order_by(schemes.c.version.desc()).limit(1)).first()
    if row is None:
        scheme = default_scheme()
        return SchemeVersion(scheme, 0, None, scheme_hash(scheme))
    return SchemeVersion(load_scheme(row.document), int(row.version), int(row.id), row.hash)


def scheme_for_snapshot(conn: sa.Connection, *, snapshot: sa.Row[Any]) -> Scheme:
    if snapshot.scheme_id is None:
        return default_scheme()
    document = conn.scalar(sa.select(schemes.c.document).where(schemes.c.id == snapshot.scheme_id))
    if document is None:
        raise NotFoundError(f"Scheme of snapshot {snapshot.id} is missing.")
    return load_scheme(document)


def publish_scheme(
    conn: sa.Connection,
    *,
    scheme: Scheme,
    actor: str,
    note: str | None = None,
    actor_id: int | None = None,
    ip: str | None = None,
) -> SchemeVersion:
    """Keep ``scheme`` as the next version; it classifies from the next run on."""
    digest = scheme_hash(scheme)
    current = current_scheme(conn)
    if current.hash == digest and current.scheme_id is not None:
        raise SchemeError(f"This scheme is already published as version {current.version}.")
    version = current.version + 1
    scheme_id = conn.scalar(
        schemes.insert()
        .values(
            version=version,
            name=scheme.name,
            document=dump_scheme(scheme),
            hash=digest,
            note=note,
            published_by=actor,
            published_at=utcnow(),
        )
        .returning(schemes.c.id)
    )
    audit.record(
        conn,
        actor=actor,
        action="scheme.publish",
        entity="scheme",
        entity_id=version,
        before={"version": current.version, "hash": current.hash},
        after={"version": version, "hash": digest, "name": scheme.name},
        actor_id=actor_id,
        ip=ip,
    )
    assert scheme_id is not None
    return SchemeVersion(scheme, version, int(scheme_id), digest)


def latest_snapshot(conn: sa.Connection, *, as_of: date | None = None) -> sa.Row[Any] | None:
    """The published snapshot (the latest one, or the latest as of a date)."""
    q = sa.select(snapshots).where(snapshots.c.state == "published")
    if as_of is not None:
        q = q.where(snapshots.c.as_of <= as_of)
    return conn.execute(
        q.order_by(snapshots.c.as_of.desc(), snapshots.c.id.desc()).limit(1)
    ).first()


def load_prior(conn: sa.Connection, *, as_of: date, stored: bool = False) -> Prior:
    """The published labels, the overrides in force on ``as_of`` and the downgrade requests;
    ``stored``: also the head snapshot's stored rows, which publishing writes against."""
    snap = latest_snapshot(conn)
    prior = Prior(head=head_snapshot(conn))
    if stored and prior.head is not None:
        prior.stored = open_rows(conn)
    if snap is not None and prior.stored is not None and snap.id == prior.head:
        prior.labels = prior.stored.select("customer_pk", "dimension", "label", "since")
    elif snap is not None:
        prior.labels = read_frame(
            conn,
            sa.select(
                labels.c.customer_pk, labels.c.dimension, labels.c.label, labels.c.since
            ).where(held_at(snap.id, head=snap.id == prior.head)),
            {"customer_pk": pl.Int64, "dimension": pl.String, "label": pl.String, "since": pl.Date},
        )
    active = sa.and_(
        label_overrides.c.revoked_at.is_(None),
        sa.or_(label_overrides.c.expires_at.is_(None), label_overrides.c.expires_at > as_of),
    )
    prior.overrides = read_frame(
        conn,
        sa.select(
            label_overrides.c.customer_pk, label_overrides.c.dimension, label_overrides.c.label
        )
        .where(active)
        .order_by(label_overrides.c.id),
        {"customer_pk": pl.Int64, "dimension": pl.String, "label": pl.String},
    )
    prior.pending = read_frame(
        conn,
        sa.select(
            pending_changes.c.id,
            pending_changes.c.customer_pk,
            pending_changes.c.dimension,
            pending_changes.c.from_label,
            pending_changes.c.to_label,
            pending_changes.c.state,
        )
        .where(pending_changes.c.applied_snapshot_id.is_(None))
        .order_by(pending_changes.c.id),
        {
            "id": pl.Int64,
            "customer_pk": pl.Int64,
            "dimension": pl.String,
            "from_label": pl.String,
            "to_label": pl.String,
            "state": pl.String,
        },
    )
    return prior


def snapshot_dir(data_dir: Path, snapshot_id: int) -> Path:
    return data_dir / "snapshots" / str(snapshot_id)


MODELS_FILE = "models.json"


def write_models(folder: Path, report: dict[str, Any]) -> Path:
    """The model stage's report (fitted parameters, cluster centres, fallbacks) of a snapshot."""
    path = folder / MODELS_FILE
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), "utf-8")
    return path


def read_models(folder: Path) -> dict[str, Any]:
    """The report ``write_models`` wrote; empty for a snapshot that used no model."""
    path = folder / MODELS_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def latest_models(data_dir: Path, store: sa.Engine) -> dict[str, Any]:
    """The model report of the latest published snapshot (cluster identities follow it)."""
    with store.connect() as conn:
        snap = latest_snapshot(conn)
    return {} if snap is None else read_models(snapshot_dir(data_dir, snap.id))


def fail_abandoned(conn: sa.Connection) -> int:
    """Snapshots left ``running`` by a process that is gone become ``failed``."""
    rows = conn.execute(
        sa.select(snapshots.c.id, snapshots.c.job_id).where(snapshots.c.state == "running")
    ).all()
    jobs.mark_stale_jobs_interrupted(conn)
    dead = []
    for row in rows:
        if row.job_id is None:
            dead.append(row.id)
            continue
        state = jobs.get_job(conn, job_id=row.job_id).state
        if state != "running":
            dead.append(row.id)
    if dead:
        conn.execute(snapshots.update().where(snapshots.c.id.in_(dead)).values(state="failed"))
    return len(dead)


def begin_snapshot(
    conn: sa.Connection, *, as_of: date, version: SchemeVersion, engine: str, actor: str
) -> tuple[int, int]:
    """A ``running`` snapshot row and its job; returns (snapshot id, job id)."""
    job_id = jobs.create_job(
        conn, kind="classify", params={"as_of": as_of.isoformat(), "engine": engine, "actor": actor}
    )
    jobs.start_job(conn, job_id=job_id, pid=os.getpid())
    snapshot_id = conn.scalar(
        snapshots.insert()
        .values(
            as_of=as_of,
            scheme_id=version.scheme_id,
            scheme_version=version.version,
            scheme_hash=version.hash,
            engine=engine,
            state="running",
            job_id=job_id,
            created_at=utcnow(),
        )
        .returning(snapshots.c.id)
    )
    assert snapshot_id is not None
    return int(snapshot_id), job_id


def publish_snapshot(
    conn: sa.Connection,
    *,
    snapshot_id: int,
    job_id: int,
    result: RunResult,
    version: SchemeVersion,
    prior: Prior,
    actor: str,
) -> dict[str, int]:
    """Write labels, changes and approval requests, and publish: call inside one transaction.
    Returns the label rows written and ended (`store.labelset.store_labels`).

    The labels are written against the head snapshot's rows that ``prior`` holds (read when
    the run started); a snapshot published by another run meanwhile stops this one.
    """
    out = result.outcome
    head = head_snapshot(conn)
    if head != prior.head or (head is not None and head > snapshot_id):
        raise ConflictError(
            f"Another classification published snapshot {head} while snapshot {snapshot_id} was "
            "being computed; run the classification again.",
            key="err.classify_conflict", snapshot=head, mine=snapshot_id,
        )  # fmt: skip
    written = store_labels(
        conn,
        snapshot_id=snapshot_id,
        stored=open_rows(conn) if prior.stored is None else prior.stored,
        new=out.labels,
    )
    changes = out.changes.with_columns(
        pl.lit(snapshot_id).alias("snapshot_id"),
        pl.lit(result.as_of).alias("as_of"),
        pl.lit(version.version).alias("scheme_version"),
        pl.lit(None, pl.Float64).alias("old_score"),
    )
    if changes.height:
        insert_frame(conn, table="label_changes", df=changes)
    if out.new_pending.height:
        now = utcnow()
        insert_frame(
            conn,
            table="pending_changes",
            df=out.new_pending.with_columns(
                pl.lit(snapshot_id).alias("snapshot_id"),
                pl.lit("pending").alias("state"),
                pl.lit(now).alias("created_at"),
            ),
        )
    if out.applied:
        conn.execute(
            pending_changes.update()
            .where(pending_changes.c.id.in_(out.applied))
            .values(applied_snapshot_id=snapshot_id)
        )
    conn.execute(
        snapshots.update()
        .where(snapshots.c.id == snapshot_id)
        .values(
            state="published",
            published_at=utcnow(),
            customers=result.features.height,
            hash=result.result_hash(),
            dimensions=result.dimension_counts(),
            timings=result.timings,
        )
    )
    jobs.finish_job(conn, job_id=job_id, state="done", result={"snapshot_id": snapshot_id})
    audit.record(
        conn,
        actor=actor,
        action="snapshot.publish",
        entity="snapshot",
        entity_id=snapshot_id,
        after={
            "as_of": result.as_of.isoformat(),
            "scheme_version": version.version,
            "customers": result.features.height,
        },
    )
    return written


def customer_pk(conn: sa.Connection, *, customer_id: str) -> int:
    from tierwise.store.tables import customer_aliases

    pk = conn.scalar(sa.select(customers.c.id).where(customers.c.customer_id == customer_id))
    if pk is None:
        pk = conn.scalar(
            sa.select(customer_aliases.c.customer_pk).where(customer_aliases.c.alias == customer_id)
        )
    if pk is None:
        raise NotFoundError(f'Customer "{customer_id}" does not exist.')
    return int(pk)


def history(conn: sa.Connection, *, customer_pk: int) -> list[dict[str, Any]]:
    """Every label change of a customer, oldest first."""
    q = (
        sa.select(
            label_changes.c.as_of,
            label_changes.c.dimension,
            label_changes.c.old_label,
            label_changes.c.new_label,
            label_changes.c.kind,
            label_changes.c.source,
            label_changes.c.scheme_version,
            label_changes.c.new_score,
            label_changes.c.snapshot_id,
        )
        .where(label_changes.c.customer_pk == customer_pk)
        .order_by(label_changes.c.as_of, label_changes.c.snapshot_id, label_changes.c.dimension)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def snapshot_labels(
    conn: sa.Connection, *, snapshot_id: int, customer_pk: int
) -> dict[str, dict[str, Any]]:
    q = sa.select(labels).where(labels_at(conn, snapshot_id), labels.c.customer_pk == customer_pk)
    return {r.dimension: dict(r._mapping) | {"snapshot_id": snapshot_id} for r in conn.execute(q)}


__all__ = [
    "SchemeVersion",
    "begin_snapshot",
    "current_scheme",
    "customer_pk",
    "fail_abandoned",
    "history",
    "latest_models",
    "latest_snapshot",
    "load_prior",
    "publish_scheme",
    "publish_snapshot",
    "read_models",
    "scheme_for_snapshot",
    "snapshot_dir",
    "snapshot_labels",
    "write_models",
]
