"""The act pages end to end: the pool, complaints, churn / win-back, care, target lists and
webhooks — in zh and en, for the roles that may, through the forms and through the API.

The module has its own store: claims, releases and caps change who owns what, which the
shared store's scope tests count.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from webenv import WebEnv, build

from tierwise.act import enqueue
from tierwise.act._pool import pool_rules
from tierwise.store.tables import (
    customer_owners,
    customers,
    feedback,
    pool_events,
    utcnow,
    webhook_deliveries,
)
from tierwise.web import create_app
from webhook_receiver import Receiver, receiving

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def web_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    env = build(tmp_path_factory.mktemp("act-pages"))
    yield env
    env.store.dispose()


@pytest.fixture(scope="module")
def app(web_env: WebEnv) -> Any:
    return create_app(web_env.settings, store=web_env.store)


def _owner(env: WebEnv, cid: str) -> int | None:
    with env.store.connect() as conn:
        value = conn.scalar(
            sa.select(customer_owners.c.user_id)
            .join(customers, customers.c.id == customer_owners.c.customer_pk)
            .where(customers.c.customer_id == cid)
        )
    return None if value is None else int(value)


def _owned_by_others(env: WebEnv, user: str) -> set[str]:
    """The customers someone other than ``user`` owns now (outside a rep's scope)."""
    with env.store.connect() as conn:
        found = set(conn.scalars(
            sa.select(customers.c.customer_id)
            .join(customer_owners, customer_owners.c.customer_pk == customers.c.id)
            .where(customer_owners.c.user_id != env.user_ids[user])
        ))  # fmt: skip
    assert found
    return found


def _pool_ids(client: Any) -> list[str]:
    return [r["customer_id"] for r in client.get("/api/v1/pool", params={"limit": 1000}).json()]


def _text(html: str) -> str:
    """The page's visible text, roughly: tags out, entities of quotes back."""
    return re.sub(r"<[^>]+>", " ", html).replace("&#34;", '"').replace("&#39;", "'")


# --- every page, both languages, the right roles ---------------------------------------------

PAGES = {
    "/pool": ("公海", "public pool"),
    "/complaints": ("投诉处理", "Complaints:"),
    "/churn": ("流失预警与挽回", "Churn warnings and win-back"),
    "/care": ("关怀日历", "Care calendar"),
    "/export": ("目标名单导出", "Target list export"),
}


@pytest.mark.parametrize("user", ["admin", "boss", "rep1", "ana"])
def test_pages_render_in_both_languages(login: Any, user: str) -> None:
    c = login(user)
    for path, (zh, en) in PAGES.items():
        page_zh = c.get(path, headers=ZH)
        assert page_zh.status_code == 200, (user, path, page_zh.text[:300])
        assert 'lang="zh-CN"' in page_zh.text and zh in page_zh.text, (user, path)
        page_en = c.get(path, headers=EN)
        assert page_en.status_code == 200 and 'lang="en"' in page_en.text
        assert en in page_en.text, (user, path)
        heading = re.search(r"<h1>(.*?)</h1>", page_en.text, re.S)
        assert heading and not HAN.search(heading.group(1)), (user, path)
    nav = c.get("/pool", headers=EN).text.split("</nav>")[0]
    assert 'href="/pool"' in nav and 'href="/export"' in nav
    assert ('href="/complaints"' in nav) is (user != "ana")
    assert ('href="/admin/webhooks"' in nav) is (user == "admin")
    hooks = c.get("/admin/webhooks", headers=EN)
    assert hooks.status_code == (200 if user == "admin" else 403)


def test_only_the_roles_that_may_see_the_controls(login: Any) -> None:
    rep = login("rep1").get("/pool", headers=EN).text
    assert 'class="inline claim"' in rep and 'class="inline give"' not in rep
    assert 'id="caps"' not in rep and 'id="release"' in rep and 'id="my-budget"' in rep
    boss = login("boss").get("/pool", headers=EN).text
    assert 'class="inline claim"' in boss and 'class="inline give"' in boss and 'id="caps"' in boss
    admin = login("admin").get("/pool", headers=EN).text
    assert 'class="inline claim"' not in admin and 'id="auto-assign"' in admin
    ana = login("ana").get("/pool", headers=EN).text
    assert '<form method="post" action="/pool' not in ana
    assert 'class="inline respond"' not in login("ana").get("/complaints").text


# --- the pool -------------------------------------------------------------------------------


def test_claim_through_the_page_and_refusals_said_clearly(login: Any, web_env: WebEnv) -> None:
    rep = login("rep1")
    pool = _pool_ids(rep)
    cid = pool[0]
    assert f'action="/pool/{cid}/claim"' in rep.get("/pool").text
    r = rep.post_form(f"/pool/{cid}/claim", {})
    assert r.status_code == 303 and r.headers["location"].startswith("/pool?done=claimed")
    page = rep.get(r.headers["location"], headers=EN).text
    assert f"You claimed {cid}" in page
    assert _owner(web_env, cid) == web_env.user_ids["rep1"]
    assert f'data-customer-id="{cid}"' not in page
    # claimed once already: not in the pool any more
    again = rep.post_form(f"/pool/{cid}/claim", {}, headers=EN)
    assert again.status_code == 422 and f"Customer &#34;{cid}&#34; is not in the pool" in again.text
    # released (a reason is required), then the ex-owner waits the cool-down
    blank = rep.post_form("/pool/release", {"customer_id": cid, "reason": "  "}, headers=ZH)
    assert blank.status_code == 422 and "退回公海需要填写原因。" in blank.text
    assert _owner(web_env, cid) == web_env.user_ids["rep1"]
    out = rep.post_form("/pool/release", {"customer_id": cid, "reason": "moved to Shenzhen"})
    assert out.status_code == 303 and _owner(web_env, cid) is None
    cool = rep.post_form(f"/pool/{cid}/claim", {}, headers=ZH)
    assert cool.status_code == 422 and 'id="refused"' in cool.text
    assert f"你曾负责客户“{cid}”；原负责人需等待 30 天" in cool.text
    cool_en = rep.post_form(f"/pool/{cid}/claim", {}, headers=EN)
    assert "Ex-owners may claim" in _text(cool_en.text) and "after 30 days" in cool_en.text
    # over the cap (the manager sets it): the numbers are named
    boss = login("boss")
    owned = boss.get(f"/api/v1/reps/{web_env.user_ids['rep1']}/caps").json()["customers"]
    capped = boss.post_form(f"/pool/caps/{web_env.user_ids['rep1']}",
                            {"max_customers": str(owned), "max_value": ""})  # fmt: skip
    assert capped.status_code == 303
    over = rep.post_form(f"/pool/{pool[1]}/claim", {}, headers=ZH)
    assert over.status_code == 422
    assert f"你已负责 {owned} 位客户，上限为 {owned} 位，不能再领取。" in over.text
    over_en = rep.post_form(f"/pool/{pool[1]}/claim", {}, headers=EN)
    assert f"You own {owned} customers and your cap is {owned}" in over_en.text
    boss.put(f"/api/v1/reps/{web_env.user_ids['rep1']}/caps", json={})  # the scheme's caps again
    # the daily limit: rep2 claimed as many as allowed today
    with web_env.store.begin() as conn:
        from tierwise.act._playbooks import active_playbooks

        limit = pool_rules(active_playbooks(conn)).claim_daily_limit
        conn.execute(pool_events.insert(), [
            {"customer_pk": 1, "kind": "claimed", "user_id": web_env.user_ids["rep2"],
             "actor": "rep2", "at": utcnow()} for _ in range(limit)
        ])  # fmt: skip
    rep2 = login("rep2")
    full = rep2.post_form(f"/pool/{pool[2]}/claim", {}, headers=ZH)
    assert full.status_code == 422
    assert f"今日领取已达上限：已领取 {limit} 位（上限 {limit}），请明天再试。" in full.text
    api = rep2.post(f"/api/v1/pool/{pool[2]}/claim", headers=EN)
    assert api.status_code == 422 and "Daily claim limit reached" in api.json()["detail"]
    assert f"Claimed today: {limit} of {limit}" in rep2.get("/pool", headers=EN).text
    assert _owner(web_env, pool[2]) is None


def test_managers_assign_release_and_set_caps(login: Any, web_env: WebEnv) -> None:
    boss, admin = login("boss"), login("admin")
    rep2_id, rep3_id = web_env.user_ids["rep2"], web_env.user_ids["rep3"]
    pool = _pool_ids(boss)
    # by hand, through the form and the API
    r = boss.post_form(f"/pool/{pool[5]}/assign", {"user_id": str(rep2_id)})
    assert r.status_code == 303 and _owner(web_env, pool[5]) == rep2_id
    assert f"Assigned: {pool[5]} → rep2" in boss.get(r.headers["location"], headers=EN).text
    none = boss.post_form(f"/pool/{pool[6]}/assign", {"user_id": ""}, headers=EN)
    assert none.status_code == 422 and "Choose the rep" in none.text
    ok = boss.post(f"/api/v1/pool/{pool[6]}/assign", json={"user_id": rep2_id})
    assert ok.status_code == 200 and ok.json()["owner"] == "rep2"
    assert boss.post(f"/api/v1/pool/{pool[7]}/assign", json={"user_id": rep3_id}).status_code == 404
    analyst = admin.post(f"/api/v1/pool/{pool[7]}/assign",
                         json={"user_id": web_env.user_ids["ana"]}, headers=ZH)  # fmt: skip
    assert analyst.status_code == 422 and analyst.json()["detail"] == (
        "用户 ana 的角色是 analyst；客户只能交给销售或经理。"
    )
    taken = admin.post(f"/api/v1/pool/{pool[5]}/assign", json={"user_id": rep3_id})
    assert taken.status_code == 422
    # a cap on value: the assignment is refused with the numbers
    admin.put(f"/api/v1/reps/{rep3_id}/caps", json={"max_value": 0})
    priced = next(p for p in boss.get("/api/v1/pool").json() if p["value_365d"] > 0)
    capped = admin.post(f"/api/v1/pool/{priced['customer_id']}/assign",
                        json={"user_id": rep3_id}, headers=EN)  # fmt: skip
    assert capped.status_code == 422 and "rep3" in capped.json()["detail"]
    assert "passes the cap of 0.00" in capped.json()["detail"]
    admin.put(f"/api/v1/reps/{rep3_id}/caps", json={})
    # by rule, a batch
    before = len(_pool_ids(boss))
    batch = boss.post_form("/pool/assign", {"rule": "load", "limit": "3"})
    assert batch.status_code == 303
    assert "3 customers assigned by rule" in boss.get(batch.headers["location"], headers=EN).text
    assert len(_pool_ids(boss)) == before - 3
    auto = admin.post("/api/v1/pool/assign", json={"limit": 2, "rule": "round_robin"}).json()
    assert auto["assigned"] == 2 and auto["rule"] == "round_robin"
    bad = boss.post_form("/pool/assign", {"rule": "", "limit": "lots"}, headers=EN)
    assert bad.status_code == 422 and 'Form field "limit" must be a number (got "lots")' in _text(
        bad.text
    )
    # releases: a reason is required over the API too
    mine = web_env.owned["rep2"][0]
    assert boss.post(f"/api/v1/pool/{mine}/release", json={"reason": ""}).status_code == 422
    blank = boss.post(f"/api/v1/pool/{mine}/release", json={"reason": " "}, headers=EN)
    assert blank.status_code == 422 and "reason is required" in blank.json()["detail"]
    assert login("rep1").post(f"/api/v1/pool/{mine}/release",
                              json={"reason": "not mine"}).status_code == 404  # fmt: skip
    out = boss.post(f"/api/v1/pool/{mine}/release", json={"reason": "rep2 on leave"})
    assert out.status_code == 200 and _owner(web_env, mine) is None
    audit = admin.get("/api/v1/audit").json()
    assert any(e["action"] == "pool.release" and e["entity_id"] == mine for e in audit)
    # caps: the form, the API, who may read them
    form = boss.post_form(f"/pool/caps/{rep2_id}", {"max_customers": "250", "max_value": "1e6",
                                                    "regions": "east, south", "industries": ""})  # fmt: skip
    assert form.status_code == 303
    caps = boss.get(f"/api/v1/reps/{rep2_id}/caps").json()
    assert (caps["max_customers"], caps["max_value"], caps["regions"]) == (
        250,
        1e6,
        ["east", "south"],
    )
    assert login("rep2").get(f"/api/v1/reps/{rep2_id}/caps").json()["own_caps"] is True
    assert login("rep1").get(f"/api/v1/reps/{rep2_id}/caps").status_code == 404
    assert login("ana").get(f"/api/v1/reps/{rep2_id}/caps").status_code == 403
    assert boss.put(f"/api/v1/reps/{rep3_id}/caps", json={"max_customers": 1}).status_code == 404
    negative = boss.post_form(f"/pool/caps/{rep2_id}", {"max_customers": "-1"}, headers=ZH)
    assert negative.status_code == 422 and "上限不能为负数" in negative.text
    assert boss.put(f"/api/v1/reps/{rep2_id}/caps", json={"max_customers": -1}).status_code == 422
    reps = {r["username"] for r in boss.get("/api/v1/reps").json()}
    assert reps == {"boss", "rep1", "rep2"}
    assert {r["username"] for r in login("rep1").get("/api/v1/reps").json()} == {"rep1"}


# --- complaints -----------------------------------------------------------------------------


def _complaint(env: WebEnv, cid: str, fid: str, hours_ago: float) -> None:
    from tierwise.act import track

    with env.store.begin() as conn:
        pk = conn.scalar(sa.select(customers.c.id).where(customers.c.customer_id == cid))
        conn.execute(feedback.insert().values(
            feedback_id=fid, customer_pk=pk, customer_id=cid, kind="complaint",
            received_at=utcnow() - timedelta(hours=hours_ago), text=f"complaint {fid}",
            row_hash=fid.rjust(32, "0"),
        ))  # fmt: skip
        track(conn, now=utcnow())


def test_complaint_queue_in_order_and_the_respond_form(login: Any, web_env: WebEnv) -> None:
    cid = web_env.owned["rep1"][8]
    _complaint(web_env, cid, "FB-OLD", hours_ago=500)
    _complaint(web_env, cid, "FB-NEW", hours_ago=0)
    admin = login("admin")
    queue = admin.get("/api/v1/complaints", params={"limit": 1000}).json()
    keys = [(c["tier"], c["deadline_at"]) for c in queue]
    assert len(queue) >= 3
    ranks = {t: i for i, t in enumerate(["A", "B", "C", "D"])}
    assert keys == sorted(keys, key=lambda k: (ranks.get(k[0], 9), k[1]))
    old = next(c for c in queue if c["feedback_id"] == "FB-OLD")
    assert old["breached"] and old["hours_left"] < 0
    page = login("rep1").get("/complaints", headers=ZH).text
    assert 'data-feedback-id="FB-OLD" class="breached"' in page and "已超时" in page
    assert 'data-feedback-id="FB-NEW"' in page and "剩余" in page
    assert 'data-feedback-id="FB-' in page
    rep = login("rep1")
    done = rep.post_form("/complaints/FB-OLD/respond", {"note": "called, refund agreed"})
    assert done.status_code == 303
    assert "Response to FB-OLD recorded" in rep.get(done.headers["location"], headers=EN).text
    assert "FB-OLD" not in {c["feedback_id"] for c in rep.get("/api/v1/complaints").json()}
    twice = rep.post("/api/v1/complaints/FB-OLD/respond", json={}, headers=ZH)
    assert twice.status_code == 422 and twice.json()["detail"] == "投诉“FB-OLD”已经响应过。"
    assert login("rep2").post("/api/v1/complaints/FB-NEW/respond", json={}).status_code == 404
    assert rep.post("/api/v1/complaints/NOPE/respond", json={}).status_code == 404
    ok = login("boss").post("/api/v1/complaints/FB-NEW/respond", json={"note": "on it"})
    assert ok.status_code == 200 and ok.json()["feedback_id"] == "FB-NEW"


# --- churn, care ----------------------------------------------------------------------------


def test_churn_warnings_and_win_back_outcomes(login: Any, web_env: WebEnv) -> None:
    admin = login("admin")
    data = admin.get("/api/v1/churn", headers=EN).json()
    assert data["warnings"], "the demo's second classification raises churn warnings"
    assert data["results"]["open"] == len(data["warnings"])
    first = data["warnings"][0]
    assert first["kind"] == "win_back" and first["reason"].startswith("Churn warning")
    page = admin.get("/churn", headers=ZH).text
    assert f'data-task-id="{first["id"]}"' in page and "流失预警" in page
    r = admin.post_form(f"/churn/{first['id']}/outcome", {"outcome": "won_back", "note": "ok"})
    assert r.status_code == 303
    after = admin.get("/api/v1/churn").json()
    assert after["results"]["won_back"] == 1
    assert after["results"]["open"] == data["results"]["open"] - 1
    page = admin.get("/churn", headers=EN).text
    assert "100% won back of 1 finished" in page
    again = admin.post_form(f"/churn/{first['id']}/outcome", {"outcome": "lost"}, headers=EN)
    assert again.status_code == 422 and "only open or snoozed tasks can change" in again.text
    assert admin.post_form(f"/churn/{first['id']}/outcome", {"outcome": "bogus"}).status_code == 422
    assert login("ana").get("/api/v1/churn").json()["warnings"] == []


def test_care_calendar(login: Any, web_env: WebEnv) -> None:
    admin = login("admin")
    events = admin.get("/api/v1/care", params={"days": 366}, headers=EN).json()
    assert events and {"day", "event", "reason", "channel_text", "customer_id"} <= set(events[0])
    assert [e["day"] for e in events] == sorted(e["day"] for e in events)
    page = admin.get("/care", params={"days": 366}, headers=ZH).text
    assert events[0]["customer_id"] in page and "关怀日历" in page
    assert admin.get("/api/v1/care", params={"days": 0}).status_code == 422
    assert admin.get("/care", params={"days": 1000}).status_code == 422
    mine = login("rep1").get("/api/v1/care", params={"days": 366}).json()
    others = _owned_by_others(web_env, "rep1")
    assert not {e["customer_id"] for e in mine} & others
    assert len(mine) <= len(events)


# --- target lists ---------------------------------------------------------------------------


def test_export_is_scoped_neutralised_and_in_either_language(login: Any, web_env: WebEnv) -> None:
    evil = web_env.owned["rep1"][9]
    with web_env.store.begin() as conn:
        conn.execute(customers.update().where(customers.c.customer_id == evil).values(
            name="=cmd|' /C calc'!A0", phone="13800138000", email="alice@example.com"))  # fmt: skip
    rep1 = login("rep1")
    csv = rep1.get("/api/v1/export", params={"format": "csv", "headers": "en"})
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("customer id,name,phone,email,")
    assert "'=cmd|' /C calc'!A0" in text and "\n" + evil in text
    assert "13800138000" in text
    assert not any(cid in text for cid in _owned_by_others(web_env, "rep1"))
    zh = rep1.get("/api/v1/export", params={"format": "csv", "headers": "zh", "contacts": False})
    assert zh.content.decode("utf-8-sig").splitlines()[0].startswith("客户编号,客户名称,价值等级")
    # analysts: every customer, contacts masked
    ana = login("ana").get("/api/v1/export", params={"format": "csv"}).content.decode("utf-8-sig")
    assert evil in ana and "13800138000" not in ana and "138****8000" in ana
    assert "a***@example.com" in ana
    # XLSX through the page's form: labels and a score range
    page = rep1.get("/export", headers=EN).text
    assert 'name="label" value="value_tier:A"' in page and 'name="score_dimension"' in page
    xlsx = rep1.get("/export/download", params={
        "label": ["value_tier:A", "value_tier:B"], "score_dimension": ["value_tier", ""],
        "score_min": ["0", ""], "score_max": ["", ""], "headers": "zh", "format": "xlsx",
        "contacts": "1",
    })  # fmt: skip
    assert xlsx.status_code == 200, xlsx.text[:300]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("客户编号", "客户名称", "电话", "邮箱")
    tiers = {r[4] for r in rows[1:]}
    assert tiers and all(str(t)[0] in "AB" for t in tiers), tiers
    for r in rows[1:]:
        assert not str(r[1] or "").startswith("="), r
    # a score range nobody is in, a range upside down, bad filters: said clearly
    empty = rep1.get("/api/v1/export", params={"score": "value_tier:1000:", "format": "csv"})
    assert len(empty.content.decode("utf-8-sig").strip().splitlines()) == 1
    upside = rep1.get("/api/v1/export", params={"score": "value_tier:5:1"}, headers=EN)
    assert upside.status_code == 422
    assert upside.json()["detail"] == "The score range of value_tier is empty: 5.0 is above 1.0."
    bad = rep1.get("/api/v1/export", params={"label": "value_tier:Z"}, headers=ZH)
    assert bad.status_code == 422 and "维度“value_tier”没有标签 Z" in bad.json()["detail"]
    nodim = rep1.get("/api/v1/export", params={"label": "nope:A"}, headers=EN)
    assert nodim.status_code == 422 and "Unknown dimension(s) nope" in nodim.json()["detail"]
    form = rep1.get("/export/download", params={"score_dimension": "value_tier",
                                                "score_min": "x", "score_max": ""}, headers=EN)  # fmt: skip
    assert form.status_code == 422 and 'id="refused"' in form.text and "Score filter" in form.text
    actions = [e["action"] for e in login("admin").get("/api/v1/audit").json()]
    assert "export.targets" in actions


# --- webhooks -------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_webhooks_page_adds_tests_and_never_shows_secrets(
    login: Any, web_env: WebEnv, receiver: Receiver
) -> None:
    admin = login("admin")
    url = receiver.url + "?key=BOTKEY-0123456789"
    r = admin.post("/admin/webhooks", data={
        "csrf_token": admin.csrf, "url": url, "format": "json", "events": ["tier_changed"],
        "secret": "s3cret-never-shown", "hook_lang": "en",
    })  # fmt: skip
    assert r.status_code == 303, r.text[-600:]
    page = admin.get(r.headers["location"], headers=EN).text
    assert "Receiver" in page and "added" in page
    listed = admin.get("/api/v1/webhooks").json()
    hook = next(h for h in listed if h["url"].startswith(receiver.url))
    assert hook["signed"] is True and hook["events"] == ["tier_changed"]
    for shown in (page, json.dumps(listed), admin.get("/admin/webhooks", headers=ZH).text):
        assert "BOTKEY-0123456789" not in shown and "s3cret-never-shown" not in shown
    # the test message reaches the receiver: the form, HTMX and the API
    tested = admin.post_form(f"/admin/webhooks/{hook['id']}/test", {}, headers=EN)
    assert tested.status_code == 200 and 'id="test-ok"' in tested.text
    assert "Test message delivered (HTTP 200" in tested.text
    assert receiver.bodies[-1]["kind"] == "tier_changed"
    assert receiver.bodies[-1]["customer"]["id"] == "TEST-001"
    assert receiver.paths[-1] == "/hook?key=BOTKEY-0123456789"  # the stored URL, key and all
    fragment = admin.post(
        f"/admin/webhooks/{hook['id']}/test", headers={**ZH, "HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "测试消息已送达" in fragment.text
    api = admin.post(f"/api/v1/webhooks/{hook['id']}/test").json()
    assert api["ok"] is True and api["status_code"] == 200 and len(receiver.bodies) == 3
    # a receiver that is down: the reason, in the user's language
    dead = admin.post("/api/v1/webhooks", json={
        "url": f"http://127.0.0.1:{_free_port()}/down", "format": "wecom"}).json()  # fmt: skip
    down = admin.post_form(f"/admin/webhooks/{dead['id']}/test", {}, headers=ZH)
    assert 'id="test-failed"' in down.text and "无法连接到 127.0.0.1" in down.text
    assert (
        admin.post(f"/api/v1/webhooks/{dead['id']}/test", headers=EN)
        .json()["error"]
        .startswith("Could not connect")
    )
    # bad input is refused on the page, naming the value
    bad = admin.post_form("/admin/webhooks", {"url": "ftp://example.com/x", "format": "json"},
                          headers=EN)  # fmt: skip
    assert bad.status_code == 422 and "ftp://example.com/x" in bad.text
    assert (
        admin.post("/api/v1/webhooks", json={"url": "http://x", "format": "slack"}).status_code
        == 422
    )
    # the delivery log shows queued and delivered events
    with web_env.store.begin() as conn:
        enqueue(conn, kind="tier_changed", key="page-test:1", customer_id="C1", customer_name="C1",
                summary_key="event.tier_changed", params={"old": "B", "new": "A"}, now=utcnow())  # fmt: skip
    from tierwise.act import deliver_due

    deliver_due(web_env.store, now=utcnow(), secret_key=web_env.settings.require_secret_key())
    log = admin.get("/api/v1/webhooks/deliveries").json()
    mine = next(d for d in log if d["key"] == "page-test:1" and d["endpoint_id"] == hook["id"])
    assert mine["status"] == "delivered"
    assert f'data-delivery-id="{mine["id"]}"' in admin.get("/admin/webhooks", headers=EN).text
    assert receiver.bodies[-1]["summary"]["en"] == "C1 moved from B to A"
    # removing stops it; a removed endpoint cannot be tested
    gone = admin.post_form(f"/admin/webhooks/{hook['id']}/remove", {})
    assert gone.status_code == 303
    assert (
        next(h for h in admin.get("/api/v1/webhooks").json() if h["id"] == hook["id"])["active"]
        is False
    )
    assert admin.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 404
    assert admin.delete(f"/api/v1/webhooks/{dead['id']}").json() == {
        "id": dead["id"],
        "active": False,
    }
    assert admin.delete("/api/v1/webhooks/999999").status_code == 404
    with web_env.store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(webhook_deliveries)) >= 1
    rep = login("rep1")
    assert rep.get("/api/v1/webhooks").status_code == 403
    assert rep.post_form(f"/admin/webhooks/{dead['id']}/test", {}).status_code == 403
