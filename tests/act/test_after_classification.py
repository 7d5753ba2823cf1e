"""A classification hands its snapshot to act: follow-ups exist right after `classify_store`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from tierwise import pipeline
from tierwise.act._churn import REASON_FEATURES
from tierwise.classify import classify_store
from tierwise.classify._service import last_order_day
from tierwise.classify._store import snapshot_dir
from tierwise.demo import generate
from tierwise.ingest import ImportOptions
from tierwise.models._explain import churn_reasons
from tierwise.settings import Settings
from tierwise.store.tables import label_changes, labels, tasks


def test_classification_generates_follow_ups_by_the_playbooks(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", mode="dev")
    pipeline.init(settings)
    generate(customers=120, out=tmp_path / "files", seed=3, fmt="csv")
    pipeline.import_paths([tmp_path / "files"], settings=settings,
                          options=ImportOptions(batch_size=5000))  # fmt: skip
    store = pipeline.open_store(settings)
    try:
        classify_store(settings, store, as_of=last_order_day(store), actor="test")
        with store.connect() as conn:
            tiers = dict(
                conn.execute(
                    sa.select(labels.c.label, sa.func.count())
                    .where(labels.c.dimension == "value_tier")
                    .group_by(labels.c.label)
                ).all()
            )
            planned = dict(
                conn.execute(
                    sa.select(tasks.c.playbook_tier, sa.func.count())
                    .where(tasks.c.kind == "follow_up", tasks.c.status == "open")
                    .group_by(tasks.c.playbook_tier)
                ).all()
            )
    finally:
        store.dispose()
    # one open follow-up per customer of a tier with a cadence (A, B, C); none for D
    assert planned == {t: n for t, n in tiers.items() if t in ("A", "B", "C")}
    assert "D" not in planned


def test_a_second_classification_warns_of_churn_with_reasons_from_the_features(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", mode="dev")
    pipeline.init(settings)
    generate(customers=300, out=tmp_path / "files", seed=5, fmt="csv")
    pipeline.import_paths([tmp_path / "files"], settings=settings,
                          options=ImportOptions(batch_size=5000))  # fmt: skip
    store = pipeline.open_store(settings)
    try:
        last = last_order_day(store)
        classify_store(settings, store, as_of=last - timedelta(days=240), actor="test")
        second = classify_store(settings, store, as_of=last, actor="test")
        path = snapshot_dir(settings.data_dir, second["snapshot_id"]) / "features.parquet"
        with store.connect() as conn:
            entered = conn.scalar(
                sa.select(sa.func.count()).where(
                    label_changes.c.snapshot_id == second["snapshot_id"],
                    label_changes.c.dimension == "churn_risk",
                    label_changes.c.new_label == "high",
                    label_changes.c.kind != "new",
                )
            )
            found = conn.execute(
                sa.select(tasks.c.customer_pk, tasks.c.reason_key, tasks.c.reason_params)
                .where(tasks.c.kind == "win_back")
            ).all()  # fmt: skip
    finally:
        store.dispose()
    # the snapshot holds every feature the reasons are made of
    assert set(REASON_FEATURES) <= set(pl.read_parquet_schema(path))
    assert entered and len(found) == entered
    explained = [r for r in found if r.reason_key == "task.win_back.reasons"]
    assert explained, "no win-back task names a reason"
    features = pl.read_parquet(path).filter(
        pl.col("customer_pk").is_in([int(r.customer_pk) for r in explained])
    )
    rows = {int(r["customer_pk"]): r for r in features.iter_rows(named=True)}
    for r in explained:  # the words `tierwise explain` uses for that customer
        assert r.reason_params["reasons"]["en"] == churn_reasons(rows[int(r.customer_pk)])
        assert r.reason_params["reasons"]["zh"] == churn_reasons(rows[int(r.customer_pk)],
                                                                 lang="zh")  # fmt: skip
