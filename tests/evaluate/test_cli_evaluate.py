"""`tierwise backtest`, `report`, `drift`, `migration` on a classified demo store, and the
report in a real browser, offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tierwise.cli import app, said
from tierwise.demo import generate
from tierwise.evaluate import NEW, migration_customers
from tierwise.scheme import DEFAULT_COSTS
from tierwise.store.tables import snapshots

runner = CliRunner()
ENV = {"TIERWISE_MODE": "dev"}
CHROMIUM = Path("/usr/bin/chromium")


def _run(args: list[str], data: Path) -> Any:
    return runner.invoke(app, [*args, "--data-dir", str(data)], env=ENV)


def _json(args: list[str], data: Path) -> Any:
    got = _run([*args, "--json"], data)
    assert got.exit_code == 0, got.output
    return json.loads(got.output)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 demo customers imported and classified twice (June and October 2026)."""
    files = tmp_path_factory.mktemp("files")
    generate(customers=400, out=files, seed=5, fmt="csv")
    data = tmp_path_factory.mktemp("data")
    assert _run(["import", str(files), "--json"], data).exit_code == 0
    for day in ("2026-06-30", "2026-10-31"):
        assert _run(["classify", "--as-of", day, "--json"], data).exit_code == 0
    return data


def _engine(data: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{data / 'tierwise.db'}")


def test_the_migration_matrix_sums_to_the_customer_count(store: Path) -> None:
    out = _json(["migration"], store)
    total = sum(sum(row) for row in out["matrix"])
    engine = _engine(store)
    try:
        with engine.connect() as conn:
            customers = conn.scalar(
                sa.select(snapshots.c.customers).where(snapshots.c.id == out["to_snapshot"])
            )
            assert total == out["customers"] == customers
            # the customers behind a cell, one call away: as many as the cell counts
            i = out["from_labels"].index(NEW) if NEW in out["from_labels"] else 0
            j = max(range(len(out["labels"])), key=lambda k: out["matrix"][i][k])
            who = migration_customers(
                conn, from_snapshot=out["from_snapshot"], to_snapshot=out["to_snapshot"],
                dimension="value_tier", from_label=out["from_labels"][i],
                to_label=out["labels"][j], limit=10_000,
            )  # fmt: skip
            assert len(who) == out["matrix"][i][j] > 0
    finally:
        engine.dispose()
    text = _run(["migration", "--lang", "zh"], store)
    assert text.exit_code == 0 and "迁移" in text.output


def test_migration_names_an_unknown_snapshot(store: Path) -> None:
    got = _run(["migration", "--from", "99"], store)
    assert got.exit_code != 0 and "99" in str(got.exception)


def test_backtest_command_in_json_and_words(store: Path) -> None:
    out = _json(["backtest", "--as-of", "2026-04-30", "--horizon", "120"], store)
    assert out["horizon_days"] == 120 and out["outcome_period"] == ["2026-05-01", "2026-08-28"]
    assert out["top_tier"] == "A" and out["top_lift"] > 1
    assert {r["risk"] for r in out["churn_calibration"]} <= {"low", "mid", "high"}
    text = _run(["backtest", "--as-of", "2026-04-30", "--horizon", "120", "--lang", "zh"], store)
    assert text.exit_code == 0 and "回测" in text.output and "流失风险校准" in text.output
    bad = _run(["backtest", "--as-of", "2026-04-31"], store)
    assert bad.exit_code != 0 and "2026-04-31" in str(bad.exception)
    # a horizon past the data's last order day would count unseen purchases as none
    late = _run(["backtest", "--as-of", "2026-09-30", "--horizon", "120"], store)
    assert late.exit_code != 0 and getattr(late.exception, "key", None) == "eval.horizon_past_data"
    zh = said(late.exception, "zh")
    assert "2027-01-28" in zh and "最后一笔订单" in zh and "--as-of" in zh, zh
    assert "ends 2027-01-28, after the last order in the data" in str(late.exception)


def test_backtest_compares_two_scheme_files(store: Path, tmp_path: Path) -> None:
    from tierwise.scheme import default_scheme_text

    a = tmp_path / "a.yaml"
    a.write_text(default_scheme_text(), encoding="utf-8")
    out = _json(
        ["backtest", "--as-of", "2026-04-30", "--horizon", "90", "--scheme", str(a),
         "--compare", str(a)],
        store,
    )  # fmt: skip
    assert set(out) >= {"a", "b", "summary", "verdict"}
    assert out["summary"]["a"]["top_lift"] == pytest.approx(
        out["summary"]["b"]["top_lift"], rel=1e-9
    )


def test_drift_command(store: Path) -> None:
    out = _json(["drift"], store)
    assert set(out["psi"]) >= {"recency_days", "revenue_365d"}
    assert out["calibration"] is not None and out["calibration"]["days"] == 123
    assert all(w["zh"] and w["en"] for w in out["warnings"])
    assert _run(["drift", "--lang", "zh"], store).exit_code == 0
    strict = _json(["drift", "--tier-size", "0.0001", "--psi", "0.0001"], store)
    assert strict["thresholds"]["psi"] == 0.0001
    assert {w["kind"] for w in strict["warnings"]} >= {"tier_size", "psi"}
    assert len(strict["warnings"]) > len(out["warnings"])
    bad = _run(["drift", "--psi", "0"], store)
    assert bad.exit_code != 0 and "--psi" in str(bad.exception)
    # the churn-risk bands of the older snapshot against who bought in the 123 days since
    churn = out["churn_calibration"]
    assert churn["by"] == "churn_risk" and churn["days"] == 123
    assert [b["band"] for b in churn["bands"]] == ["high", "mid", "low"]
    assert churn["bands"][0]["observed_inactive"] > churn["bands"][-1]["observed_inactive"]
    tight = _json(["drift", "--churn", "0.0001"], store)
    assert "churn_calibration" in {w["kind"] for w in tight["warnings"]}


def test_report_json_has_every_section(store: Path) -> None:
    out = _json(["report", "--backtest-as-of", "2026-04-30", "--horizon", "90"], store)
    assert [p["as_of"] for p in out["performance"]] == ["2026-06-30", "2026-10-31"]
    assert out["performance"][-1]["pareto"][-1]["value_share"] == pytest.approx(1.0)
    assert {"migration", "drift", "cost", "backtest", "holdout", "flow", "before_after"} <= set(out)
    assert sum(r["discounts"] for r in out["cost"]) > 0  # the demo's orders carry discounts
    shares = [t["customer_share"] for t in out["performance"][-1]["tiers"]]
    assert sum(shares) == pytest.approx(1.0)


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
def test_the_html_report_opens_offline_with_its_charts_drawn(store: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report.html"
    got = _run(
        ["report", "--out", str(out), "--backtest-as-of", "2026-04-30", "--lang", "zh"], store
    )
    assert got.exit_code == 0, got.output
    html = out.read_text(encoding="utf-8")
    assert "http://" not in html.split("<script>")[0] and 'src="http' not in html
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page()
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith("file://")
                else (requests.append(route.request.url), route.abort())
            ),
        )
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(out.as_uri())
        page.wait_for_function("window.__tierwiseCharts >= 8", timeout=20_000)
        # every chart's canvas has drawn pixels (not all transparent or white)
        drawn = page.evaluate(
            """() => Array.from(document.querySelectorAll('.chart canvas')).map(c => {
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let ink = 0;
                 for (let i = 0; i < d.length; i += 4) {
                   if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) ink++;
                 }
                 return ink;
               })"""
        )
        title = page.title()
        browser.close()
    assert errors == [] and requests == []
    assert len(drawn) >= 8 and all(n > 100 for n in drawn), drawn
    assert title == "客户分层评估报告"


