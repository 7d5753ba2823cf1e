"""Classification against the store: snapshots, history, overrides, preview, durability.

A small demo data set goes through the real import path into SQLite or PostgreSQL, then the
published classification is checked the way a user meets it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tierwise import pipeline
from tierwise.classify import (
    classify_store,
    customer_history,
    decide_pending,
    explain_customer,
    list_pending,
    preview_store,
    set_override,
)
from tierwise.classify._store import latest_snapshot
from tierwise.demo import generate
from tierwise.errors import DataError
from tierwise.features._orders import order_days
from tierwise.ingest import ImportOptions
from tierwise.scheme import default_scheme, dump_scheme, load_scheme
from tierwise.settings import Settings
from tierwise.store import tables
from tierwise.store.labelset import labels_at

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(customers=200, out=out, seed=7, fmt="csv")
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


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def _some_customer(engine: sa.Engine, **where: str) -> str:
    with engine.connect() as conn:
        snap = latest_snapshot(conn)
        assert snap is not None
        q = (
            sa.select(tables.customers.c.customer_id)
            .join(tables.labels, tables.labels.c.customer_pk == tables.customers.c.id)
            .where(labels_at(conn, snap.id))
        )
        for dim, label in where.items():
            q = q.where(tables.labels.c.dimension == dim, tables.labels.c.label == label)
        value = conn.scalar(q.order_by(tables.customers.c.id).limit(1))
    assert value is not None, where
    return str(value)


def test_classify_publishes_a_snapshot_and_reruns_identically(store: Any) -> None:
    settings, engine = store
    first = classify_store(settings, engine, as_of=AS_OF)
    n = _count(engine, tables.customers)
    assert first["customers"] == n
    assert set(first["dimensions"]) == set(default_scheme().dimensions)
    assert all(sum(c.values()) == n for c in first["dimensions"].values())
    assert first["changes"] == n * len(default_scheme().dimensions)  # all "new"
    second = classify_store(settings, engine, as_of=AS_OF)
    assert second["hash"] == first["hash"]
    assert second["changes"] == 0
    assert second["timings"]["sync"] >= 0
    with engine.connect() as conn:
        snap = latest_snapshot(conn)
        assert snap is not None and snap.id == second["snapshot_id"]
        states = conn.execute(sa.select(tables.snapshots.c.state)).scalars().all()
    assert states == ["published", "published"]


def test_the_prior_is_read_as_stored(store: Any) -> None:
    # load_prior reads the driver's rows directly (SQLite's dates as text, parsed by Polars)
    import polars as pl

    from tierwise.classify._store import load_prior

    settings, engine = store
    classify_store(settings, engine, as_of=AS_OF)
    with engine.connect() as conn:
        prior = load_prior(conn, as_of=AS_OF)
        snap = latest_snapshot(conn)
        assert snap is not None
        lab = tables.labels
        stored = conn.execute(
            sa.select(lab.c.customer_pk, lab.c.dimension, lab.c.label, lab.c.since).where(
                labels_at(conn, snap.id)
            )
        ).all()
    assert prior.labels.schema["since"] == pl.Date
    assert prior.labels.schema["customer_pk"] == pl.Int64
    assert sorted(prior.labels.rows()) == sorted(tuple(r) for r in stored)
    assert prior.labels.height == len(stored) > 0


def test_history_records_changes_with_scheme_version(store: Any) -> None:
    settings, engine = store
    classify_store(settings, engine, as_of=date(2025, 6, 30))
    classify_store(settings, engine, as_of=AS_OF)
    with engine.connect() as conn:
        pk = conn.scalar(
            sa.select(tables.label_changes.c.customer_pk)
            .where(tables.label_changes.c.kind == "downgrade")
            .order_by(tables.label_changes.c.id)
        )
        customer = conn.scalar(
            sa.select(tables.customers.c.customer_id).where(tables.customers.c.id == pk)
        )
    assert customer is not None, "someone was downgraded between mid 2025 and late 2026"
    changes = customer_history(engine, customer_id=customer)["changes"]
    assert changes[0]["kind"] == "new" and changes[0]["as_of"] == "2025-06-30"
    moved = [c for c in changes if c["as_of"] == AS_OF.isoformat()]
    assert any(c["kind"] == "downgrade" for c in moved)
    assert all(c["old_label"] != c["new_label"] and c["scheme_version"] == 0 for c in moved)


def test_explain_names_the_label_score_and_facts(store: Any) -> None:
    settings, engine = store
    classify_store(settings, engine, as_of=AS_OF)
    customer = _some_customer(engine, value_tier="A")
    en = explain_customer(settings, engine, customer_id=customer, lang="en")
    tier = en["dimensions"]["value_tier"]
    assert tier["label"] == "A"
    assert tier["reason"].startswith("A Key account: score ")
    assert "0.5×R" in tier["reason"] and "total spend: ¥" in tier["reason"]
    zh = explain_customer(settings, engine, customer_id=customer, lang="zh")
    assert zh["dimensions"]["value_tier"]["reason"].startswith("A 重点：得分 ")
    # on the fly for another date: nothing written
    before = _count(engine, tables.snapshots)
    past = explain_customer(settings, engine, customer_id=customer, as_of=date(2026, 10, 15))
    assert past["snapshot_id"] is None and past["as_of"] == "2026-10-15"
    assert _count(engine, tables.snapshots) == before


def test_override_applies_until_it_expires(store: Any) -> None:
    settings, engine = store
    classify_store(settings, engine, as_of=AS_OF)
    customer = _some_customer(engine, value_tier="D")
    with engine.begin() as conn:
        with pytest.raises(DataError, match='Label "Z" is not a label of value_tier'):
            set_override(
                conn,
                customer_id=customer,
                dimension="value_tier",
                label="Z",
                reason="x",
                actor="lily",
            )
        set_override(
            conn,
            customer_id=customer,
            dimension="value_tier",
            label="A",
            reason="strategic account",
            actor="lily",
            expires_at=date(2099, 1, 1),
        )
    classify_store(settings, engine, as_of=AS_OF)
    info = explain_customer(settings, engine, customer_id=customer)["dimensions"]["value_tier"]
    assert (info["label"], info["source"]) == ("A", "override")
    assert "manual override" in info["reason"]
    # the priority grid follows the overridden tier
    history = customer_history(engine, customer_id=customer)["changes"]
    assert any(c["dimension"] == "value_tier" and c["source"] == "override" for c in history)
    # on the expiry date the scheme decides again
    classify_store(settings, engine, as_of=date(2099, 1, 1))
    info = explain_customer(settings, engine, customer_id=customer)["dimensions"]["value_tier"]
    assert info["source"] != "override"
    with engine.connect() as conn:
        actions = conn.execute(sa.select(tables.audit_log.c.action)).scalars().all()
    assert "label.override" in actions and "snapshot.publish" in actions


def test_protected_downgrade_waits_for_a_manager(store: Any, tmp_path: Path) -> None:
    settings, engine = store
    classify_store(settings, engine, as_of=date(2025, 10, 31))
    # a year later many A customers have lapsed; leaving A needs approval
    second = classify_store(settings, engine, as_of=AS_OF)
    assert second["pending_approvals"] > 0
    with engine.connect() as conn:
        waiting = list_pending(conn)
    first = waiting[0]
    info = explain_customer(settings, engine, customer_id=first["customer_id"])
    assert (
        info["dimensions"]["value_tier"]["label"],
        info["dimensions"]["value_tier"]["source"],
    ) == ("A", "pending")
    with engine.begin() as conn:
        decide_pending(conn, pending_id=first["id"], approve=True, actor="boss")
    classify_store(settings, engine, as_of=AS_OF)
    info = explain_customer(settings, engine, customer_id=first["customer_id"])
    assert info["dimensions"]["value_tier"]["label"] != "A"
    with engine.connect() as conn:
        assert not [w for w in list_pending(conn) if w["id"] == first["id"]]


def test_preview_writes_nothing_and_shows_the_effect(store: Any) -> None:
    settings, engine = store
    classify_store(settings, engine, as_of=AS_OF)
    stricter = default_scheme().model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    stricter["dimensions"]["value_tier"]["cut"]["points"] = [2.2, 3.2, 4.9]
    # the toy store is too small for the models: value tier runs its fallback (R, F, M)
    stricter["dimensions"]["value_tier"]["fallback"]["cut"]["points"] = [2.2, 3.2, 4.9]
    draft = load_scheme(dump_scheme(load_scheme(__import__("yaml").safe_dump(stricter))))
    counted = [
        tables.snapshots,
        tables.labels,
        tables.label_changes,
        tables.pending_changes,
        tables.schemes,
        tables.audit_log,
    ]
    before = [_count(engine, t) for t in counted]
    result = preview_store(settings, engine, scheme=draft, as_of=AS_OF)
    assert [_count(engine, t) for t in counted] == before
    matrix = result["migration"]["value_tier"]
    moved_down = result["downgrades"]["value_tier"]
    assert moved_down["count"] == matrix["A"].get("B", 0) > 0
    assert all(c["from"] == "A" and c["to"] == "B" for c in moved_down["customers"])
    assert sum(result["distribution"]["value_tier"].values()) == _count(engine, tables.customers)
    assert set(result["revenue_365d"]["value_tier"]) >= {"A", "B"}
    # publishing today would not move them yet: classified today (under the 30 minimum days)
    # and protected (a manager approves leaving A)
    held = result["held_by_hysteresis"].get("value_tier", 0)
    waiting = result["would_wait_for_approval"].get("value_tier", 0)
    assert held + waiting >= moved_down["count"]


def test_incremental_sync_reads_only_new_orders(store: Any, tmp_path: Path) -> None:
    settings, engine = store
    # rows written within WATERMARK_MARGIN of a sync are read again by the next one (a writer
    # may still have been committing); after that only new rows are read
    time.sleep(2.2)
    classify_store(settings, engine, as_of=AS_OF)
    with engine.connect() as conn:
        some = conn.execute(sa.select(tables.customers.c.customer_id).limit(3)).scalars().all()
    path = tmp_path / "more_orders.csv"
    lines = ["order_id,customer_id,ordered_at,amount"] + [
        f"NEW{i},{c},2026-10-30 10:00,{100 + i}" for i, c in enumerate(some)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipeline.import_paths([path], settings=settings, options=ImportOptions(kind="orders"))
    from tierwise.engine import connect

    analytics = connect(settings, engine)
    assert analytics.sync is not None
    assert 3 <= analytics.sync.read["orders"] < _count(engine, tables.orders) // 10
    assert analytics.sync.read["customers"] == 0
    got = analytics.table("orders").count().execute()
    assert got == _count(engine, tables.orders)
    _assert_rollup_in_step(analytics)
    analytics.backend.disconnect()


def _assert_rollup_in_step(analytics: Any) -> None:
    """The copy's stored order_days equal order_days computed afresh from its order lines."""
    stored = analytics.table("order_days").to_polars().sort("customer_pk", "day")
    fresh = order_days(analytics.table("orders")).to_polars().sort("customer_pk", "day")
    assert stored.height > 0
    assert stored.equals(fresh.select(stored.columns))


