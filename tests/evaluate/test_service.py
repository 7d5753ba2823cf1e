"""The evaluation of a store as the page and the report see it: discounts imported from a file
reach the cost to serve per tier, the sections are cached per generation of published
snapshots (and a new snapshot invalidates them), before/after a scheme change is put in words,
and backtests run as jobs with their inputs checked."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from tierwise import pipeline
from tierwise.access import ForbiddenError, Principal
from tierwise.classify import classify_store
from tierwise.classify._store import publish_scheme
from tierwise.errors import DataError
from tierwise.evaluate import (
    SECTIONS,
    backtest_job,
    evaluation_view,
    queue_backtest,
    queued_backtests,
    report_data,
    run_queued_backtests,
)
from tierwise.ingest import ImportOptions
from tierwise.scheme import default_scheme
from tierwise.settings import Settings
from tierwise.store.jobs import create_job
from tierwise.store.tables import labels, orders

ADMIN = Principal(user_id=1, username="admin", role="admin")
REP = Principal(user_id=2, username="rep", role="rep")
LAST = date(2026, 6, 30)
SNAPSHOTS = (date(2026, 3, 31), LAST)


@dataclass
class Store:
    settings: Settings
    engine: sa.Engine
    #: the orders file as written: customer, day, amount, discount
    lines: pl.DataFrame


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)


def _build(root: Path) -> Store:
    """60 customers with two years of orders; the orders file names its discount column
    优惠金额 (a Chinese export), about a third of the orders have one."""
    rng = np.random.default_rng(17)
    files = root / "files"
    files.mkdir()
    _write(files / "customers.csv", ["客户编号", "客户名称"],
           [[f"K{i:03d}", f"客户{i}"] for i in range(60)])  # fmt: skip
    rows = []
    for i in range(60):  # test data: a few orders per customer
        n = 1 + int(rng.poisson(1 + i / 10))
        days = sorted(rng.integers(0, 730, n))
        for k, d in enumerate(days):
            day = LAST - timedelta(days=int(d))
            amount = round(float(rng.gamma(3.0, 80.0)) * (1 + i / 20), 2)
            off = round(amount * 0.1, 2) if rng.random() < 0.35 else 0.0
            rows.append([f"SO{i:03d}{k:03d}", f"K{i:03d}", f"{day} 10:00:00", amount, off])
    _write(files / "orders.csv", ["订单编号", "客户编号", "下单时间", "实付金额", "优惠金额"], rows)
    settings = Settings(data_dir=root / "data", mode="dev")
    pipeline.init(settings)
    pipeline.import_paths([files], settings=settings, options=ImportOptions(batch_size=5000))
    engine = pipeline.open_store(settings)
    for day in SNAPSHOTS:
        classify_store(settings, engine, as_of=day, actor="test")
    lines = pl.DataFrame(
        {"customer_id": [r[1] for r in rows],
         "day": [datetime.fromisoformat(r[2]).date() for r in rows],
         "discount": [float(r[4]) for r in rows]}
    )  # fmt: skip
    return Store(settings, engine, lines)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    built = _build(tmp_path_factory.mktemp("discounts"))
    yield built
    built.engine.dispose()


def test_a_file_with_优惠金额_reaches_the_cost_to_serve_per_tier(store: Store) -> None:
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(orders.c.order_id, orders.c.discount)).all()
        tiers = dict(
            conn.execute(
                sa.text(
                    "SELECT c.customer_id, l.label FROM labels l JOIN customers c ON "
                    "c.id = l.customer_pk WHERE l.dimension = 'value_tier' "
                    "AND l.to_snapshot_id IS NULL"
                )
            ).all()
        )
    # the column mapped by its Chinese header: every discount stored as written
    assert len(kept) == store.lines.height
    assert sum(d or 0.0 for _, d in kept) == pytest.approx(store.lines["discount"].sum())
    assert sum(1 for _, d in kept if d) > 10
    # by hand: the discounts of each tier's customers in the year to the snapshot
    start = LAST - timedelta(days=364)
    window = store.lines.filter(pl.col("day") >= start).with_columns(
        pl.col("customer_id").replace_strict(tiers).alias("tier")
    )
    want = dict(window.group_by("tier").agg(pl.col("discount").sum()).iter_rows())
    cost = evaluation_view(store.settings, store.engine, principal=ADMIN, sections=("cost",))
    got = {r["tier"]: r["discounts"] for r in cost["cost"]}
    assert set(got) == set(tiers.values())
    for tier, value in got.items():
        assert value == pytest.approx(want.get(tier, 0.0), abs=0.01), tier
    # the discounts are part of the cost, tier by tier
    for r in cost["cost"]:
        assert r["cost"] >= r["discounts"] and r["margin_after_service"] == pytest.approx(
            r["gross_profit"] - r["cost"], abs=0.02
        )
    assert sum(got.values()) > 0
    # the report has them in its table
    data = report_data(store.settings, store.engine)
    assert [r["discounts"] for r in data["cost"]] == [r["discounts"] for r in cost["cost"]]


def test_the_sections_are_cached_until_a_new_snapshot_is_published(tmp_path: Path) -> None:
    built = _build(tmp_path)
    settings, engine = built.settings, built.engine
    try:
        cold = evaluation_view(settings, engine, principal=ADMIN, lang="zh")
        # seven sections; the holdout needs no work: the default playbooks hold no one out
        assert cold["cache"]["misses"] == 6 and cold["cache"]["hits"] == 0
        assert cold["holdout"] == []
        warm = evaluation_view(settings, engine, principal=ADMIN, lang="zh")
        assert set(cold["cache"]["computed_s"]) == set(SECTIONS) - {"holdout"}
        assert warm["cache"] == cold["cache"] | {"hits": 6, "misses": 0, "computed_s": {}}
        assert {k: v for k, v in warm.items() if k != "cache"} == {
            k: v for k, v in cold.items() if k != "cache"
        }
        uncached = evaluation_view(settings, engine, principal=ADMIN, lang="zh", cache=False)
        for key in ("performance", "cost", "drift", "flow"):  # sums in another order: ≈
            assert _rounded(uncached[key]) == _rounded(warm[key]), key
        root = settings.data_dir / "cache" / "evaluation"
        assert [p.name for p in root.iterdir()] == [cold["cache"]["generation"]]
        assert warm["before_after"] is None  # one scheme version so far
        # the language is not part of what is cached: English from the same files
        english = evaluation_view(settings, engine, principal=ADMIN, lang="en")
        assert english["cache"]["misses"] == 0 and english["labels"] != warm["labels"]
        # a scheme change and a new snapshot: a new generation, the old one removed
        with engine.begin() as conn:
            publish_scheme(conn, scheme=default_scheme().model_copy(update={"name": "v2"}),
                           actor="test", note="renamed")  # fmt: skip
        classify_store(settings, engine, as_of=LAST + timedelta(days=31), actor="test")
        fresh = evaluation_view(settings, engine, principal=ADMIN, lang="en")
        assert fresh["cache"]["generation"] != cold["cache"]["generation"]
        assert fresh["cache"]["misses"] == 6
        assert [p.name for p in root.iterdir()] == [fresh["cache"]["generation"]]
        assert len(fresh["performance"]) == 3
        ba = fresh["before_after"]
        assert ba["before"]["scheme_version"] == 0 and ba["after"]["scheme_version"] == 1
        assert "Scheme version 0 → 1" in ba["summary"]["en"] and "confidence" in ba["summary"]["en"]
        assert "方案版本 0 → 1" in ba["summary"]["zh"] and "置信度" in ba["summary"]["zh"]
    finally:
        engine.dispose()


def test_reps_may_not_evaluate_the_whole_population(store: Store) -> None:
    with pytest.raises(ForbiddenError):
        evaluation_view(store.settings, store.engine, principal=REP)
    with pytest.raises(DataError, match="no_such"):
        evaluation_view(store.settings, store.engine, principal=ADMIN, dimension="no_such")


def test_a_backtest_job_checks_its_inputs_runs_and_keeps_its_result(store: Store) -> None:
    with store.engine.begin() as conn:
        for bad, words in (
            ({"horizon_days": 0}, "Horizon 0 days"),
            ({"as_of": LAST}, f"As-of date {LAST} leaves nothing"),
            ({"scheme_version": 7}, "Scheme version 7 was never published"),
            ({"compare_version": 9}, "Scheme version 9 was never published"),
            ({"dimension": "nope"}, "Dimension 'nope'"),
        ):
            args: dict[str, Any] = {"as_of": date(2025, 12, 31), "horizon_days": 90} | bad
            with pytest.raises(DataError, match=words) as info:
                queue_backtest(conn, principal=ADMIN, **args)
            assert info.value.key and info.value.key.startswith("eval.err_")
        with pytest.raises(ForbiddenError):
            queue_backtest(conn, principal=REP, as_of=date(2025, 12, 31), horizon_days=90)
        job = queue_backtest(conn, principal=ADMIN, as_of=date(2025, 12, 31), horizon_days=90,
                             compare_version=0)  # fmt: skip
        broken = create_job(conn, kind="backtest", params={"as_of": "31/12/2025"})
    with store.engine.connect() as conn:
        assert queued_backtests(conn)[-2:] == [job, broken]
        assert backtest_job(conn, principal=ADMIN, job_id=job)["state"] == "queued"
    assert run_queued_backtests(store.settings, store.engine) >= 2
    with store.engine.connect() as conn:
        done = backtest_job(conn, principal=ADMIN, job_id=job)
        failed = backtest_job(conn, principal=ADMIN, job_id=broken)
        assert queued_backtests(conn) == []
        customers = conn.scalar(sa.select(sa.func.count(sa.distinct(labels.c.customer_pk))))
    assert done["state"] == "done" and done["seconds"] is not None
    res = done["result"]
    assert set(res) >= {"a", "b", "summary", "verdict"} and res["partial"] is None
    assert res["a"]["outcome_period"] == ["2026-01-01", "2026-03-31"]
    assert 0 < sum(t["customers"] for t in res["a"]["tiers"]) <= customers
    assert failed["state"] == "failed" and failed["error"]


def test_the_demo_orders_carry_the_discounts_given_off_the_list_price(tmp_path: Path) -> None:
    from tierwise.demo import generate

    generate(customers=60, out=tmp_path, seed=3, fmt="csv")
    lines = pl.read_csv(tmp_path / "orders.csv")
    sold = lines.filter(pl.col("Amount") >= 0)
    given = sold.filter(pl.col("Discount") > 0)
    assert 0.05 < given.height / sold.height < 0.9  # promotions, not every order
    assert (sold["Discount"] >= 0).all() and (given["Discount"] < given["Amount"]).all()
    # 5, 10 or 15 % off: the list price is the paid one over 0.95, 0.9 or 0.85
    off = given["Discount"] / (given["Amount"] + given["Discount"])
    assert off.round(2).is_in([0.05, 0.1, 0.15]).mean() > 0.95


def test_an_analytic_copy_from_before_the_discount_column_is_copied_afresh(
    store: Store, tmp_path: Path
) -> None:
    import duckdb

    from tierwise.engine import AnalyticCopy

    copy = AnalyticCopy(tmp_path / "analytics.duckdb", store.engine)
    copy.sync()
    with duckdb.connect(str(copy.path)) as db:  # what an older version left behind
        db.execute("ALTER TABLE orders DROP COLUMN discount")
    again = copy.sync()
    assert again.rebuilt and again.read["orders"] == store.lines.height
    assert again.read["customers"] == 0  # the other tables were current: left as they were
    with duckdb.connect(str(copy.path)) as db:
        total = db.execute("SELECT sum(discount) FROM orders").fetchone()
    assert total is not None and total[0] == pytest.approx(store.lines["discount"].sum())
    # `tierwise engine rebuild` copies everything again, the discounts with it
    assert copy.sync(rebuild=True).read["orders"] == store.lines.height
