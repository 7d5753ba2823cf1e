"""Snapshots, their labels, and jobs (JSON only: the dashboard and customer pages show them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from tierwise.access import job_status, list_snapshots, snapshot_labels
from tierwise.store import read_only
from tierwise.web._deps import CurrentUser, IdPath, StoreDep
from tierwise.web._render import twin

router = APIRouter()


@router.get("/api/v1/snapshots", tags=["snapshots"])
def snapshots_json(
    store: StoreDep, auth: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> JSONResponse:
    """Published classifications, newest first (as of, scheme version, engine, hash, timings)."""
    with read_only(store).connect() as conn:
        return twin(list_snapshots(conn, principal=auth.principal, limit=limit))


@router.get("/api/v1/snapshots/{snapshot_id}/labels", tags=["snapshots"])
def snapshot_labels_json(
    snapshot_id: IdPath, store: StoreDep, auth: CurrentUser,
    dimension: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> JSONResponse:  # fmt: skip
    """A page of a snapshot's labels in scope, by customer id; pass `next_after` as `after`."""
    with read_only(store).connect() as conn:
        return twin(snapshot_labels(conn, principal=auth.principal, snapshot_id=snapshot_id,
                                    dimension=dimension, label=label, after=after, limit=limit))  # fmt: skip


@router.get("/api/v1/jobs/{job_id}", tags=["jobs"])
def job_json(job_id: IdPath, store: StoreDep, auth: CurrentUser) -> dict[str, Any]:
    """A job's state, progress, result or error (classifications; imports for their starter)."""
    with read_only(store).connect() as conn:
        return job_status(conn, principal=auth.principal, job_id=job_id)
