"""Churn warnings say why: the churn score's largest parts, in zh and en, from the snapshot's
features — in the win-back task, in ``churn_warnings`` and in the churn_warning webhook."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import sqlalchemy as sa
from act_world import NOW, World

from tierwise.act import add_endpoint, after_classification, churn_warnings, deliver_due
from tierwise.act._churn import warning_reasons
from tierwise.act._outbox import _event
from tierwise.classify._store import snapshot_dir
from tierwise.store.tables import tasks, webhook_deliveries

AT_RISK = {  # P(alive) 12 %, 4x their own rhythm, 2 open complaints: 39.6 + 25 + 15 points
    "frequency": 5.0, "purchase_days": 6, "p_alive": 0.12, "recency_days": 200.0,
    "rhythm_ratio": 4.0, "median_gap_days": 30.0, "complaints_open": 2.0,
    "negative_share": 0.5, "spend_trend": -0.6,
}  # fmt: skip
ZH = ["存活概率仅 12%", "距上次购买已是自身购买间隔（30 天）的 4.0 倍", "有 2 条未解决投诉"]
EN = [
    "probability alive only 12%",
    "4.0× their own purchase interval (30 days) since the last order",
    "2 open complaint(s)",
]


def _features(data_dir: Path, world: World, rows: dict[str, dict[str, float]]) -> None:
    folder = snapshot_dir(data_dir, world.snapshot_id)
    folder.mkdir(parents=True)
    frame = pl.DataFrame([{"customer_pk": world.pks[c], **v} for c, v in rows.items()])
    frame.write_parquet(folder / "features.parquet")


def _entering(world: World, data_dir: Path) -> dict[str, object]:
    with world.engine.begin() as conn:
        add_endpoint(conn, principal=world.user("admin"), url="http://127.0.0.1:9/hook",
                     events=["churn_warning"])  # fmt: skip
        for cid in ("R1", "Q1", "S1"):
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        low = {"R1": "low", "Q1": "low", "S1": "low"}
        world.classify(conn, {"R1": "B", "Q1": "B", "S1": "B"}, extra={"churn_risk": low})
        after_classification(conn, now=NOW)
        high = {"R1": "high", "Q1": "high", "S1": "low"}
        world.classify(conn, {"R1": "B", "Q1": "B", "S1": "B"}, extra={"churn_risk": high})
        # Q1 has features but nothing worth naming; S1 did not enter the churn label
        _features(data_dir, world, {"R1": AT_RISK, "S1": AT_RISK,
                                    "Q1": {"frequency": 3.0, "purchase_days": 4, "p_alive": 0.99}})  # fmt: skip
        result: dict[str, object] = after_classification(conn, now=NOW, data_dir=data_dir)
    return result


def test_warnings_carry_the_top_reasons_in_both_languages(world: World, tmp_path: Path) -> None:
    result = _entering(world, tmp_path)
    assert result["churn"] == {"warnings": 2, "events": 2, "explained": 1}
    with world.engine.connect() as conn:
        params = dict(conn.execute(
            sa.select(tasks.c.customer_pk, tasks.c.reason_params).where(tasks.c.kind == "win_back")
        ).all())  # fmt: skip
        zh = {w["customer_id"]: w for w in churn_warnings(conn, principal=world.user("li"),
                                                           now=NOW, lang="zh")}  # fmt: skip
        en = {w["customer_id"]: w for w in churn_warnings(conn, principal=world.user("li"),
                                                           now=NOW, lang="en")}  # fmt: skip
        payloads = {r.event_key: r for r in conn.execute(
            sa.select(webhook_deliveries).order_by(webhook_deliveries.c.id)).mappings()}  # fmt: skip
    assert params[world.pks["R1"]]["reasons"] == {"zh": ZH, "en": EN}
    assert zh["R1"]["churn_reasons"] == ZH and en["R1"]["churn_reasons"] == EN
    assert zh["R1"]["reason"] == (
        "流失预警：churn_risk 由 low 变为 high（" + "；".join(ZH) + "），请在 3 天内电话挽回"
    )
    assert en["R1"]["reason"].startswith(
        "Churn warning: churn_risk went from low to high (probability alive only 12%; 4.0×"
    )
    # nothing worth naming: the label change alone, as before
    assert zh["Q1"]["churn_reasons"] == [] and "reasons" not in params[world.pks["Q1"]]
    assert en["Q1"]["reason"] == (
        "Churn warning: churn_risk went from low to high; win back by call within 3 days"
    )
    event = _event(payloads[f"churn_warning:{world.snapshot_id}:{world.pks['R1']}"])
    assert event.summary_zh == (
        "Name R1 流失预警：churn_risk 由 low 变为 high；主要原因：" + "；".join(ZH)
    )
    assert event.summary_en.endswith("main reasons: " + "; ".join(EN))
    assert event.details["reasons"] == {"zh": ZH, "en": EN}
    plain = _event(payloads[f"churn_warning:{world.snapshot_id}:{world.pks['Q1']}"])
    assert plain.summary_en == "Name Q1 churn warning: churn_risk went from low to high"
    # queued once: a second run adds nothing
    with world.engine.begin() as conn:
        again = after_classification(conn, now=NOW, data_dir=tmp_path)
    assert again["churn"] == {"warnings": 0, "events": 0, "explained": 1}
    assert deliver_due(world.engine, now=NOW)["retrying"] == 2  # nobody listens on port 9


def test_without_the_features_file_the_warning_names_the_change_only(
    world: World, tmp_path: Path
) -> None:
    with world.engine.begin() as conn:
        world.customer(conn, "R1")
        world.classify(conn, {"R1": "B"}, extra={"churn_risk": {"R1": "low"}})
        world.classify(conn, {"R1": "B"}, extra={"churn_risk": {"R1": "high"}})
        result = after_classification(conn, now=NOW, data_dir=tmp_path)
        key = conn.scalar(sa.select(tasks.c.reason_key).where(tasks.c.kind == "win_back"))
    assert result["churn"]["warnings"] == 1 and result["churn"]["explained"] == 0
    assert key == "task.win_back"


def test_only_the_customers_asked_for_are_read(tmp_path: Path) -> None:
    folder = snapshot_dir(tmp_path, 7)
    folder.mkdir(parents=True)
    pl.DataFrame([{"customer_pk": pk, **AT_RISK} for pk in range(1, 1001)]).write_parquet(
        folder / "features.parquet", row_group_size=100
    )
    got = warning_reasons(tmp_path, 7, [3, 999, 5000])
    assert sorted(got) == [3, 999]
    assert got[3] == {"zh": ZH, "en": EN}
    assert warning_reasons(None, 7, [3]) == {} and warning_reasons(tmp_path, 8, [3]) == {}
