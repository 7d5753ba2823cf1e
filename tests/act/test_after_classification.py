"""A classification hands its snapshot to act: follow-ups exist right after `classify_store`."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tierwise import pipeline
from tierwise.classify import classify_store
from tierwise.classify._service import last_order_day
from tierwise.demo import generate
from tierwise.ingest import ImportOptions
from tierwise.settings import Settings
from tierwise.store.tables import labels, tasks


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
