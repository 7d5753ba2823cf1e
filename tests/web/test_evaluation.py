"""The evaluation pages and their JSON twins: everything the report shows (tier metrics over
time, the migration matrix and the customers behind a cell, the flow, cost to serve, drift,
before/after, holdout uplift) and backtests run as background jobs, for the roles that may
preview (not reps)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from webenv import WebEnv

from tierwise.classify._service import last_order_day

CHROMIUM = Path("/usr/bin/chromium")
SECTION_TWINS = {"flow": "flow", "cost": "cost", "drift": "drift",
                 "before-after": "before_after", "holdout": "holdout"}  # fmt: skip


def _wait(client: Any, job_id: int, seconds: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(f"/api/v1/evaluation/backtests/{job_id}").json()
        if job["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return job  # type: ignore[no-any-return]
        time.sleep(0.3)


def _as_of(env: WebEnv, days: int = 120) -> str:
    return (last_order_day(env.store) - timedelta(days=days)).isoformat()


def test_evaluation_twin_has_metrics_over_time_and_a_matrix_of_every_customer(login: Any) -> None:
    c = login("ana")
    e = c.get("/api/v1/evaluation").json()
    assert len(e["performance"]) == 2 and e["performance"][-1]["pareto"]
    m = e["migration"]
    last = e["performance"][-1]["tiers"]
    assert (
        sum(sum(row) for row in m["matrix"]) == m["customers"] == sum(r["customers"] for r in last)
    )
    page = c.get("/evaluation")
    assert page.status_code == 200
    assert 'id="eval-migration"' in page.text and "data-eval=" in page.text
    assert "/evaluation/migration?from=" in page.text


def test_the_page_shows_every_section_of_the_report(login: Any) -> None:
    c = login("boss")
    e = c.get("/api/v1/evaluation").json()
    m = e["migration"]
    # the flow over the snapshots: each pair's links count the customers in both snapshots
    links = e["flow"]["links"]
    assert [s["id"] for s in e["flow"]["snapshots"]] == [s["id"] for s in e["snapshots"]]
    stayed = sum(n for row, cells in zip(m["from_labels"], m["matrix"], strict=True)
                 if row != "__new__" for n in cells)  # fmt: skip
    assert sum(link["value"] for link in links) == stayed > 0
    # cost to serve per tier, the demo's discounts among the costs
    cost = e["cost"]
    assert [r["tier"] for r in cost][:4] == ["A", "B", "C", "D"]
    assert sum(r["customers"] for r in cost) == m["customers"]
    assert sum(r["discounts"] for r in cost) > 0 and all(r["cost"] >= r["discounts"] for r in cost)
    # drift between the two snapshots, the churn-risk calibration among it
    d = e["drift"]
    assert (d["from_snapshot"], d["to_snapshot"]) == (m["from_snapshot"], m["to_snapshot"])
    churn = d["churn_calibration"]
    assert churn["by"] == "churn_risk" and [b["band"] for b in churn["bands"]] == [
        "high",
        "mid",
        "low",
    ]
    assert sum(b["customers"] for b in churn["bands"]) == churn["customers"] > 0
    assert e["before_after"] is None and e["holdout"] == []  # one scheme, no holdout share
    page = c.get("/evaluation").text
    for part in ("eval-flow", "eval-cost-table", "eval-drift", "eval-drift-churn",
                 "eval-before-after", "eval-holdout", 'action="/evaluation/backtests"'):  # fmt: skip
        assert part in page, part
    zh = c.get("/lang/zh", params={"next": "/evaluation"}, follow_redirects=True).text
    assert "服务成本与毛利" in zh and "漂移预警" in zh and "回测" in zh and "对照组" in zh
    assert "已发布方案的 evaluation 部分" in zh and "拜访 ¥200.00" in zh
    en = c.get("/lang/en", params={"next": "/evaluation"}, follow_redirects=True).text
    assert "Cost to serve against gross profit" in en and "Every published snapshot ran" in en
    assert "visit ¥200.00" in en and "¥60.00 per service hour" in en
    assert e["cost_prices"]["costs"]["web_visit"] == 0 and e["cost_prices"]["hourly_rate"] == 60


def test_each_new_section_has_its_json_twin(login: Any) -> None:
    c = login("ana")
    full = c.get("/api/v1/evaluation").json()
    for path, key in SECTION_TWINS.items():
        got = c.get(f"/api/v1/evaluation/{path}")
        assert got.status_code == 200, path
        one = got.json()
        assert one[key] == full[key], path
        others = {"performance", "migration", "flow", "cost", "drift", "before_after", "holdout"}
        assert not (others - {key}) & set(one), path  # only the section asked for
        assert one["labels"] == full["labels"]
    bad = c.get("/api/v1/evaluation/cost", params={"dimension": "no_such"})
    assert bad.status_code == 422 and "no_such" in bad.json()["detail"]


def test_the_second_visit_is_read_from_the_cache(login: Any, web_env: WebEnv) -> None:
    c = login("admin")
    c.get("/api/v1/evaluation")  # computed (or already cached by an earlier test)
    again = c.get("/api/v1/evaluation").json()["cache"]
    assert again["misses"] == 0 and again["hits"] >= 6
    folder = web_env.settings.data_dir / "cache" / "evaluation" / again["generation"]
    assert len(list(folder.glob("*.json"))) >= 6


def test_a_backtest_runs_in_the_background_and_shows_its_result(
    login: Any, web_env: WebEnv
) -> None:
    c = login("ana")  # an analyst may preview, hence backtest
    body = {"as_of": _as_of(web_env), "horizon_days": 90, "compare_version": 0}
    started = c.post("/api/v1/evaluation/backtests", json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] in ("queued", "running", "done") and job["params"]["horizon_days"] == 90
    job = _wait(c, job["job_id"])
    assert job["state"] == "done", job["error"]
    res = job["result"]
    for side in ("a", "b"):  # the published scheme and the shipped default, side by side
        bt = res[side]
        assert (
            bt["outcome_period"][0]
            == (last_order_day(web_env.store) - timedelta(days=119)).isoformat()
        )
        assert {"revenue", "orders_per_customer", "lift"} <= set(bt["tiers"][0])
        assert [r["risk"] for r in bt["churn_calibration"]] == ["high", "mid", "low"]
        assert len(bt["purchase_calibration"]) == 10 and len(bt["clv_calibration"]) == 10
    assert res["verdict"]["better"] in ("a", "b") and res["verdict"]["zh"]
    assert res["summary"]["a"]["top_tier"] == "A"
    listed = c.get("/api/v1/evaluation/backtests").json()
    assert listed[0]["job_id"] == job["job_id"]
    panel = c.get(f"/evaluation/backtests/{job['job_id']}").text
    assert 'id="backtest-verdict"' in panel and "chart-bt-tiers" in panel and "hx-get" not in panel
    page = c.get("/evaluation", params={"backtest": job["job_id"]}).text
    assert 'id="backtest-result"' in page and "chart-bt-purchases-1" in page


def test_the_backtest_form_queues_one_and_names_bad_input(login: Any, web_env: WebEnv) -> None:
    c = login("admin")
    form = {"as_of": _as_of(web_env, 60), "horizon": "30", "scheme_version": "",
            "compare_version": ""}  # fmt: skip
    panel = c.post_form("/evaluation/backtests", form, headers={"HX-Request": "true"})
    assert panel.status_code == 200 and 'id="backtest-panel"' in panel.text
    found = re.search(r'data-job="(\d+)"', panel.text)
    assert found  # it polls while it runs (unless it was done already)
    assert 'hx-trigger="every 2s"' in panel.text or 'id="backtest-result"' in panel.text
    assert _wait(c, int(found.group(1)))["state"] == "done"
    plain = c.post_form("/evaluation/backtests", form)
    assert plain.status_code == 303 and "backtest=" in plain.headers["location"]
    for bad, named in (
        ({"as_of": "30/06/2026"}, "30/06/2026"),
        ({"horizon": "ninety"}, "ninety"),
        ({"horizon": "0"}, "0"),
        (
            {"as_of": last_order_day(web_env.store).isoformat()},
            last_order_day(web_env.store).isoformat(),
        ),
        ({"compare_version": "99"}, "99"),
    ):
        got = c.post_form("/evaluation/backtests", form | bad)
        assert got.status_code == 422, (bad, got.status_code)
        assert named in got.text, bad
    api = c.post("/api/v1/evaluation/backtests", json={"as_of": "2026-01-01", "horizon_days": 5000})
    assert api.status_code == 422 and "5000" in api.json()["detail"]
    # a version past every id is refused by the request model (it failed in the database: 500)
    for field in ("scheme_version", "compare_version"):
        huge = c.post("/api/v1/evaluation/backtests", json={"as_of": "2026-01-01", field: 2**63})
        assert huge.status_code == 422, (field, huge.status_code)


def test_ids_past_the_largest_are_refused_not_sent_to_the_database(login: Any) -> None:
    c = login("ana")
    huge = 2**63
    for url in (
        f"/api/v1/evaluation?from={huge}",
        f"/api/v1/evaluation?to={huge}",
        f"/api/v1/evaluation/migration?from={huge}&to=1&row=A&col=A",
        f"/api/v1/evaluation/migration?from=1&to=2&row=A&col=A&offset={huge}",
        f"/evaluation?backtest={huge}",
        f"/schemes?from={huge}",
    ):
        got = c.get(url)
        assert got.status_code == 422, (url, got.status_code)


def test_reps_may_not_see_the_whole_population_evaluation(login: Any, web_env: WebEnv) -> None:
    rep = login("rep1")
    assert rep.get("/api/v1/evaluation").status_code == 403
    assert rep.get("/evaluation").status_code == 403
    for path in SECTION_TWINS:
        assert rep.get(f"/api/v1/evaluation/{path}").status_code == 403
    assert rep.get("/api/v1/evaluation/backtests").status_code == 403
    got = rep.post("/api/v1/evaluation/backtests", json={"as_of": _as_of(web_env)})
    assert got.status_code == 403


def test_an_unknown_snapshot_is_named(login: Any) -> None:
    c = login("admin")
    got = c.get("/api/v1/evaluation", params={"from": 999, "to": 1})
    assert got.status_code == 404 and got.json()["code"] == "error.not_found"
    missing = c.get("/api/v1/evaluation/backtests/999999")
    assert missing.status_code == 404


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)")
def test_the_evaluation_charts_are_drawn_in_chromium(
    login: Any, web_env: WebEnv, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    from tierwise.web._render import STATIC_DIR

    c = login("ana")
    body = {"as_of": _as_of(web_env), "horizon_days": 90}
    job = _wait(c, c.post("/api/v1/evaluation/backtests", json=body).json()["job_id"])
    assert job["state"] == "done", job["error"]
    html = c.get("/evaluation", params={"backtest": job["job_id"]}).text
    # the page as served, its /static/ files read from the package (no server needed)
    page_file = tmp_path / "evaluation.html"
    page_file.write_text(html.replace('"/static/', f'"{STATIC_DIR.as_uri()}/'), encoding="utf-8")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_function(
            "document.querySelectorAll('.chart[data-drawn] canvas').length >= 10", timeout=20_000
        )
        # every chart drew something: a series each, and pixels on its canvas
        charts = page.evaluate(
            """() => Array.from(document.querySelectorAll('.chart[data-drawn]')).map(el => {
                 const c = el.querySelector('canvas');
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let ink = 0;
                 for (let i = 0; i < d.length; i += 4) {
                   if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) ink++;
                 }
                 return [el.id, echarts.getInstanceByDom(el).getOption().series.length, ink];
               })"""
        )
        browser.close()
    assert errors == []
    ids = {i for i, _, _ in charts}
    assert ids >= {"chart-eval-customers", "chart-eval-revenue", "chart-eval-pareto",
                   "chart-eval-flow", "chart-eval-cost", "chart-eval-drift-churn",
                   "chart-bt-tiers", "chart-bt-churn-1", "chart-bt-purchases-1",
                   "chart-bt-clv-1"}, ids  # fmt: skip
    assert all(series > 0 and ink > 100 for _, series, ink in charts), charts
