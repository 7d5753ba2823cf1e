"""`tierwise models fit|show`, `forecast`, `recommend` and the models in `explain`, as typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from tierwise.cli import app
from tierwise.demo import generate

runner = CliRunner()
ENV = {"TIERWISE_MODE": "dev"}
CDNOW = Path(__file__).resolve().parent / "data" / "CDNOW_sample.txt"


def _run(args: list[str], data: Path | None = None) -> Any:
    extra = ["--data-dir", str(data)] if data is not None else []
    return runner.invoke(app, [*args, *extra], env=ENV)


def _json(args: list[str], data: Path | None = None) -> Any:
    got = _run([*args, "--json"], data)
    assert got.exit_code == 0, got.output
    return json.loads(got.output)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with 400 demo customers imported and classified (enough for the models)."""
    files = tmp_path_factory.mktemp("files")
    generate(customers=400, out=files, seed=5, fmt="csv")
    data = tmp_path_factory.mktemp("data")
    assert _run(["import", str(files), "--json"], data).exit_code == 0
    summary = _json(["classify", "--as-of", "2026-10-31"], data)
    assert summary["models"]["fitted"]["bgnbd"]["fitted"], summary["models"]
    return data


def test_models_fit_on_a_cdnow_file_reproduces_fader_hardie_lee(tmp_path: Path) -> None:
    rows = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    orders = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "ordered_at": [f"{r[2][:4]}-{r[2][4:6]}-{r[2][6:]}" for r in rows],
            "amount": [float(r[4]) for r in rows],
        }
    )
    path = tmp_path / "cdnow.csv"
    orders.write_csv(path)
    out = _json(
        ["models", "fit", "--orders", str(path), "--as-of", "1997-09-30", "--time-unit", "W"]
    )
    bg = out["bgnbd"]["params"]
    assert [round(bg[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert round(out["bgnbd"]["loglik"], 1) == -9582.4
    pnbd = out["pareto_nbd"]["params"]
    assert [round(pnbd[k], 3) for k in ("r", "alpha", "s", "beta")] == [
        0.553,
        10.578,
        0.606,
        11.669,
    ]
    gg = out["gamma_gamma"]
    assert [round(gg["params"][k], 2) for k in ("p", "q", "gamma")] == [6.25, 3.74, 15.44]
    assert out["repeat_buyers"] == 946 and out["customers"] == 2357
    assert all(v > 0 for v in out["bgnbd"]["se"].values())
    text = _run(["models", "fit", "--orders", str(path), "--as-of", "1997-09-30", "--lang", "zh"])
    assert text.exit_code == 0 and "对数似然" in text.output


def test_models_fit_in_file_mode_needs_the_calibration_end(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("customer_id,ordered_at,amount\nC1,2024-01-01,10\n")
    got = _run(["models", "fit", "--orders", str(path)])
    assert got.exit_code != 0 and "--as-of" in str(got.exception)


def test_models_show_and_fit_on_the_store(store: Path) -> None:
    shown = _json(["models", "show"], store)
    assert shown["models"]["bgnbd"]["fitted"] and shown["fallbacks"] == {}
    assert set(shown["models"]["clusters"]["state"]["descriptions"]) == set(
        shown["models"]["clusters"]["state"]["keys"]
    )
    fitted = _json(["models", "fit", "--time-unit", "W"], store)
    assert fitted["time_unit"] == "W" and fitted["bgnbd"]["fitted"]
    # weeks vs days: the same model, alpha scales with the time unit
    days = shown["models"]["bgnbd"]["state"]["params"]["alpha"]
    assert fitted["bgnbd"]["params"]["alpha"] == pytest.approx(days / 7, rel=1e-3)


def test_forecast_per_tier_adds_up_with_an_interval(store: Path) -> None:
    out = _json(["forecast", "--days", "90"], store)
    tiers = {r["tier"]: r for r in out["tiers"]}
    assert {"A", "B", "C", "D"} <= set(tiers)
    for r in out["tiers"]:
        assert r["low"] <= r["revenue"] <= r["high"]
        assert r["revenue"] == pytest.approx(r["revenue_customers"] + r["revenue_leads"], abs=0.02)
    assert out["total"]["revenue"] == pytest.approx(
        sum(r["revenue"] for r in out["tiers"]), abs=0.1
    )
    # top tier customers are expected to buy more each than the bottom tier's
    per = {t: r["expected_purchases"] / r["customers"] for t, r in tiers.items() if r["customers"]}
    assert per["A"] > per["D"]
    longer = _json(["forecast", "--days", "180"], store)
    assert longer["total"]["revenue_customers"] > out["total"]["revenue_customers"]
    bad = _run(["forecast", "--days", "0"], store)
    assert bad.exit_code != 0 and "--days" in str(bad.exception)


def test_recommend_names_products_not_bought_with_a_reason(store: Path) -> None:
    feats = pl.read_parquet(next(store.glob("snapshots/*/features.parquet")))
    buyers = feats.sort("purchase_days", "customer_id", descending=True).get_column("customer_id")
    for buyer in buyers[:30]:
        out = _json(["recommend", buyer, "--top", "3", "--lang", "zh"], store)
        if out["recommendations"]:
            break
    assert out["customer_id"] == buyer and out["rules"] > 0
    items = out["recommendations"]
    import sqlite3

    with sqlite3.connect(store / "tierwise.db") as db:
        bought = {
            r[0]
            for r in db.execute(
                "SELECT o.product_id FROM orders o JOIN customers c ON c.id = o.customer_pk "
                "WHERE c.customer_id = ?",
                (buyer,),
            )
        }
    assert bought and not bought & {i["product"] for i in items}
    assert items and len(items) <= 3
    assert [i["rank"] for i in items] == sorted(i["rank"] for i in items)
    assert all("提升度" in i["reason"] for i in items)
    text = _run(["recommend", buyer], store)
    assert text.exit_code == 0 and "lift" in text.output
    missing = _run(["recommend", "NO-SUCH-CUSTOMER"], store)
    assert missing.exit_code != 0 and "NO-SUCH-CUSTOMER" in str(missing.exception)


def test_explain_shows_what_the_models_say(store: Path) -> None:
    feats = pl.read_parquet(next(store.glob("snapshots/*/features.parquet")))
    buyer = feats.filter(pl.col("frequency") >= 2).get_column("customer_id")[0]
    out = _json(["explain", buyer, "--lang", "en"], store)
    m = out["models"]
    assert 0 <= m["p_alive"] <= 1 and m["expected_purchases"] >= 0
    assert m["expected_spend"] > 0 and m["clv"] >= 0
    assert m["cluster"]["description"]
    assert out["dimensions"]["behaviour_cluster"]["reason"].endswith(m["cluster"]["description"])
    assert "recommendations" in m


def test_a_tier_whose_playbook_allows_none_gets_no_recommendation(store: Path) -> None:
    import sqlite3

    with sqlite3.connect(store / "tierwise.db") as db:
        row = db.execute(
            "SELECT c.customer_id FROM labels l JOIN customers c ON c.id = l.customer_pk "
            "WHERE l.dimension = 'value_tier' AND l.label = 'D' "
            "AND l.to_snapshot_id IS NULL ORDER BY c.customer_id LIMIT 1"
        ).fetchone()
    out = _json(["recommend", row[0], "--lang", "en"], store)
    assert out["tier"] == "D" and out["policy"] == "none"
    assert out["recommendations"] == [] and "allows no recommendations" in out["note"]


def test_fit_orders_takes_a_dataframe_from_python() -> None:
    import datetime as dt

    import pandas as pd

    from tierwise.models import fit_orders

    rows = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    frame = pd.DataFrame(
        {
            "客户编号": [r[0] for r in rows],  # Chinese headers are recognised as in an import
            "下单时间": [f"{r[2][:4]}-{r[2][4:6]}-{r[2][6:]}" for r in rows],
            "实付金额": [float(r[4]) for r in rows],
        }
    )
    out = fit_orders(frame, as_of=dt.date(1997, 9, 30), time_unit="W")
    assert round(out["bgnbd"]["params"]["r"], 3) == 0.243
    assert round(out["gamma_gamma"]["params"]["gamma"], 2) == 15.44


def test_the_command_says_a_catalogued_error_in_chinese(tmp_path: Path) -> None:
    import subprocess
    import sys

    got = subprocess.run(
        [sys.executable, "-m", "tierwise", "models", "fit", "--time-unit", "X", "--lang", "zh",
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, env={**__import__("os").environ, **ENV}, check=False,
    )  # fmt: skip
    assert got.returncode == 2
    assert "请用 D（天）或 W（周）" in got.stderr and "use D (days) or W (weeks)" in got.stderr
