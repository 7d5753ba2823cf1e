"""Helpers of the web tests: a small classified store with one user per role, and signed-in clients for them.

Team: manager ``boss`` leads reps ``rep1`` and ``rep2``; ``rep3`` has no manager; ``ana`` is an
analyst; ``admin`` is the admin. rep1, rep2 and rep3 own 20 customers each; the rest are in
the public pool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tierwise import pipeline
from tierwise.classify import classify_store
from tierwise.classify._service import last_order_day
from tierwise.demo import generate
from tierwise.ingest import ImportOptions
from tierwise.settings import Settings
from tierwise.store import create_user
from tierwise.store.tables import customer_owners, customers, utcnow

PASSWORD = "correct-horse-battery"
ROLES = {"admin": "admin", "boss": "manager", "rep1": "rep", "rep2": "rep", "rep3": "rep",
         "ana": "analyst"}  # fmt: skip
XSS = "<script>alert('xss')</script>"


@dataclass
class WebEnv:
    settings: Settings
    store: sa.Engine
    user_ids: dict[str, int]
    owned: dict[str, list[str]]  # username -> customer ids
    pool: list[str]
    xss_customer: str


def build(root: Path, database_url: str | None = None) -> WebEnv:
    settings = Settings(data_dir=root / "data", mode="dev", database_url=database_url)
    pipeline.init(settings)
    files = root / "files"
    generate(customers=300, out=files, seed=7, fmt="csv")
    pipeline.import_paths([files], settings=settings, options=ImportOptions(batch_size=5000))
    store = pipeline.open_store(settings)
    ids: dict[str, int] = {}
    with store.begin() as conn:
        ids["admin"] = int(conn.scalar(sa.text("SELECT id FROM users WHERE username = 'admin'")))
        ids["boss"] = create_user(conn, username="boss", password=PASSWORD, role="manager")
        for name, role in ROLES.items():
            if name in ids:
                continue
            manager = ids["boss"] if name in ("rep1", "rep2") else None
            ids[name] = create_user(
                conn, username=name, password=PASSWORD, role=role, manager_id=manager,
                display_name=f"{name} {XSS}" if name == "rep3" else None,
            )  # fmt: skip
        conn.execute(sa.text("UPDATE users SET password_hash = :h WHERE username = 'admin'"),
                     {"h": conn.scalar(sa.text("SELECT password_hash FROM users WHERE username='boss'"))})  # fmt: skip
        all_ids = [r[0] for r in conn.execute(sa.select(customers.c.customer_id, customers.c.id).order_by(customers.c.id))]  # fmt: skip
        pks = dict(conn.execute(sa.select(customers.c.customer_id, customers.c.id)).all())
        owned: dict[str, list[str]] = {}
        for i, rep in enumerate(("rep1", "rep2", "rep3")):
            chunk = all_ids[i * 20 : (i + 1) * 20]
            owned[rep] = chunk
            conn.execute(
                customer_owners.insert(),
                [{"customer_pk": pks[c], "user_id": ids[rep], "assigned_at": utcnow(),
                  "assigned_by": "test"} for c in chunk],
            )  # fmt: skip
        pool = all_ids[60:]
        xss_customer = all_ids[0]  # owned by rep1
        conn.execute(customers.update().where(customers.c.customer_id == xss_customer)
                     .values(name=f"Evil {XSS}"))  # fmt: skip
    as_of = last_order_day(store)
    from datetime import timedelta

    classify_store(settings, store, as_of=as_of - timedelta(days=60), actor="test")
    classify_store(settings, store, as_of=as_of, actor="test")
    # a classification gives customers entering a dedicated tier an owner (act): read them back
    names = {v: k for k, v in ids.items()}
    by_pk = {p: c for c, p in pks.items()}
    with store.connect() as conn:
        for pk, user_id in conn.execute(sa.select(customer_owners.c.customer_pk,
                                                  customer_owners.c.user_id)):  # fmt: skip
            cid = by_pk[pk]
            if cid not in owned[names[user_id]]:
                owned[names[user_id]].append(cid)
    taken = {c for chunk in owned.values() for c in chunk}
    pool = [c for c in pool if c not in taken]
    return WebEnv(settings, store, ids, owned, pool, xss_customer)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Client(TestClient):
    csrf: str = ""

    def post_form(self, url: str, data: dict[str, str], **kw: object):  # type: ignore[no-untyped-def]
        return self.post(url, data={"csrf_token": self.csrf, **data}, **kw)  # type: ignore[arg-type]


def sign_in(app: object, username: str, password: str = PASSWORD) -> Client:
    client = Client(app, base_url="http://testserver", follow_redirects=False)  # type: ignore[arg-type]
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.text[:500]
    page = client.get("/tokens")
    assert page.status_code == 200
    client.csrf = csrf_of(page.text)
    client.headers["X-CSRF-Token"] = client.csrf
    return client
