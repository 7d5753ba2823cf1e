"""Labels stored as versions, met through ``tierwise classify``: each snapshot reads back its
own labels, a re-classification writes only what changed, and a snapshot published by another
run meanwhile stops a run instead of being written over (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tierwise import pipeline
from tierwise.classify import classify_store
from tierwise.classify._service import _classify
from tierwise.classify._store import current_scheme, latest_snapshot, load_prior
from tierwise.demo import generate
from tierwise.engine import connect
from tierwise.errors import ConflictError
from tierwise.ingest import ImportOptions
from tierwise.settings import Settings
from tierwise.store import tables
from tierwise.store.labelset import labels_at

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(customers=150, out=out, seed=11, fmt="csv")
    return out


@pytest.fixture
def store(db_url: str, tmp_path: Path, demo_files: Path) -> Iterator[tuple[Settings, sa.Engine]]:
    settings = Settings(data_dir=tmp_path / "data", mode="dev", database_url=db_url)
    pipeline.import_paths([demo_files], settings=settings, options=ImportOptions())
    engine = pipeline.open_store(settings)
    try:
        yield settings, engine
    finally:
        engine.dispose()


def _labels(engine: sa.Engine, snapshot_id: int) -> set[tuple[Any, ...]]:
    lab = tables.labels
    with engine.connect() as conn:
        q = sa.select(
            lab.c.customer_pk, lab.c.dimension, lab.c.label, lab.c.score, lab.c.source,
            lab.c.since,
        ).where(labels_at(conn, snapshot_id))  # fmt: skip
        return {tuple(r) for r in conn.execute(q)}


def _stored_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(tables.labels)) or 0)


def test_each_snapshot_keeps_its_labels_and_only_changes_are_written(store: Any) -> None:
    settings, engine = store
    first = classify_store(settings, engine, as_of=AS_OF)
    rows = first["customers"] * len(first["dimensions"])
    assert first["label_rows_written"] == rows == _stored_rows(engine)
    before = _labels(engine, first["snapshot_id"])
    assert len(before) == rows

    later = classify_store(settings, engine, as_of=AS_OF + timedelta(60))
    assert 0 < later["label_rows_written"] < rows
    assert later["changes"] > 0
    assert _stored_rows(engine) == rows + later["label_rows_written"]
    # the first snapshot still reads back exactly what it was published with
    assert _labels(engine, first["snapshot_id"]) == before
    after = _labels(engine, later["snapshot_id"])
    assert len(after) == later["customers"] * len(later["dimensions"])
    assert after != before

    # the same day again: same labels and scores, nothing written, same hash
    again = classify_store(settings, engine, as_of=AS_OF + timedelta(60))
    assert again["label_rows_written"] == 0 and again["hash"] == later["hash"]
    assert _labels(engine, again["snapshot_id"]) == after
    assert _labels(engine, first["snapshot_id"]) == before


def test_a_snapshot_published_meanwhile_stops_the_run(store: Any) -> None:
    settings, engine = store
    classify_store(settings, engine, as_of=AS_OF)
    with engine.begin() as conn:
        version = current_scheme(conn)
        stale = load_prior(conn, as_of=AS_OF, stored=True)
    other = classify_store(settings, engine, as_of=AS_OF + timedelta(30))
    with connect(settings, engine) as analytics, pytest.raises(ConflictError) as caught:
        _classify(
            settings, engine, analytics, as_of=AS_OF, version=version, prior=stale,
            actor="test", started=0.0,
        )  # fmt: skip
    assert caught.value.key == "err.classify_conflict"
    assert f"snapshot {other['snapshot_id']}" in str(caught.value)
    with engine.connect() as conn:
        snap = latest_snapshot(conn)
        assert snap is not None and snap.id == other["snapshot_id"]
        states = dict(
            conn.execute(sa.select(tables.snapshots.c.id, tables.snapshots.c.state)).all()
        )
    assert sorted(states.values()) == ["failed", "published", "published"]
    rows = other["customers"] * len(other["dimensions"])
    assert len(_labels(engine, other["snapshot_id"])) == rows