def test_before_after_around_a_date_with_the_confidence_in_words(store: Path) -> None:
    out = _json(["before-after", "--at", "2026-10-31"], store)
    assert out["before"]["period"] == [None, "2026-06-30"]
    assert out["after"]["period"] == ["2026-06-30", "2026-10-31"]
    ret = out["retention"]
    assert ret["before"] is None and 0 < ret["after"] < 1  # no snapshot before the first
    assert ret["confidence"]["en"] == "not enough data to judge"
    assert out["complaint_rate"]["confidence"]["zh"]
    text = _run(["before-after", "--at", "2026-10-31", "--lang", "zh"], store)
    assert text.exit_code == 0 and "留存率" in text.output
    # both snapshots ran the same scheme: without --at there is no change to compare around
    none = _run(["before-after"], store)
    assert none.exit_code != 0 and "--at" in str(none.exception)


def test_report_costs_per_kind_are_configurable(store: Path) -> None:
    base = _json(["report"], store)["cost"]
    dear = _json(["report", "--cost", "visit=1000", "--hourly-rate", "0"], store)["cost"]
    assert [r["visits"] for r in base] == [r["visits"] for r in dear]
    # service hours now cost nothing; each visit 800 more than the default 200
    for b, d in zip(base, dear, strict=True):
        hours = b["service_hours"] * 60.0
        assert d["cost"] == pytest.approx(b["cost"] - hours + 800.0 * b["visits"], abs=0.05)
    bad = _run(["report", "--cost", "visit"], store)
    assert bad.exit_code != 0 and "visit=300" in str(bad.exception)


def test_the_published_scheme_sets_the_costs_and_the_report_names_them(
    store: Path, tmp_path: Path
) -> None:
    from tierwise.scheme._io import default_scheme_text

    data = tmp_path / "data"
    shutil.copytree(store, data)
    base = _json(["report"], data)
    assert base["cost_prices"] == {"costs": DEFAULT_COSTS, "hourly_rate": 60.0}
    text = default_scheme_text()
    assert "    visit: 200\n" in text and "  hourly_rate: 60 " in text
    scheme = tmp_path / "dear.yaml"
    scheme.write_text(text.replace("    visit: 200\n", "    visit: 1000\n")
                      .replace("  hourly_rate: 60 ", "  hourly_rate: 0 "), encoding="utf-8")  # fmt: skip
    published = _run(["scheme", "publish", str(scheme)], data)
    assert published.exit_code == 0, published.output
    dear = _json(["report"], data)
    # today's prices apply to the latest snapshot (no reclassification needed)
    assert dear["cost_prices"]["costs"]["visit"] == 1000 and dear["cost_prices"]["hourly_rate"] == 0
    flagged = _json(["report", "--cost", "visit=1000", "--hourly-rate", "0"], store)["cost"]
    assert dear["cost"] == flagged
    # a flag still changes one run only
    once = _json(["report", "--cost", "visit=0"], data)
    assert once["cost_prices"]["costs"]["visit"] == 0
    assert _json(["report"], data)["cost_prices"]["costs"]["visit"] == 1000
    bad = _run(["report", "--cost", "vist=3"], data)
    assert bad.exit_code != 0 and "'vist'" in str(bad.exception)
    assert "web_visit" in str(bad.exception)