def test_the_copy_redoes_order_days_of_changed_and_deleted_orders(store: Any) -> None:
    settings, engine = store
    from tierwise.engine import connect

    time.sleep(2.2)  # past WATERMARK_MARGIN: the next sync reads only what changes below
    connect(settings, engine).close()
    with engine.begin() as conn:
        ids = conn.execute(sa.select(tables.orders.c.id).order_by(tables.orders.c.id)).scalars()
        first, second = list(ids)[:2]
        # a paid line becomes a refund, another line disappears: both customers' days change
        conn.execute(
            sa.update(tables.orders)
            .where(tables.orders.c.id == first)
            .values(status="refunded", updated_at=tables.utcnow())
        )
        conn.execute(sa.delete(tables.orders).where(tables.orders.c.id == second))
    analytics = connect(settings, engine)
    assert analytics.sync is not None
    assert analytics.sync.read["orders"] == 1
    assert analytics.sync.deleted["orders"] == 1
    _assert_rollup_in_step(analytics)
    analytics.close()


def test_a_killed_classification_leaves_the_previous_snapshot_published(
    store: Any, tmp_path: Path
) -> None:
    settings, engine = store
    first = classify_store(settings, engine, as_of=AS_OF)
    env = {
        **os.environ,
        "TIERWISE_DATA_DIR": str(settings.data_dir),
        "TIERWISE_DATABASE_URL": str(settings.database_url),
        "TIERWISE_MODE": "dev",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierwise", "classify", "--as-of", "2026-06-30"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                running = conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(tables.snapshots)
                    .where(tables.snapshots.c.state == "running")
                )
            if running or proc.poll() is not None:
                break
            time.sleep(0.02)
        assert running, "the classification never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with engine.connect() as conn:
        snap = latest_snapshot(conn)
        assert snap is not None and snap.id == first["snapshot_id"]
        kept = conn.scalar(
            sa.select(sa.func.count())
            .select_from(tables.labels)
            .where(labels_at(conn, first["snapshot_id"]))
        )
    assert kept == first["customers"] * len(first["dimensions"])
    again = classify_store(settings, engine, as_of=AS_OF)
    assert again["hash"] == first["hash"]
    with engine.connect() as conn:
        states = {
            row.id: row.state
            for row in conn.execute(sa.select(tables.snapshots.c.id, tables.snapshots.c.state))
        }
    assert sorted(states.values()) == ["failed", "published", "published"]


@pytest.mark.postgres
def test_postgres_engine_agrees_with_duckdb(pg_url: str, tmp_path: Path, demo_files: Path) -> None:
    from tierwise.store import upgrade

    upgrade(pg_url)
    settings = Settings(data_dir=tmp_path / "data", mode="dev", database_url=pg_url)
    pipeline.import_paths([demo_files], settings=settings, options=ImportOptions())
    engine = pipeline.open_store(settings)
    try:
        on_duckdb = classify_store(settings, engine, as_of=AS_OF, engine="duckdb")
        on_postgres = classify_store(settings, engine, as_of=AS_OF, engine="postgres")
    finally:
        engine.dispose()
    assert on_postgres["engine"] == "postgres"
    assert on_postgres["hash"] == on_duckdb["hash"]
    assert on_postgres["changes"] == 0
