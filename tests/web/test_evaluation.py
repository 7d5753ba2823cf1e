"""The evaluation pages and their JSON twins: tier metrics over time, the migration matrix and
the customers behind a cell, for the roles that may preview (not reps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


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
    assert 'id="eval-migration"' in page.text and "data-chart=" in page.text
    assert "/evaluation/migration?from=" in page.text


def test_the_customers_behind_a_cell_are_one_click_away(login: Any) -> None:
    c = login("admin")
    m = c.get("/api/v1/evaluation").json()["migration"]
    i, j = max(
        ((i, j) for i in range(len(m["from_labels"])) for j in range(len(m["labels"]))),
        key=lambda ij: m["matrix"][ij[0]][ij[1]],
    )
    params = {"from": m["from_snapshot"], "to": m["to_snapshot"], "row": m["from_labels"][i],
              "col": m["labels"][j], "limit": 1000}  # fmt: skip
    cell = c.get("/api/v1/evaluation/migration", params=params).json()
    assert len(cell["customers"]) == m["matrix"][i][j] > 0
    page = c.get("/evaluation/migration", params=params)
    assert page.status_code == 200 and cell["customers"][0]["customer_id"] in page.text
    zh = c.get("/lang/zh", params={"next": "/evaluation"}, follow_redirects=True)
    assert zh.status_code == 200 and "分层评估" in zh.text and "层级迁移" in zh.text


def test_reps_may_not_see_the_whole_population_evaluation(login: Any) -> None:
    rep = login("rep1")
    assert rep.get("/api/v1/evaluation").status_code == 403
    assert rep.get("/evaluation").status_code == 403


def test_an_unknown_snapshot_is_named(login: Any) -> None:
    c = login("admin")
    got = c.get("/api/v1/evaluation", params={"from": 999, "to": 1})
    assert got.status_code == 404 and got.json()["code"] == "error.not_found"


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)")
def test_the_evaluation_charts_are_drawn_in_chromium(login: Any, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tierwise.web._render import STATIC_DIR

    html = login("ana").get("/evaluation").text
    # the page as served, its /static/ files read from the package (no server needed)
    page_file = tmp_path / "evaluation.html"
    page_file.write_text(html.replace('"/static/', f'"{STATIC_DIR.as_uri()}/'), encoding="utf-8")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_function(
            "document.querySelectorAll('.chart[data-drawn] canvas').length >= 3", timeout=20_000
        )
        ids = page.evaluate(
            "Array.from(document.querySelectorAll('.chart[data-drawn]')).map(e => e.id)"
        )
        browser.close()
    assert errors == []
    assert set(ids) >= {"chart-eval-customers", "chart-eval-revenue", "chart-eval-pareto"}
