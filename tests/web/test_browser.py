"""The web app in a real browser: Debian's chromium driven by Playwright, offline.

Any request to a host other than the app fails the test, and so does any JavaScript dialog
(a stored XSS payload that ran would open one).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from webenv import PASSWORD, WebEnv, build

from tierwise.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium (make test installs it)"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    env = build(tmp_path_factory.mktemp("browser"))
    yield env
    env.store.dispose()


@pytest.fixture(scope="module")
def server(browser_env: WebEnv) -> Iterator[str]:
    port = _free_port()
    app = create_app(browser_env.settings, store=browser_env.store)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture()
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    dialogs: list[str] = []
    origin = urlsplit(server).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(locale="en-US")

        def guard(route: Any) -> None:
            if urlsplit(route.request.url).netloc != origin:
                outside.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", guard)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.set_default_timeout(30_000)
        pg.base = server  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()
    assert not outside, f"requests left the machine: {outside}"
    assert not dialogs, f"a script ran a dialog (XSS?): {dialogs}"
    assert not errors, f"browser errors (CSP violations show here): {errors}"


def _sign_in(pg: Any, username: str = "admin") -> None:
    pg.goto(pg.base + "/")
    assert "/login" in pg.url
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(pg.base + "/")


def _canvas_drawn(pg: Any, selector: str) -> bool:
    return bool(
        pg.eval_on_selector(
            f"{selector} canvas",
            """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                      for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
                      return false; }""",
        )
    )


def test_sign_in_classify_and_see_the_charts(page: Any) -> None:
    _sign_in(page)
    page.click("#classify-now")
    page.wait_for_selector("#classify-done", timeout=120_000)
    page.goto(page.base + "/")
    page.wait_for_selector("#chart-value canvas")
    assert _canvas_drawn(page, "#chart-value")
    assert _canvas_drawn(page, "#chart-churn_risk")
    assert page.locator("#migration td").count() > 0
    # tooltips too: an HTML tooltip's inline styles are CSP violations, which the fixture fails
    _hover_every_chart(page)
    page.goto(page.base + "/evaluation")
    page.wait_for_selector(".chart canvas")
    assert page.locator(".chart canvas").count() >= 4
    _hover_every_chart(page)


def _hover_every_chart(pg: Any) -> None:
    charts = pg.locator(".chart")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        for fx in (0.3, 0.5, 0.7):
            pg.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.5)
            pg.wait_for_timeout(120)


def test_filter_open_override_and_switch_language(page: Any, browser_env: WebEnv) -> None:
    _sign_in(page)
    page.goto(page.base + "/customers")
    before = page.inner_text("#result-count")
    page.click("details:has(input[value='value_tier:A']) summary")
    page.check("input[value='value_tier:A']")
    page.click("#customer-filter button[type=submit]")
    page.wait_for_url("**label=value_tier*")
    after = page.inner_text("#result-count")
    assert after != before
    tags = page.locator("#customers td[data-dimension=value_tier] .tag").all_inner_texts()
    assert tags and all(t.startswith("A ") for t in tags)
    page.click("#customers tbody tr:first-child a")
    page.wait_for_selector("#labels")
    assert page.locator("#labels td.reason").first.inner_text().strip()
    page.select_option("#override-dimension", "churn_risk")
    page.select_option("#override-label", "churn_risk:low")
    page.fill("#override-form input[name=reason]", "Signed a 3-year contract")
    page.click("#override-form button[type=submit]")
    page.wait_for_selector("#overrides")
    assert "Signed a 3-year contract" in page.inner_text("#overrides")
    # switch to Chinese: remembered on every page from then on
    page.click("#lang-switch")
    page.wait_for_load_state()
    for path in ("/", "/customers", f"/customers/{browser_env.pool[0]}", "/admin/users",
                 "/admin/audit", "/tokens", "/schemes", "/imports"):  # fmt: skip
        page.goto(page.base + path)
        assert page.get_attribute("html", "lang") == "zh-CN", path
        text = page.inner_text("body")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), path
        assert "客户" in text or "用户" in text or "令牌" in text or "审计" in text, path
        header = page.inner_text("header")
        assert not any(w in header for w in ("Dashboard", "Customers", "Sign out")), path
        heading = page.inner_text("h1")  # on the 360 page: the customer's name, data
        if not path.startswith("/customers/"):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in heading), (path, heading)


def test_stored_xss_stays_inert_in_the_browser(page: Any, browser_env: WebEnv) -> None:
    _sign_in(page)
    page.goto(page.base + f"/customers/{browser_env.xss_customer}")
    assert "<script>alert('xss')</script>" in page.inner_text("h1")
    page.goto(page.base + "/admin/users")
    assert "<script>alert('xss')</script>" in page.inner_text("#users")


CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def test_import_a_file_through_the_wizard(page: Any, browser_env: WebEnv) -> None:
    import sqlalchemy as sa

    _sign_in(page)
    page.goto(page.base + "/imports")
    page.set_input_files("#upload-file", str(CORPUS / "09_orders_gbk_chinese_headers.csv"))
    page.click("#upload-submit")
    page.wait_for_selector("#dry-run")
    body = page.inner_text("body")
    assert "orders" in body.lower() or "订单" in body
    assert "GB18030" in body or "GBK" in body.upper()
    page.click("#dry-run")
    page.wait_for_selector("#run-import")
    with browser_env.store.connect() as conn:
        before = conn.scalar(sa.text("SELECT count(*) FROM orders"))
    page.click("#run-import")
    page.wait_for_selector("#import-done", timeout=120_000)
    inserted = int(page.inner_text("#count-inserted").replace(",", "").strip())
    with browser_env.store.connect() as conn:
        after = conn.scalar(sa.text("SELECT count(*) FROM orders"))
    assert inserted > 0 and after - before == inserted


def test_preview_then_publish_a_scheme(page: Any, browser_env: WebEnv) -> None:
    from tierwise.classify._store import current_scheme

    with browser_env.store.connect() as conn:
        before = current_scheme(conn).version
    _sign_in(page, "boss")
    page.goto(page.base + "/schemes")
    text = page.input_value("#scheme-document")
    assert "value_tier:" in text
    page.fill("#scheme-document", text.replace("name: Tierwise default", "name: Tierwise 2027", 1))
    page.click("#scheme-validate")
    page.wait_for_selector("#scheme-valid")
    page.click("#scheme-preview-button")
    page.wait_for_selector("#scheme-preview-done", timeout=120_000)
    page.fill("#scheme-note", "Renamed for 2027")
    page.click("#scheme-publish")
    page.wait_for_selector("#scheme-published")
    with browser_env.store.connect() as conn:
        now = current_scheme(conn)
    assert now.version == before + 1 and now.scheme.name == "Tierwise 2027"
    assert "Renamed for 2027" in page.inner_text("#scheme-versions")


def test_a_reps_day(page: Any, browser_env: WebEnv) -> None:
    """rep1 opens My work, completes one follow-up and skips another with a reason, then
    claims a customer from the pool."""
    import sqlalchemy as sa

    _sign_in(page, "rep1")
    page.click("nav a[href='/work']")
    page.wait_for_url(page.base + "/work")
    rows = "#my-work tbody tr[data-task-id]"
    before = page.locator(rows).count()
    assert before >= 2, "rep1 has follow-ups due after the classification"
    first = page.locator(rows).first
    done_id = first.get_attribute("data-task-id")
    first.locator("form.done input[name=note]").fill("谈了新品 / talked about the new range")
    first.locator("form.done button").click()
    page.wait_for_url(page.base + "/work")
    assert page.locator(f"tr[data-task-id='{done_id}']").count() == 0
    second = page.locator(rows).first
    second.locator("form.skip input[name=reason]").fill("customer travelling")
    second.locator("form.skip button").click()
    page.wait_for_url(page.base + "/work")
    assert page.locator(rows).count() == before - 2
    page.click("#lang-switch")
    page.wait_for_selector("h1:has-text('我的待办')")
    # then claims a customer from the public pool (公海), through the page
    page.click("nav a[href='/pool']")
    page.wait_for_url(page.base + "/pool")
    first_in_pool = page.locator("#pool tbody tr[data-customer-id]").first
    cid = first_in_pool.get_attribute("data-customer-id")
    first_in_pool.locator("form.claim button").click()
    page.wait_for_selector("#notice")
    assert cid in page.inner_text("#notice") and "已领取" in page.inner_text("#notice")
    assert page.locator(f"#pool tr[data-customer-id='{cid}']").count() == 0
    assert "今天已领取 1 /" in page.inner_text("#my-budget")
    with browser_env.store.connect() as conn:
        owner = conn.execute(
            sa.text("SELECT u.username FROM customer_owners o JOIN customers c ON c.id = "
                    "o.customer_pk JOIN users u ON u.id = o.user_id WHERE c.customer_id = :c"),
            {"c": cid},
        ).scalar()  # fmt: skip
    assert owner == "rep1"


def test_act_pages_and_a_webhook_test_in_place(page: Any) -> None:
    """The act pages load without a script error; "send test" answers in place (HTMX)."""
    from test_act_pages import Receiver

    receiver = Receiver()
    try:
        _sign_in(page)
        for path in ("/pool", "/complaints", "/churn", "/care", "/export", "/admin/webhooks"):
            page.goto(page.base + path)
            assert page.locator("h1").count() == 1, path
        page.fill("#add-webhook input[name=url]", receiver.url)
        page.fill("#add-webhook input[name=secret]", "browser-secret")
        page.click("#add-webhook button[type=submit]")
        page.wait_for_selector("#notice")
        page.wait_for_load_state("load")  # htmx (a deferred script) has wired the forms
        assert "browser-secret" not in page.content()
        added = page.url
        row = page.locator("#endpoints tr[data-endpoint-id]").last
        row.locator("form.test button").click()
        page.wait_for_selector("#test-ok")
        assert page.url == added  # answered in place: no new page
        assert page.locator("#notice").count() == 1
        assert receiver.bodies and receiver.bodies[-1]["customer"]["id"] == "TEST-001"
    finally:
        receiver.close()
