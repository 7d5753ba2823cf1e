"""The scheme editor, as pages and as REST API: validation at the YAML line, preview, publish.

One small classified demo store for the module (300 customers); users of every role sign in
through ``POST /login`` like a browser and send the page's CSRF token like HTMX does.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tierwise import pipeline
from tierwise.classify import classify_store
from tierwise.classify._service import last_order_day
from tierwise.classify._store import current_scheme, publish_scheme
from tierwise.demo import generate
from tierwise.ingest import ImportOptions
from tierwise.scheme import (
    default_scheme_text,
    dump_scheme,
    load_scheme,
    parse_scheme,
    scheme_hash,
)
from tierwise.scheme._io import to_data
from tierwise.settings import Settings
from tierwise.store import create_user
from tierwise.store.tables import (
    audit_log,
    customer_owners,
    customers,
    jobs,
    label_changes,
    labels,
    schemes,
    snapshots,
)
from tierwise.web import create_app
from tierwise.web._schemes import preview_token

PASSWORD = "correct-horse-battery"
USERS = {"s_admin": "admin", "s_boss": "manager", "s_ana": "analyst", "s_rep": "rep"}
XSS = "<script>alert(1)</script>"
BAD_CUT = "points: [2.2, 3.2, 3.0]"


@dataclass
class Env:
    settings: Settings
    store: sa.Engine
    app: Any


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("schemes")
    settings = Settings(data_dir=root / "data", mode="dev")
    pipeline.init(settings)
    generate(customers=300, out=root / "files", seed=1, fmt="csv")
    pipeline.import_paths([root / "files"], settings=settings, options=ImportOptions())
    store = pipeline.open_store(settings)
    classify_store(settings, store, as_of=last_order_day(store))
    with store.begin() as conn:
        for username, role in USERS.items():
            create_user(conn, username=username, password=PASSWORD, role=role)
    yield Env(settings, store, create_app(settings, store=store))
    store.dispose()


class Browser:
    """A signed-in client that sends the page's CSRF token as HTMX does."""

    def __init__(self, app: Any, username: str, lang: str = "en") -> None:
        self.client = TestClient(app)
        self.client.cookies.set("tw_lang", lang)
        answer = self.client.post(
            "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.client.get("/schemes").text)
        assert found is not None
        self.csrf = found[1]

    def hx(self, path: str, data: dict[str, str]) -> Any:
        return self.client.post(
            path, data=data, headers={"X-CSRF-Token": self.csrf, "HX-Request": "true"}
        )

    def api(self, path: str, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf} | kw.pop("headers", {})
        return self.client.post(path, headers=headers, **kw)


@pytest.fixture(scope="module")
def browsers(env: Env) -> dict[str, Browser]:
    return {name: Browser(env.app, name) for name in USERS}


def _count(store: sa.Engine, table: sa.Table) -> int:
    with store.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def _current(env: Env) -> tuple[int, str]:
    with env.store.connect() as conn:
        current = current_scheme(conn)
    return current.version, dump_scheme(current.scheme)


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _token(env: Env, document: str, version: int | None = None) -> str:
    published = _current(env)[0] if version is None else version
    digest = scheme_hash(load_scheme(document))
    return preview_token(env.settings, digest=digest, version=published)


def _draft(env: Env, label_en: str) -> str:
    """The published scheme with the value tier's top label renamed (a new document)."""
    data = to_data(load_scheme(_current(env)[1]))
    data["dimensions"]["value_tier"]["labels"][-1]["en"] = label_en
    return dump_scheme(parse_scheme(data))


class _Form(HTMLParser):
    """The fields of the editor form as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and "name" in a:
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a["value"]
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def _form(page: str) -> dict[str, str]:
    start = page.index('<form method="post" action="/schemes/validate"')
    parser = _Form()
    parser.feed(page[start : page.index("</form>", start)])
    # a browser drops the one newline that follows <textarea>
    parser.fields["document"] = parser.fields["document"].removeprefix("\n")
    return parser.fields


def _textarea(page: str) -> str:
    found = re.search(r'<textarea name="document"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert found is not None
    return html.unescape(found[1]).removeprefix("\n")


# -- validation -------------------------------------------------------------------------------


def test_validate_api_gives_each_error_its_yaml_line(browsers: dict[str, Browser]) -> None:
    text = default_scheme_text().replace("points: [2.2, 3.2, 4.0]", BAD_CUT)
    text = text.replace("feature: orders_365d", "feature: orders_356d")
    got = browsers["s_rep"].api(
        "/api/v1/schemes/validate", content=text, headers={"Content-Type": "application/yaml"}
    )
    assert got.status_code == 200
    body = got.json()
    assert body["ok"] is False
    assert [(e["path"], e["line"]) for e in body["errors"]] == [
        ("dimensions.value_tier.cut.points[2]", _line(text, BAD_CUT))
    ]  # the model check stops at the first broken dimension; feature checks come after
    fixed = text.replace(BAD_CUT, "points: [2.2, 3.2, 4.0]")
    got = browsers["s_rep"].api("/api/v1/schemes/validate", json={"document": fixed})
    assert [(e["path"], e["line"]) for e in got.json()["errors"]] == [
        ("dimensions.purchase_frequency.feature", _line(fixed, "feature: orders_356d"))
    ]
    assert "orders_365d" in got.json()["errors"][0]["message"]  # the suggestion


def test_validate_api_yaml_syntax_error_and_good_document(browsers: dict[str, Browser]) -> None:
    api = browsers["s_ana"].api
    yaml_type = {"Content-Type": "application/yaml"}
    broken = api("/api/v1/schemes/validate", content="name: x\ndimensions:\n  a: [1, 2\n",
                 headers=yaml_type).json()  # fmt: skip
    assert broken["ok"] is False and broken["errors"][0]["path"] is None
    assert broken["errors"][0]["line"] == 4  # the list is still open at the end
    good = api("/api/v1/schemes/validate", content=default_scheme_text(), headers=yaml_type)
    assert good.json() | {"dimensions": []} == {
        "ok": True, "errors": [], "name": "Tierwise default", "dimensions": [],
        "hash": scheme_hash(load_scheme(default_scheme_text())),
    }  # fmt: skip
    refused = api("/api/v1/schemes/validate", json={"document": 3})
    assert refused.status_code == 422


def test_validate_page_shows_the_line_and_escapes(env: Env, browsers: dict[str, Browser]) -> None:
    text = default_scheme_text().replace("points: [2.2, 3.2, 4.0]", BAD_CUT)
    text = text.replace("currency: CNY", f'currency: CNY\n"{XSS}": 1')
    en = browsers["s_rep"].hx("/schemes/validate", {"document": text})
    assert en.status_code == 200
    assert f'data-line="{_line(text, XSS)}"' in en.text
    assert f"line {_line(text, XSS)}" in en.text
    assert XSS not in en.text and html.escape(XSS, quote=False) in en.text
    assert f"line {_line(text, BAD_CUT)}" in en.text
    zh = Browser(env.app, "s_rep", lang="zh")
    got = zh.hx("/schemes/validate", {"document": text}).text
    assert f"第 {_line(text, XSS)} 行" in got and "发现 2 个问题" in got


def test_problems_are_said_in_the_readers_language(env: Env, browsers: dict[str, Browser]) -> None:
    text = default_scheme_text().replace("feature: orders_365d", "feature: orders_356d")
    en = browsers["s_rep"].hx("/schemes/validate", {"document": text}).text
    assert "unknown feature &#39;orders_356d&#39;. Did you mean orders_365d" in en
    zh_rep = Browser(env.app, "s_rep", lang="zh")
    zh = zh_rep.hx("/schemes/validate", {"document": text}).text
    assert (
        "未知特征 &#39;orders_356d&#39;。是否想写 orders_365d" in zh and "unknown feature" not in zh
    )
    assert "<code>dimensions.purchase_frequency.feature</code>" in zh
    top = zh_rep.hx("/schemes/validate", {"document": "- 1\n"}).text
    assert "<code>（顶层）</code>" in top and "应为包含 name 和 dimensions 的映射" in top
    rule = default_scheme_text().replace("when: last_activity_days <= 30", "when: x = 1", 1)
    said = zh_rep.hx("/schemes/validate", {"document": rule}).text
    assert "规则第 3 列有误（“x = 1”）：不能使用“=”；比较相等请用“==”。" in said
    # the API: the English message, and its key and params for any other language
    [error] = (
        browsers["s_rep"].api("/api/v1/schemes/validate", json={"document": text}).json()["errors"]
    )
    assert error["message"].startswith("unknown feature 'orders_356d'")
    assert error["key"] == "scheme.check.unknown_feature_close"
    assert error["params"] == {
        "name": "'orders_356d'",
        "close": "orders_365d, orders_90d, orders_total",
    }


# -- reading ----------------------------------------------------------------------------------


def test_pages_in_both_languages(env: Env) -> None:
    en = Browser(env.app, "s_rep", lang="en").client.get("/schemes").text
    zh = Browser(env.app, "s_rep", lang="zh").client.get("/schemes").text
    for words in ("Classification scheme", "Published versions", "Validate", "Common edits"):
        assert words in en
    for words in ("分级标准", "已发布版本", "校验", "常用修改"):
        assert words in zh
    # the scheme's own label texts, both languages, in the form
    assert 'value="A Key account"' in en and 'value="A 重点"' in en
    # a rep may validate but not preview or publish
    assert 'id="scheme-validate"' in en and 'id="scheme-preview-button"' not in en


def test_versions_and_documents_api(env: Env, browsers: dict[str, Browser]) -> None:
    client = browsers["s_rep"].client
    listed = client.get("/api/v1/schemes").json()
    current = client.get("/api/v1/schemes/current").json()
    assert current["version"] == listed["current_version"]
    assert load_scheme(current["document"]).name == current["name"]
    if listed["versions"]:
        one = client.get(f"/api/v1/schemes/{listed['versions'][-1]['version']}").json()
        assert set(one) >= {"version", "document", "published_by", "published_at", "note"}
    assert client.get("/api/v1/schemes/9999").status_code == 404
    assert client.get("/schemes/9999").status_code == 404


# -- preview ----------------------------------------------------------------------------------

TABLES = (snapshots, schemes, labels, label_changes, jobs, audit_log)


def test_preview_writes_nothing_and_roles(env: Env, browsers: dict[str, Browser]) -> None:
    draft = default_scheme_text().replace("points: [2.2, 3.2, 4.0]", "points: [2.2, 3.4, 4.3]")
    rep = browsers["s_rep"].api("/api/v1/schemes/preview", json={"document": draft})
    assert rep.status_code == 403  # (and audited as a permission failure, by the app)
    before = {t.name: _count(env.store, t) for t in TABLES}
    got = browsers["s_ana"].api("/api/v1/schemes/preview", json={"document": draft})
    assert got.status_code == 200, got.text
    assert {t.name: _count(env.store, t) for t in TABLES} == before
    body = got.json()
    assert set(body) >= {"distribution", "migration", "revenue_365d", "downgrades",
                         "held_by_hysteresis", "would_wait_for_approval", "preview_token"}  # fmt: skip
    assert body["document_hash"] == scheme_hash(load_scheme(draft))
    assert sum(body["distribution"]["value_tier"].values()) == _count(env.store, customers)
    down = body["downgrades"]["value_tier"]
    assert down["count"] > 0 and down["customers"][0]["to"] in {"B", "C", "D"}  # higher cuts
    invalid = browsers["s_ana"].api("/api/v1/schemes/preview", json={"document": "name: x\n"})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["line"] == 1


def test_manager_preview_names_only_customers_in_scope(
    env: Env, browsers: dict[str, Browser]
) -> None:
    draft = default_scheme_text().replace("points: [2.2, 3.2, 4.0]", "points: [2.2, 3.4, 4.4]")
    full = browsers["s_admin"].api("/api/v1/schemes/preview", json={"document": draft}).json()
    named = [c["customer_id"] for c in full["downgrades"]["value_tier"]["customers"]]
    hidden = named[:2]  # given to a rep outside the manager's team
    with env.store.begin() as conn:
        rep = conn.scalar(sa.text("SELECT id FROM users WHERE username = 's_rep'"))
        pks = conn.execute(sa.select(customers.c.id).where(customers.c.customer_id.in_(hidden)))
        conn.execute(customer_owners.insert(), [
            {"customer_pk": pk, "user_id": rep, "assigned_by": "test"} for (pk,) in pks
        ])  # fmt: skip
    try:
        scoped = browsers["s_boss"].api("/api/v1/schemes/preview", json={"document": draft})
    finally:
        with env.store.begin() as conn:
            conn.execute(customer_owners.delete())
    down = scoped.json()["downgrades"]["value_tier"]
    assert down["count"] == full["downgrades"]["value_tier"]["count"]  # counts: everyone
    assert [c["customer_id"] for c in down["customers"]] == named[2:]
    assert down["not_in_scope"] == 2


def test_preview_waits_for_a_running_classification(env: Env, browsers: dict[str, Browser]) -> None:
    from tierwise.web._jobs import Run

    jobs_ = env.app.state.jobs
    saved, jobs_.classify_run = jobs_.classify_run, Run("classify")
    try:
        got = browsers["s_ana"].api("/api/v1/schemes/preview", json={"document": "name: x"})
    finally:
        jobs_.classify_run = saved
    assert got.status_code == 409


# -- publish ----------------------------------------------------------------------------------


def test_publish_needs_csrf_role_and_preview(env: Env, browsers: dict[str, Browser]) -> None:
    draft = _draft(env, "A Renamed")
    body = {"document": draft, "preview_token": _token(env, draft), "note": "rename"}
    count = _count(env.store, schemes)
    boss = browsers["s_boss"]
    no_csrf = boss.client.post("/api/v1/schemes", json=body)
    assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "error.csrf"
    for role in ("s_ana", "s_rep"):
        assert browsers[role].api("/api/v1/schemes", json=body).status_code == 403
    other = _token(env, _draft(env, "Something else"))
    wrong = boss.api("/api/v1/schemes", json=body | {"preview_token": other})
    assert wrong.status_code == 422 and "changed after its preview" in wrong.json()["detail"]
    forged = boss.api("/api/v1/schemes", json=body | {"preview_token": other[:-4] + "0000"})
    assert forged.status_code == 422 and "not genuine" in forged.json()["detail"]
    zh = Browser(env.app, "s_boss", lang="zh")
    said = zh.hx("/schemes/publish", body | {"preview_token": other[:-4] + "0000"})
    assert said.status_code == 422 and "预览令牌无效；请重新预览。" in said.text
    assert "预览之后文档又被修改过" in zh.api("/api/v1/schemes", json=body | {
        "preview_token": other}).json()["detail"]  # fmt: skip
    assert _count(env.store, schemes) == count


def test_publish_creates_the_next_version_audited(env: Env, browsers: dict[str, Browser]) -> None:
    version, _ = _current(env)
    draft = _draft(env, f"A Published {version + 1}")
    token = _token(env, draft)
    got = browsers["s_boss"].api(
        "/api/v1/schemes", json={"document": draft, "preview_token": token, "note": "why"}
    )
    assert got.status_code == 201, got.text
    assert got.json()["version"] == version + 1
    assert _current(env)[0] == version + 1
    with env.store.connect() as conn:
        entry = conn.execute(
            sa.select(audit_log).where(audit_log.c.action == "scheme.publish")
            .order_by(audit_log.c.id.desc()).limit(1)
        ).one()  # fmt: skip
        row = conn.execute(sa.select(schemes).where(schemes.c.version == version + 1)).one()
    assert (entry.actor, entry.entity_id) == ("s_boss", str(version + 1))
    assert entry.actor_id is not None and entry.ip == "testclient"
    assert (row.published_by, row.note) == ("s_boss", "why")
    # the token was for the version before: it cannot publish again after this one
    again = browsers["s_admin"].api(
        "/api/v1/schemes", json={"document": _draft(env, "x"), "preview_token": token}
    )
    assert again.status_code == 422


def test_page_preview_then_publish(env: Env, browsers: dict[str, Browser]) -> None:
    version, published = _current(env)
    data = to_data(load_scheme(published))
    data["dimensions"]["value_tier"]["labels"][-1]["en"] = XSS
    data["dimensions"]["value_tier"]["cut"]["points"] = [2.2, 3.4, 4.3]
    draft = dump_scheme(parse_scheme(data))
    boss = browsers["s_boss"]
    started = boss.hx("/schemes/preview", {"document": draft})
    assert started.status_code == 200 and 'hx-trigger="every 1s"' in started.text
    found = re.search(r'hx-get="/schemes/previews/([\w-]+)"', started.text)
    assert found is not None
    poll = f"/schemes/previews/{found[1]}"
    hx = {"HX-Request": "true"}
    deadline = time.monotonic() + 60
    while "scheme-preview-running" in (panel := boss.client.get(poll, headers=hx).text):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert 'id="scheme-preview-done"' in panel, panel[:500]
    assert 'href="/customers/C' in panel  # named downgrades link to the customer
    assert "Held by hysteresis" in panel and "Waiting for approval" in panel
    assert XSS not in panel and html.escape(XSS, quote=False) in panel
    # the same preview in Chinese (same user, another session); another user cannot see it
    zh = Browser(env.app, "s_boss", lang="zh").client.get(poll, headers=hx).text
    assert "预览：草稿将带来的变化" in zh and "B 普通" in zh and "因缓冲规则暂不降级" in zh
    assert browsers["s_ana"].client.get(poll, headers=hx).status_code == 404
    token = re.search(r'name="preview_token" value="([^"]+)"', panel)
    assert token is not None
    # an edit after the preview: publishing is refused
    changed = boss.hx("/schemes/publish", {"document": draft + "\n# edited\ncurrency: USD\n",
                                           "preview_token": token[1]})  # fmt: skip
    assert changed.status_code == 422 and "changed after its preview" in changed.text
    done = boss.hx("/schemes/publish", {"document": draft, "preview_token": token[1],
                                        "note": "higher cuts"})  # fmt: skip
    assert done.status_code == 204 and done.headers["HX-Redirect"] == (
        f"/schemes?published={version + 1}"
    )
    page = boss.client.get(f"/schemes?published={version + 1}").text
    assert f"Version {version + 1} is published" in page
    assert XSS not in page and html.escape(XSS, quote=False) in page
    shown = boss.client.get(f"/schemes/{version + 1}").text
    assert XSS not in shown and html.escape(XSS, quote=False) in shown


def test_publish_page_without_token_is_refused(env: Env, browsers: dict[str, Browser]) -> None:
    version, _ = _current(env)
    got = browsers["s_admin"].client.post(
        "/schemes/publish",
        data={"document": _draft(env, "No preview"), "csrf_token": browsers["s_admin"].csrf},
    )
    assert got.status_code == 422 and "Preview this document before publishing" in got.text
    assert _current(env)[0] == version
    no_csrf = browsers["s_admin"].client.post(
        "/schemes/publish", data={"document": _draft(env, "No csrf")}
    )
    assert no_csrf.status_code == 403


# -- the common-edits form --------------------------------------------------------------------


def test_form_edit_round_trips_losslessly(browsers: dict[str, Browser]) -> None:
    boss = browsers["s_boss"]
    fields = _form(boss.client.get("/schemes").text)
    original = fields["document"]
    unchanged = boss.hx("/schemes/edit", fields)
    assert unchanged.status_code == 200
    assert _textarea(unchanged.text) == original  # nothing changed: the text is kept as is
    edited = boss.hx("/schemes/edit", fields | {"weight_0": "0.55", "label_0_en": "D Small"})
    assert 'id="scheme-edit-notice"' in edited.text
    expected = to_data(load_scheme(original))
    expected["dimensions"]["value_tier"]["components"][0]["weight"] = 0.55
    expected["dimensions"]["value_tier"]["labels"][0]["en"] = "D Small"
    assert to_data(load_scheme(_textarea(edited.text))) == expected
    # the form rendered from the edited YAML posts back to the same YAML
    again = _form(edited.text)
    assert _textarea(boss.hx("/schemes/edit", again).text) == again["document"]
    # the form shows another dimension on request, edits nothing else
    other = boss.hx("/schemes/edit", again | {"show_dim": "purchase_frequency"}).text
    assert 'name="edit_dim" value="purchase_frequency"' in other
    assert _textarea(other) == again["document"]


def test_form_edit_refuses_bad_values_and_stale_forms(browsers: dict[str, Browser]) -> None:
    boss = browsers["s_boss"]
    fields = _form(boss.client.get("/schemes").text)
    bad = boss.hx("/schemes/edit", fields | {"cut_2": "1.0"})  # cuts must increase
    assert 'id="scheme-edit-error"' in bad.text and "must increase" in bad.text
    assert _textarea(bad.text) == fields["document"]
    nan = boss.hx("/schemes/edit", fields | {"weight_1": "lots"})
    assert "must be a number" in nan.text
    zh = Browser(boss.client.app, "s_boss", lang="zh")
    said = zh.hx("/schemes/edit", fields | {"weight_1": "lots"}).text
    assert "frequency 的权重必须是数字（实际为 &#39;lots&#39;）。" in said
    said = zh.hx("/schemes/edit", fields | {"cut_2": "1.0"}).text
    assert "标准错误（dimensions.value_tier.cut）：points 必须递增" in said
    stale = fields | {"document": fields["document"].replace("Tierwise default", "Other"),
                      "weight_0": "0.9"}  # fmt: skip
    got = boss.hx("/schemes/edit", stale)
    assert 'id="scheme-edit-stale"' in got.text and "weight: 0.9" not in _textarea(got.text)


def test_published_label_text_is_shown_escaped(env: Env, browsers: dict[str, Browser]) -> None:
    data = to_data(load_scheme(_current(env)[1]))
    data["dimensions"]["activity"]["labels"][0]["en"] = XSS
    data["name"] = f"Scheme {XSS}"
    with env.store.begin() as conn:
        publish_scheme(conn, scheme=parse_scheme(data), actor="test", note=XSS)
    page = browsers["s_rep"].client.get("/schemes").text
    assert XSS not in page
    assert html.escape(XSS, quote=False) in page  # the YAML view and the version list
    assert page.count(html.escape(XSS, quote=False)) >= 3  # name, note, YAML


def test_api_documents_the_scheme_operations(env: Env) -> None:
    spec = TestClient(env.app).get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/v1/schemes"]) == {"get", "post"}
    for path in ("/api/v1/schemes/current", "/api/v1/schemes/{version}"):
        assert set(paths[path]) == {"get"}
    for path in ("/api/v1/schemes/validate", "/api/v1/schemes/preview"):
        content = paths[path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/json", "application/yaml"}
    assert not any(p.startswith("/schemes") for p in paths)  # pages stay out of the API


def test_editor_starts_from_a_version_and_works_without_htmx(
    env: Env, browsers: dict[str, Browser]
) -> None:
    admin = browsers["s_admin"]
    with env.store.begin() as conn:
        # the published version (kept as one if nothing was published yet: run on its own)
        current = current_scheme(conn)
        version = (
            current.version
            if current.scheme_id is not None
            else publish_scheme(conn, scheme=current.scheme, actor="test").version
        )
        first = conn.scalar(sa.select(schemes.c.document).where(schemes.c.version == version))
    assert _textarea(admin.client.get(f"/schemes?from={version}").text) == first
    # a plain form post (no HTMX): the preview page, polled until done, keeps the draft
    draft = _draft(env, "Plain form")
    started = admin.client.post(
        "/schemes/preview",
        data={"document": draft, "csrf_token": admin.csrf},
        follow_redirects=False,
    )
    assert started.status_code == 303
    location = started.headers["location"]
    deadline = time.monotonic() + 60
    while "scheme-preview-running" in (page := admin.client.get(location).text):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert _textarea(page) == draft and 'id="scheme-publish"' in page
    fields = _form(page)
    done = admin.client.post("/schemes/publish", data=fields, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/schemes?published=")
