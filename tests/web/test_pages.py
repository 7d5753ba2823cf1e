"""Pages: both languages everywhere, stored XSS shown inert, JSON twins, the OpenAPI snapshot."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from webenv import XSS, WebEnv

from tierwise.store.tables import feedback
from tierwise.web._i18n import LANGS, messages, negotiate
from tierwise.web._render import TEMPLATES_DIR

SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")
PAGES = ("/", "/customers", "/admin/users", "/admin/audit", "/tokens", "/schemes", "/imports")


def test_every_message_has_both_languages_and_every_template_key_exists() -> None:
    table = messages()
    for key, texts in table.items():
        assert set(texts) == set(LANGS) and all(texts.values()), key
    used = set()
    for path in TEMPLATES_DIR.glob("*.html"):
        used |= set(
            re.findall(
                r"""\bt\(\s*'([a-z_]+\.[a-z_.]+)'\s*[,)]""", path.read_text(encoding="utf-8")
            )
        )
    missing = sorted(k for k in used if k not in table)
    assert not missing, missing


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "en-US,en;q=0.9,zh-CN;q=0.5", "en"),
        (None, "fr-FR, de;q=0.5", "zh"),
        ("en", "zh-CN", "en"),
        ("xx", "en", "en"),
        (None, None, "zh"),
    ],
)
def test_language_from_cookie_then_browser_then_default(
    cookie: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(cookie, header, "zh") == expected


def test_language_switch_is_remembered_on_every_page(login: Any, web_env: WebEnv) -> None:
    c = login("admin")
    c.headers["Accept-Language"] = "en-US"
    for path in PAGES:
        html = c.get(path).text
        assert 'lang="en"' in html, path
    switched = c.get("/lang/zh", params={"next": "/customers"})
    assert switched.status_code == 303 and switched.headers["location"] == "/customers"
    for path in (*PAGES, f"/customers/{web_env.pool[0]}"):
        html = c.get(path).text
        assert 'lang="zh-CN"' in html, path
        assert re.search(r"[\u4e00-\u9fff]", html), path
        assert "客户" in html or "用户" in html or "令牌" in html or "审计" in html, path
    c.get("/lang/en")
    assert 'lang="en"' in c.get("/").text


def test_stored_xss_is_shown_inert(login: Any, web_env: WebEnv) -> None:
    cid = web_env.xss_customer
    with web_env.store.begin() as conn:
        pk = conn.scalar(sa.text("SELECT id FROM customers WHERE customer_id = :c"), {"c": cid})
        conn.execute(
            feedback.insert().values(
                feedback_id=f"XSS-{cid}", customer_pk=pk, customer_id=cid, kind="complaint",
                received_at=datetime(2026, 10, 1, 9, 30),
                text=f'bad "><img src=x onerror=alert(1)> {XSS}', row_hash="0" * 32,
            )
        )  # fmt: skip
    c = login("admin")
    pages = {
        "list": c.get("/customers", params={"q": "Evil"}).text,
        "360": c.get(f"/customers/{cid}").text,
        "users": c.get("/admin/users").text,
        "audit": c.get("/admin/audit").text,
    }
    assert "Evil" in pages["list"] and "Evil" in pages["360"]
    for name, html in pages.items():
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in pages["360"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["360"]
    # the JSON twin returns the data as data
    data = c.get(f"/api/v1/customers/{cid}").json()
    assert XSS in data["customer"]["name"]


def test_pages_and_their_json_twins_show_the_same_data(login: Any, web_env: WebEnv) -> None:
    c = login("boss")
    data = c.get("/api/v1/customers", params={"label": "value_tier:A", "per_page": 10}).json()
    html = c.get("/customers", params={"label": "value_tier:A", "per_page": 10}).text
    assert data["items"], "the demo has A customers in boss's scope"
    for item in data["items"]:
        assert f">{item['customer_id']}</a>" in html
    assert all(i["labels"]["value_tier"]["label"] == "A" for i in data["items"])
    dash = c.get("/api/v1/dashboard").json()
    page = c.get("/").text
    for row in dash["value"]["rows"]:
        assert row["text"] in page
    assert dash["migration"] is not None and dash["migration"]["matrix"]
    total = sum(sum(r) for r in dash["migration"]["matrix"])
    assert total == sum(i["count"] for i in dash["distribution"][0]["items"])


def test_customer_360_explains_every_label(login: Any, web_env: WebEnv) -> None:
    c = login("rep1")
    data = c.get(f"/api/v1/customers/{web_env.owned['rep1'][4]}").json()
    assert data["labels"] and set(data["explanations"]) == set(data["labels"])
    assert all(e["reason"] for e in data["explanations"].values())
    assert data["can_write"] is False


def test_customer_360_shows_what_the_models_say(login: Any, web_env: WebEnv) -> None:
    c = login("admin")
    for cid in web_env.owned["rep1"]:
        data = c.get(f"/api/v1/customers/{cid}", headers={"Accept-Language": "en"}).json()
        if data["models"] and data["models"]["p_alive"] is not None:
            break
    m = data["models"]
    assert m["fitted"]["bgnbd"] and 0 <= m["p_alive"] <= 1 and m["clv"] is not None
    assert data["explanations"]["behaviour_cluster"]["reason"].endswith(m["cluster"]["description"])
    page = c.get(f"/customers/{cid}", headers={"Accept-Language": "zh-CN"}).text
    assert 'id="models"' in page and "存活概率" in page
    en = c.get(f"/customers/{cid}", headers={"Accept-Language": "en"}).text
    assert "Probability still active" in en and m["cluster"]["description"] in en


def test_override_and_owner_forms_work_from_the_360_page(login: Any, web_env: WebEnv) -> None:
    boss = login("boss")
    cid = web_env.owned["rep2"][3]
    r = boss.post_form(f"/customers/{cid}/override",
                       {"dimension": "value_tier", "label": "A", "reason": "strategic account"})  # fmt: skip
    assert r.status_code == 303
    data = boss.get(f"/api/v1/customers/{cid}").json()
    assert [o["reason"] for o in data["overrides"]] == ["strategic account"]
    r = boss.post_form(f"/customers/{cid}/owner", {"owner_id": str(web_env.user_ids["rep1"])})
    assert r.status_code == 303
    assert cid in {
        i["customer_id"]
        for i in login("rep1").get("/api/v1/customers", params={"q": cid}).json()["items"]
    }
    boss.post_form(f"/customers/{cid}/owner", {"owner_id": str(web_env.user_ids["rep2"])})
    audit = login("admin").get("/api/v1/audit").json()
    actions = {(e["action"], e["entity_id"]) for e in audit}
    assert ("customer.owner", cid) in actions
    assert ("label.override", cid) in actions


def _shape(spec: dict[str, Any]) -> dict[str, Any]:
    """What clients depend on: operations, their parameters, bodies and schema names."""
    out: dict[str, Any] = {}
    for path, item in sorted(spec["paths"].items()):
        for method, op in sorted(item.items()):
            out[f"{method.upper()} {path}"] = {
                "tags": op.get("tags", []),
                "parameters": sorted(f"{p['in']}:{p['name']}" for p in op.get("parameters", [])),
                "body": sorted(op.get("requestBody", {}).get("content", {})),
                "responses": sorted(op.get("responses", {})),
            }
    out["schemas"] = {
        name: sorted(schema.get("properties", {}))
        for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items())
    }
    return out


def test_openapi_snapshot(app: Any) -> None:
    shape = _shape(app.openapi())
    if os.environ.get("TIERWISE_UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(shape, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        if not os.environ.get("TIERWISE_UPDATE_SNAPSHOTS"):
            pytest.fail(f"wrote {SNAPSHOT.name}; commit it (TIERWISE_UPDATE_SNAPSHOTS=1 rewrites)")
    expected = json.loads(SNAPSHOT.read_text())
    assert shape == expected, (
        "The API changed. If that is intended, rerun with TIERWISE_UPDATE_SNAPSHOTS=1 and "
        "commit tests/web/openapi_snapshot.json."
    )


def test_every_api_operation_is_documented(app: Any) -> None:
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            assert op.get("description") or op.get("summary"), f"{method} {path}"
            assert op.get("tags"), f"{method} {path}"


def test_bulk_assignment_from_the_list(login: Any, web_env: WebEnv) -> None:
    boss = login("boss")
    page = boss.get("/customers", params={"owner": "pool"}).text
    assert 'form="assign-form"' in page
    chosen = web_env.pool[10:12]
    r = boss.post("/customers/assign", data={"csrf_token": boss.csrf, "owner_id": str(web_env.user_ids["rep2"]),
                                             "customer_id": chosen, "back": "?owner=pool"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/customers?owner=pool"
    mine = login("rep2").get(
        "/api/v1/customers", params={"owner": str(web_env.user_ids["rep2"]), "per_page": 200}
    )
    assert set(chosen) <= {c["customer_id"] for c in mine.json()["items"]}
    assert set(chosen).isdisjoint(i["customer_id"] for i in login("rep1").get(
        "/api/v1/customers", params={"per_page": 200, "owner": "pool"}).json()["items"])  # fmt: skip
    back = boss.post("/api/v1/customers/owner", json={"customer_ids": chosen, "owner_id": None})
    assert back.json()["changed"] == 2
    # a rep sees no assignment controls
    assert 'form="assign-form"' not in login("rep1").get("/customers").text


def test_snapshots_labels_and_jobs(login: Any, web_env: WebEnv) -> None:
    admin = login("admin")
    snaps = admin.get("/api/v1/snapshots").json()
    assert len(snaps) >= 2 and snaps[0]["as_of"] >= snaps[1]["as_of"]
    latest = snaps[0]["id"]
    # keyset pages in scope: rep2 sees its own customers and the pool, each exactly once
    rep2 = login("rep2")
    seen: list[str] = []
    after = None
    while True:
        params = {"dimension": "value_tier", "limit": 100} | ({"after": after} if after else {})
        page = rep2.get(f"/api/v1/snapshots/{latest}/labels", params=params).json()
        seen += [r["customer_id"] for r in page["labels"]]
        after = page["next_after"]
        if after is None:
            break
    assert sorted(seen) == sorted(set(web_env.owned["rep2"]) | set(web_env.pool))
    assert rep2.get("/api/v1/snapshots/999999/labels").status_code == 404
    job_id = admin.get("/api/v1/classifications/status").json()["job"]["job_id"]
    job = rep2.get(f"/api/v1/jobs/{job_id}").json()
    assert job["kind"] == "classify" and job["state"] == "done" and "pid" not in job
    assert rep2.get("/api/v1/jobs/999999").status_code == 404


def test_user_admin_errors_are_in_the_users_language(login: Any, web_env: WebEnv) -> None:
    admin = login("admin")
    zh = admin.post(
        "/api/v1/users", json={"username": "rep1", "role": "rep"}, headers={"Accept-Language": "zh"}
    )
    assert zh.status_code == 422 and zh.json()["detail"] == "用户名“rep1”已被使用，请换一个。"
    en = admin.post(
        "/api/v1/users", json={"username": "new\tone", "role": "rep"},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert en.status_code == 422 and "contains spaces or control" in en.json()["detail"]
    me = web_env.user_ids["admin"]
    own = admin.patch(
        f"/api/v1/users/{me}", json={"manager_id": me}, headers={"Accept-Language": "zh"}
    )
    assert own.status_code == 422 and own.json()["detail"] == "用户不能是自己的经理。"


def test_bad_input_is_explained_in_the_users_language(login: Any) -> None:
    c = login("rep1")
    c.get("/lang/zh")
    zh = c.get("/customers", params={"label": "nonsense", "sort": "customer_id"})
    assert zh.status_code == 422 and "标签筛选“nonsense”的格式应为 维度:标签。" in zh.text
    c.get("/lang/en")
    en = c.get("/customers", params={"sort": "bogus"})
    assert en.status_code == 422 and "Cannot sort by &#34;bogus&#34;" in en.text
    api = c.get("/api/v1/customers", params={"label": "value_tier:A", "owner": "someone"})
    assert api.status_code == 422 and '"someone"' in api.json()["detail"]
