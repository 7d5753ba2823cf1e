"""Sign-in and sessions (RELIABILITY.md): argon2id, rotation, expiry, logout, role changes,
CSRF on every cookie-authenticated change, throttling, identical failures, API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from webenv import PASSWORD, WebEnv, sign_in

from tierwise.store import create_user
from tierwise.store.tables import sessions, users, utcnow
from tierwise.web import CSP


def _new_user(env: WebEnv, name: str, role: str = "rep") -> int:
    with env.store.begin() as conn:
        return create_user(conn, username=name, password=PASSWORD, role=role)


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def test_pages_need_sign_in_and_the_api_answers_401(app: Any) -> None:
    with _client(app) as c:
        page = c.get("/customers?q=x")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=/customers?q=x"
        api = c.get("/api/v1/customers")
        assert api.status_code == 401
        assert api.json()["code"] == "login.expired"


def test_unknown_user_and_wrong_password_get_the_same_answer(app: Any, web_env: WebEnv) -> None:
    _new_user(web_env, "same_answer")
    with _client(app) as c:
        wrong = c.post("/login", data={"username": "same_answer", "password": "nope-nope-nope"})
        unknown = c.post("/login", data={"username": "no_such_user", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.replace("same_answer", "X") == unknown.text.replace("no_such_user", "X")


def test_sign_in_sets_a_strict_cookie_and_rotates_the_session(app: Any, web_env: WebEnv) -> None:
    _new_user(web_env, "rotator")
    with _client(app) as c:
        first = c.post("/login", data={"username": "rotator", "password": PASSWORD})
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        old = c.cookies["tw_session"]
        c.post("/login", data={"username": "rotator", "password": PASSWORD})
        new = c.cookies["tw_session"]
        assert new != old
    with _client(app) as stale:
        stale.cookies.set("tw_session", old)
        assert stale.get("/api/v1/me").status_code == 401
    with _client(app) as fresh:
        fresh.cookies.set("tw_session", new)
        assert fresh.get("/api/v1/me").json()["username"] == "rotator"


def test_passwords_are_stored_as_argon2id(web_env: WebEnv) -> None:
    with web_env.store.connect() as conn:
        hashes = list(conn.scalars(sa.select(users.c.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_logout_ends_the_session(app: Any, web_env: WebEnv) -> None:
    _new_user(web_env, "leaver")
    c = sign_in(app, "leaver")
    token = c.cookies["tw_session"]
    assert c.post("/logout", data={"csrf_token": c.csrf}).status_code == 303
    with _client(app) as other:
        other.cookies.set("tw_session", token)
        assert other.get("/api/v1/me").status_code == 401


def test_idle_and_absolute_expiry(app: Any, web_env: WebEnv) -> None:
    _new_user(web_env, "sleeper")
    c = sign_in(app, "sleeper")
    idle = web_env.settings.session_idle_minutes
    with web_env.store.begin() as conn:
        conn.execute(
            sessions.update()
            .where(sessions.c.user_id == sa.select(users.c.id).where(users.c.username == "sleeper").scalar_subquery())
            .values(last_seen_at=utcnow() - timedelta(minutes=idle + 1))
        )  # fmt: skip
    assert c.get("/api/v1/me").status_code == 401
    c2 = sign_in(app, "sleeper")
    with web_env.store.begin() as conn:
        conn.execute(sessions.update().values(expires_at=utcnow() - timedelta(seconds=1)).where(
            sessions.c.user_id == sa.select(users.c.id).where(users.c.username == "sleeper").scalar_subquery()))  # fmt: skip
    assert c2.get("/api/v1/me").status_code == 401


def test_a_role_change_ends_the_users_sessions(app: Any, web_env: WebEnv, login: Any) -> None:
    uid = _new_user(web_env, "promoted")
    victim = sign_in(app, "promoted")
    assert victim.get("/api/v1/me").json()["role"] == "rep"
    admin = login("admin")
    r = admin.patch(f"/api/v1/users/{uid}", json={"role": "manager"})
    assert r.status_code == 200, r.text
    assert victim.get("/api/v1/me").status_code == 401
    assert sign_in(app, "promoted").get("/api/v1/me").json()["role"] == "manager"


def test_deactivated_users_cannot_continue_or_sign_in(
    app: Any, web_env: WebEnv, login: Any
) -> None:
    uid = _new_user(web_env, "leaving_soon")
    victim = sign_in(app, "leaving_soon")
    assert (
        login("admin").patch(f"/api/v1/users/{uid}", json={"is_active": False}).status_code == 200
    )
    assert victim.get("/api/v1/me").status_code == 401
    with _client(app) as c:
        assert (
            c.post("/login", data={"username": "leaving_soon", "password": PASSWORD}).status_code
            == 401
        )


def test_changes_need_the_csrf_token(app: Any, web_env: WebEnv, login: Any) -> None:
    admin = login("admin")
    cid = web_env.pool[0]
    body = {"owner_id": None}
    without = admin.put(f"/api/v1/customers/{cid}/owner", json=body, headers={"X-CSRF-Token": ""})
    assert without.status_code == 403
    assert without.json()["code"] == "error.csrf"
    wrong = admin.put(
        f"/api/v1/customers/{cid}/owner", json=body, headers={"X-CSRF-Token": "x" * 43}
    )
    assert wrong.status_code == 403
    form = admin.post("/logout", data={}, headers={"X-CSRF-Token": ""})
    assert form.status_code == 403
    assert admin.put(f"/api/v1/customers/{cid}/owner", json=body).status_code == 200


def test_sign_in_is_throttled_per_user_name(app: Any, web_env: WebEnv) -> None:
    _new_user(web_env, "target")
    limit = web_env.settings.login_max_failures
    with _client(app) as c:
        for _ in range(limit):
            assert (
                c.post("/login", data={"username": "target", "password": "wrong-wrong"}).status_code
                == 401
            )
        # even the right password is refused while throttled, and the answer says why
        blocked = c.post("/login", data={"username": "target", "password": PASSWORD})
        assert blocked.status_code == 429
        assert "Too many attempts" in blocked.text or "尝试次数过多" in blocked.text


def test_api_tokens_work_without_cookies_and_can_be_revoked(app: Any, web_env: WebEnv) -> None:
    _new_user(web_env, "scripter", role="analyst")
    c = sign_in(app, "scripter")
    made = c.post("/api/v1/tokens", json={"name": "nightly export"})
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("tw_")
    listed = c.get("/api/v1/tokens").json()
    assert [t["name"] for t in listed] == ["nightly export"] and "token" not in listed[0]
    with _client(app) as script:
        auth = {"Authorization": f"Bearer {token}"}
        assert script.get("/api/v1/me", headers=auth).json()["via"] == "token"
        # a token is not a cookie: no CSRF token needed for its changes
        again = script.post("/api/v1/tokens", json={"name": "second"}, headers=auth)
        assert again.status_code == 201
        assert c.delete(f"/api/v1/tokens/{made.json()['id']}").status_code == 200
        assert script.get("/api/v1/me", headers=auth).status_code == 401
        bogus = {"Authorization": "Bearer tw_" + "a" * 43}
        assert script.get("/api/v1/me", headers=bogus).status_code == 401


def test_security_headers_and_no_open_redirect(app: Any, login: Any) -> None:
    c = login("admin")
    page = c.get("/")
    assert page.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = c.get("/lang/en", params={"next": evil})
        assert r.headers["location"] == "/", evil


def test_pages_have_no_inline_scripts(app: Any, login: Any, web_env: WebEnv) -> None:
    import re

    c = login("admin")
    for path in (
        "/",
        "/customers",
        f"/customers/{web_env.pool[0]}",
        "/admin/users",
        "/admin/audit",
        "/tokens",
    ):
        html = c.get(path).text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
        assert scripts, path
        for attrs, body in scripts:
            assert 'src="/static/' in attrs and not body.strip(), (path, attrs, body[:80])
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path
        assert not re.search(r'(src|href)="(https?:)?//', html), path


def test_permission_failures_are_audited(login: Any) -> None:
    rep = login("rep2")
    assert rep.get("/api/v1/users").status_code == 403
    assert rep.put("/api/v1/customers/X/owner", json={"owner_id": None},
                   headers={"X-CSRF-Token": ""}).status_code == 403  # fmt: skip
    entries = login("admin").get("/api/v1/audit").json()
    denied = [e for e in entries if e["action"] == "permission.denied" and e["actor"] == "rep2"]
    reasons = {(e["entity_id"], e["after"]["reason"]) for e in denied}
    assert ("GET /api/v1/users", "ForbiddenError") in reasons
    assert ("PUT /api/v1/customers/X/owner", "CsrfError") in reasons


def test_nothing_is_served_from_another_host(app: Any) -> None:
    with _client(app) as c:
        assert c.get("/api/docs").status_code == 404  # Swagger UI would load a CDN's scripts
        spec = c.get("/api/v1/openapi.json")
        assert spec.status_code == 200 and spec.json()["info"]["title"] == "Tierwise"
