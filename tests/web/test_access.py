"""Access control: every operation of the OpenAPI document × every role has a declared answer.

`EXPECTED` is the table. The test fails for an operation without an entry, so a new endpoint
cannot go untested. Path parameters point at a customer owned by rep1 (team of manager boss):
rep2, in the same team, must get 404 exactly as for a customer that does not exist.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from webenv import WebEnv, build

from tierwise.classify import set_override
from tierwise.scheme import default_scheme, default_scheme_text, dump_scheme, scheme_hash
from tierwise.store import create_user
from tierwise.store.tables import api_tokens, label_overrides, pending_changes, users
from tierwise.web import create_app
from tierwise.web._schemes import preview_token

USERS = ("admin", "boss", "rep1", "rep2", "ana")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def web_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebEnv]:
    """The access rules hold on both stores: SQLite and PostgreSQL (a throwaway schema)."""
    root = tmp_path_factory.mktemp(f"access-{request.param}")
    if request.param == "sqlite":
        env = build(root)
        yield env
        env.store.dispose()
        return
    server = request.getfixturevalue("pg_server")
    schema = f"tw_web_{secrets.token_hex(5)}"
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = server.update_query_dict({"options": f"-csearch_path={schema}"})
    env = build(root, database_url=url.render_as_string(hide_password=False))
    try:
        yield env
    finally:
        env.store.dispose()
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("SET lock_timeout = '10s'")
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="module")
def app(web_env: WebEnv) -> Any:
    return create_app(web_env.settings, store=web_env.store)


_counter = itertools.count()


@dataclass
class Op:
    expected: dict[str, int]  # user -> status
    body: Callable[[WebEnv, str], Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # prepares the state the call needs; returns values for the path placeholders
    setup: Callable[[WebEnv, str], dict[str, Any]] | None = None


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(USERS, status)


def admin_only(status: int) -> dict[str, int]:
    return {"admin": status, "boss": 403, "rep1": 403, "rep2": 403, "ana": 403}


READ_OWNED = {"admin": 200, "boss": 200, "rep1": 200, "rep2": 404, "ana": 200}
WRITE = {"admin": 200, "boss": 200, "rep1": 403, "rep2": 403, "ana": 403}


def _owned(env: WebEnv, _user: str) -> dict[str, Any]:
    return {"customer_id": env.owned["rep1"][1]}


def _override(env: WebEnv, user: str) -> dict[str, Any]:
    cid = env.owned["rep1"][2]
    with env.store.begin() as conn:
        conn.execute(sa.delete(label_overrides))
        set_override(conn, customer_id=cid, dimension="value_tier", label="B", reason="setup",
                     actor="test")  # fmt: skip
    return {"customer_id": cid, "dimension": "value_tier"}


def _pending(env: WebEnv, user: str) -> dict[str, Any]:
    cid = env.owned["rep1"][3]
    with env.store.begin() as conn:
        pk = conn.scalar(sa.text("SELECT id FROM customers WHERE customer_id = :c"), {"c": cid})
        pid = conn.scalar(
            pending_changes.insert().values(customer_pk=pk, dimension="value_tier",
                                            from_label="A", to_label="B", state="pending")
            .returning(pending_changes.c.id)
        )  # fmt: skip
    return {"pending_id": pid}


def _throwaway(env: WebEnv, user: str) -> dict[str, Any]:
    with env.store.begin() as conn:
        uid = create_user(conn, username=f"victim{next(_counter)}", password="p" * 12, role="rep")
    return {"user_id": uid}


def _own_token(env: WebEnv, user: str) -> dict[str, Any]:
    with env.store.begin() as conn:
        uid = conn.scalar(sa.select(users.c.id).where(users.c.username == user))
        tid = conn.scalar(
            api_tokens.insert().values(user_id=uid, name="setup", token_hash=f"{next(_counter):064d}",
                                       prefix="tw_setup").returning(api_tokens.c.id)
        )  # fmt: skip
    return {"token_id": tid}


def _latest_snapshot(env: WebEnv, user: str) -> dict[str, Any]:
    with env.store.connect() as conn:
        return {
            "snapshot_id": conn.scalar(
                sa.text("SELECT max(id) FROM snapshots WHERE state = 'published'")
            )
        }


def _classify_job(env: WebEnv, user: str) -> dict[str, Any]:
    with env.store.connect() as conn:
        return {"job_id": conn.scalar(sa.text("SELECT max(id) FROM jobs WHERE kind = 'classify'"))}


def _unique_scheme() -> Any:
    """The default scheme under a new name: a document that was never published."""
    return default_scheme().model_copy(update={"name": f"matrix {next(_counter)}"})


def _published_version(env: WebEnv, user: str) -> dict[str, Any]:
    from tierwise.classify._store import publish_scheme

    with env.store.begin() as conn:
        version = publish_scheme(conn, scheme=_unique_scheme(), actor="test", note="matrix")
    return {"version": version.version}


def _document(env: WebEnv, user: str) -> dict[str, Any]:
    return {"document": default_scheme_text()}


def _publishable(env: WebEnv, user: str) -> dict[str, Any]:
    from tierwise.classify._store import current_scheme

    with env.store.connect() as conn:
        version = current_scheme(conn).version
    scheme = _unique_scheme()
    token = preview_token(env.settings, digest=scheme_hash(scheme), version=version)
    return {"document": dump_scheme(scheme), "preview_token": token, "note": f"by {user}"}


EXPECTED: dict[tuple[str, str], Op] = {
    ("GET", "/api/v1/me"): Op(everyone(200)),
    ("GET", "/api/v1/dashboard"): Op(everyone(200)),
    ("GET", "/api/v1/classifications/status"): Op(everyone(200)),
    ("GET", "/api/v1/customers"): Op(everyone(200), params={"label": "value_tier:A"}),
    ("GET", "/api/v1/customers/export"): Op(everyone(200)),
    ("GET", "/api/v1/customers/{customer_id}"): Op(READ_OWNED, setup=_owned),
    ("GET", "/api/v1/customers/{customer_id}/history"): Op(READ_OWNED, setup=_owned),
    ("PATCH", "/api/v1/customers/{customer_id}"): Op(
        WRITE, setup=_owned, body=lambda env, u: {"tags": f"checked by {u}"}
    ),
    ("PUT", "/api/v1/customers/{customer_id}/owner"): Op(
        WRITE, setup=_owned, body=lambda env, u: {"owner_id": env.user_ids["rep1"]}
    ),
    ("POST", "/api/v1/customers/{customer_id}/overrides"): Op(
        {**WRITE, "admin": 201, "boss": 201},
        setup=_owned,
        body=lambda env, u: {"dimension": "churn_risk", "label": "low", "reason": "called"},
    ),
    ("POST", "/api/v1/customers/owner"): Op(
        WRITE,
        body=lambda env, u: {
            "customer_ids": env.owned["rep1"][6:8],
            "owner_id": env.user_ids["rep1"],
        },
    ),
    ("DELETE", "/api/v1/customers/{customer_id}/overrides/{dimension}"): Op(WRITE, setup=_override),
    ("POST", "/api/v1/approvals/{pending_id}"): Op(
        WRITE, setup=_pending, body=lambda env, u: {"approve": False, "note": "keep A"}
    ),
    ("GET", "/api/v1/snapshots"): Op(everyone(200)),
    # the evaluation is over every customer: roles that may preview, not reps
    ("GET", "/api/v1/evaluation"): Op(
        {"admin": 200, "boss": 200, "rep1": 403, "rep2": 403, "ana": 200}
    ),
    ("GET", "/api/v1/evaluation/migration"): Op(
        {"admin": 200, "boss": 200, "rep1": 403, "rep2": 403, "ana": 200},
        params={"from": 1, "to": 2, "row": "A", "col": "A"},
    ),
    ("GET", "/api/v1/snapshots/{snapshot_id}/labels"): Op(everyone(200), setup=_latest_snapshot),
    ("GET", "/api/v1/jobs/{job_id}"): Op(everyone(200), setup=_classify_job),
    ("GET", "/api/v1/users"): Op(admin_only(200)),
    ("POST", "/api/v1/users"): Op(
        admin_only(201), body=lambda env, u: {"username": f"new{next(_counter)}", "role": "rep"}
    ),
    ("PATCH", "/api/v1/users/{user_id}"): Op(
        admin_only(200), setup=_throwaway, body=lambda env, u: {"role": "analyst"}
    ),
    ("POST", "/api/v1/users/{user_id}/password"): Op(admin_only(200), setup=_throwaway),
    ("GET", "/api/v1/audit"): Op(admin_only(200)),
    ("GET", "/api/v1/tokens"): Op(everyone(200)),
    ("POST", "/api/v1/tokens"): Op(everyone(201), body=lambda env, u: {"name": "matrix"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Op(everyone(200), setup=_own_token),
    ("GET", "/api/v1/schemes"): Op(everyone(200)),
    ("GET", "/api/v1/schemes/current"): Op(everyone(200)),
    ("GET", "/api/v1/schemes/{version}"): Op(everyone(200), setup=_published_version),
    ("POST", "/api/v1/schemes/validate"): Op(everyone(200), body=_document),
    # a preview names customers beyond a rep's own
    ("POST", "/api/v1/schemes/preview"): Op(
        {"admin": 200, "boss": 200, "rep1": 403, "rep2": 403, "ana": 200}, body=_document
    ),
    ("POST", "/api/v1/schemes"): Op(
        {"admin": 201, "boss": 201, "rep1": 403, "rep2": 403, "ana": 403}, body=_publishable
    ),
    # starting a classification: only roles that may; 409 would mean one is still running
    ("POST", "/api/v1/classifications"): Op(
        {"admin": 202, "boss": 202, "rep1": 403, "rep2": 403, "ana": 403}
    ),
}


# ---- My work, the pool, complaints (tierwise.web.routes.work) ----
def _rep1_task(env: WebEnv, user: str) -> dict[str, Any]:
    """A fresh open task of rep1's (a notice: completing it plans nothing)."""
    from tierwise.store.tables import customers, tasks, utcnow

    cid = env.owned["rep1"][4]
    with env.store.begin() as conn:
        pk = conn.scalar(sa.select(customers.c.id).where(customers.c.customer_id == cid))
        tid = conn.scalar(
            tasks.insert().values(customer_pk=pk, user_id=env.user_ids["rep1"], kind="notice",
                                  status="open", due_at=utcnow(), reason_key="task.cadence",
                                  dedupe_key=f"matrix:{next(_counter)}", created_at=utcnow())
            .returning(tasks.c.id)
        )  # fmt: skip
    return {"task_id": tid}


def _pool_customer(env: WebEnv, user: str) -> dict[str, Any]:
    """One pool customer for every role's claim: back in the pool before each claim that
    succeeds (boss, rep1, rep2); rep2's claim, the last, stands and the scope tests below
    count the customer as rep2's."""
    from tierwise.store.tables import customer_owners, customers

    cid = env.pool[100] if env.pool[100] not in env.owned["rep2"] else env.owned["rep2"][-1]
    if user in ("boss", "rep1", "rep2"):
        with env.store.begin() as conn:
            pk = conn.scalar(sa.select(customers.c.id).where(customers.c.customer_id == cid))
            conn.execute(customer_owners.delete().where(customer_owners.c.customer_pk == pk))
    if user == "rep2":
        from tierwise.access import _dashboard

        env.pool.remove(cid)
        env.owned["rep2"].append(cid)
        # the dashboard is cached per snapshot and scope, not per owner change (rep2's was
        # computed while rep1 held this customer): drop it so the scope tests see the claim
        _dashboard._CACHE.clear()
    return {"customer_id": cid}


ROLE_ACTS = {"admin": 200, "boss": 200, "rep1": 200, "rep2": 404, "ana": 403}
EXPECTED.update(
    {
        ("GET", "/api/v1/tasks"): Op(everyone(200), params={"due": "all"}),
        ("POST", "/api/v1/tasks/{task_id}/done"): Op(
            ROLE_ACTS, setup=_rep1_task, body=lambda env, u: {"note": f"by {u}"}
        ),
        ("POST", "/api/v1/tasks/{task_id}/snooze"): Op(
            ROLE_ACTS,
            setup=_rep1_task,
            body=lambda env, u: {"until": "2099-01-01T09:00:00", "reason": "travelling"},
        ),
        ("POST", "/api/v1/tasks/{task_id}/skip"): Op(
            ROLE_ACTS, setup=_rep1_task, body=lambda env, u: {"reason": "not reachable"}
        ),
        ("GET", "/api/v1/pool"): Op(everyone(200)),
        ("POST", "/api/v1/pool/{customer_id}/claim"): Op(
            {"admin": 403, "boss": 200, "rep1": 200, "rep2": 200, "ana": 403},
            setup=_pool_customer,
        ),
        ("GET", "/api/v1/complaints"): Op(everyone(200)),
    }
)


# ---- pool, complaints, outreach, webhooks (routes.pool / complaints / outreach / webhooks) ----
def _pool_back(env: WebEnv, user: str) -> dict[str, Any]:
    """Every customer the env lists as pool back in the pool (an assignment of the previous
    call is undone, so the scope tests below still count the pool right); one of them."""
    from tierwise.store.tables import customer_owners, customers

    with env.store.begin() as conn:
        pks = sa.select(customers.c.id).where(customers.c.customer_id.in_(env.pool))
        conn.execute(customer_owners.delete().where(customer_owners.c.customer_pk.in_(pks)))
    return {"customer_id": env.pool[101], "user_id": env.user_ids["rep1"]}


def _rep1_customer_again(env: WebEnv, user: str) -> dict[str, Any]:
    """A customer of rep1's, given back to rep1 before each release (which may succeed)."""
    from tierwise.store.tables import customer_owners, customers, utcnow

    cid = env.owned["rep1"][12]
    with env.store.begin() as conn:
        pk = conn.scalar(sa.select(customers.c.id).where(customers.c.customer_id == cid))
        conn.execute(customer_owners.delete().where(customer_owners.c.customer_pk == pk))
        conn.execute(customer_owners.insert().values(customer_pk=pk, user_id=env.user_ids["rep1"],
                                                     assigned_at=utcnow(), assigned_by="test"))  # fmt: skip
    _pool_back(env, user)
    return {"customer_id": cid}


def _rep1_complaint(env: WebEnv, user: str) -> dict[str, Any]:
    """A fresh unanswered complaint of a customer of rep1's, its SLA clock started."""
    from tierwise.act import track
    from tierwise.store.tables import customers, feedback, utcnow

    cid = env.owned["rep1"][13]
    fid = f"MATRIX-{next(_counter)}"
    with env.store.begin() as conn:
        pk = conn.scalar(sa.select(customers.c.id).where(customers.c.customer_id == cid))
        conn.execute(feedback.insert().values(feedback_id=fid, customer_pk=pk, customer_id=cid,
                                              kind="complaint", received_at=utcnow(),
                                              text="late delivery", row_hash=fid[-32:]))  # fmt: skip
        track(conn, now=utcnow())
    return {"feedback_id": fid}


def _endpoint(env: WebEnv, user: str) -> dict[str, Any]:
    """A fresh webhook endpoint (to a local port nobody listens on: a test fails fast)."""
    from tierwise.store.tables import utcnow, webhook_endpoints

    with env.store.begin() as conn:
        eid = conn.scalar(
            webhook_endpoints.insert().values(url="http://127.0.0.1:9/hook", format="json",
                                              lang="en", created_at=utcnow(), created_by="test")
            .returning(webhook_endpoints.c.id)
        )  # fmt: skip
    return {"endpoint_id": eid}


WRITE_ONLY = {"admin": 200, "boss": 200, "rep1": 403, "rep2": 403, "ana": 403}
EXPECTED.update(
    {
        ("POST", "/api/v1/pool/{customer_id}/release"): Op(
            {"admin": 200, "boss": 200, "rep1": 200, "rep2": 404, "ana": 404},
            setup=_rep1_customer_again,
            body=lambda env, u: {"reason": f"{u}: moved away"},
        ),
        ("POST", "/api/v1/pool/{customer_id}/assign"): Op(
            WRITE_ONLY, setup=_pool_back, body=lambda env, u: {"user_id": env.user_ids["rep1"]}
        ),
        ("POST", "/api/v1/pool/assign"): Op(
            WRITE_ONLY, setup=_pool_back, body=lambda env, u: {"limit": 1, "rule": "load"}
        ),
        ("GET", "/api/v1/reps"): Op({**everyone(200), "ana": 403}),
        ("GET", "/api/v1/reps/{user_id}/caps"): Op(
            {"admin": 200, "boss": 200, "rep1": 200, "rep2": 404, "ana": 403}, setup=_pool_back
        ),
        ("PUT", "/api/v1/reps/{user_id}/caps"): Op(
            WRITE_ONLY, setup=_pool_back, body=lambda env, u: {"max_customers": 500}
        ),
        ("POST", "/api/v1/complaints/{feedback_id}/respond"): Op(
            {"admin": 200, "boss": 200, "rep1": 200, "rep2": 404, "ana": 404},
            setup=_rep1_complaint,
            body=lambda env, u: {"note": f"called back by {u}"},
        ),
        ("GET", "/api/v1/churn"): Op(everyone(200)),
        ("GET", "/api/v1/care"): Op(everyone(200), params={"days": 60}),
        ("GET", "/api/v1/export"): Op(everyone(200), params={"label": "value_tier:A"}),
        ("GET", "/api/v1/webhooks"): Op(admin_only(200)),
        ("POST", "/api/v1/webhooks"): Op(
            admin_only(201),
            body=lambda env, u: {"url": "http://127.0.0.1:9/hook", "format": "json"},
        ),
        ("DELETE", "/api/v1/webhooks/{endpoint_id}"): Op(admin_only(200), setup=_endpoint),
        ("POST", "/api/v1/webhooks/{endpoint_id}/test"): Op(admin_only(200), setup=_endpoint),
        ("GET", "/api/v1/webhooks/deliveries"): Op(admin_only(200)),
    }
)


# ---- import wizard (tierwise.web.routes.imports): only roles with "import" (admin) ----
def _upload_of(env: WebEnv, name: str) -> dict[str, Any]:
    """An upload of the admin's (others get 403 before any lookup: their role may not import)."""
    from pathlib import Path

    from tierwise.access import Principal
    from tierwise.web import _uploads

    admin = Principal(user_id=env.user_ids["admin"], username="admin", role="admin")
    path = Path(__file__).parents[1] / "corpus" / name
    with path.open("rb") as fh:
        view = _uploads.receive(env.settings, principal=admin, filename=path.name, source=fh,
                                lang="en")  # fmt: skip
    return {"upload_id": view["upload_id"]}


def _upload(env: WebEnv, user: str) -> dict[str, Any]:
    return _upload_of(env, "01_customers.csv")


def _empty_upload(env: WebEnv, user: str) -> dict[str, Any]:
    return _upload_of(env, "27_empty.csv")  # a real run of it writes no rows


EXPECTED.update(
    {
        ("GET", "/api/v1/imports"): Op(admin_only(200)),
        # the matrix sends JSON, not multipart: the admin is told to choose a file (422)
        ("POST", "/api/v1/imports"): Op(admin_only(422)),
        ("GET", "/api/v1/imports/{upload_id}"): Op(admin_only(200), setup=_upload),
        ("DELETE", "/api/v1/imports/{upload_id}"): Op(admin_only(204), setup=_upload),
        ("PUT", "/api/v1/imports/{upload_id}/choices"): Op(
            admin_only(200), setup=_upload, body=lambda env, u: {"on_duplicate": "skip"}
        ),
        ("POST", "/api/v1/imports/{upload_id}/dry-run"): Op(admin_only(200), setup=_upload),
        ("POST", "/api/v1/imports/{upload_id}/run"): Op(admin_only(202), setup=_empty_upload),
        ("GET", "/api/v1/imports/{upload_id}/status"): Op(admin_only(200), setup=_upload),
        ("GET", "/api/v1/imports/{upload_id}/problems"): Op(admin_only(200), setup=_upload),
        ("GET", "/api/v1/imports/{upload_id}/errors.csv"): Op(admin_only(200), setup=_upload),
    }
)


# ---- evaluation sections and backtests (tierwise.web.routes.evaluation): roles that preview ----
PREVIEW = {"admin": 200, "boss": 200, "rep1": 403, "rep2": 403, "ana": 200}


def _backtest_body(env: WebEnv, user: str) -> dict[str, Any]:
    from datetime import timedelta

    from tierwise.classify._service import last_order_day

    return {"as_of": str(last_order_day(env.store) - timedelta(days=60)), "horizon_days": 30}


def _backtest_row(env: WebEnv, user: str) -> dict[str, Any]:
    """A queued backtest job row (nothing runs it: only its view is asked for)."""
    from tierwise.store.jobs import create_job

    with env.store.begin() as conn:
        return {"job_id": create_job(conn, kind="backtest", params={"as_of": "2026-01-01"})}


EXPECTED.update(
    {
        ("GET", "/api/v1/evaluation/flow"): Op(PREVIEW),
        ("GET", "/api/v1/evaluation/cost"): Op(PREVIEW),
        ("GET", "/api/v1/evaluation/drift"): Op(PREVIEW),
        ("GET", "/api/v1/evaluation/before-after"): Op(PREVIEW),
        ("GET", "/api/v1/evaluation/holdout"): Op(PREVIEW),
        ("GET", "/api/v1/evaluation/backtests"): Op(PREVIEW),
        ("GET", "/api/v1/evaluation/backtests/{job_id}"): Op(PREVIEW, setup=_backtest_row),
        ("POST", "/api/v1/evaluation/backtests"): Op(
            {**PREVIEW, "admin": 202, "boss": 202, "ana": 202}, body=_backtest_body
        ),
    }
)


def _operations(app: Any) -> list[tuple[str, str]]:
    spec = app.openapi()
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def test_every_operation_has_an_entry(app: Any) -> None:
    missing = [op for op in _operations(app) if op not in EXPECTED]
    assert not missing, f"declare the expected status per role in EXPECTED for: {missing}"
    stale = [op for op in EXPECTED if op not in _operations(app)]
    assert not stale, f"EXPECTED names operations that no longer exist: {stale}"


def _wait_idle(app: Any) -> None:
    import time

    for _ in range(600):
        run = app.state.jobs.classify_run
        if run is None or run.state != "running":
            return
        time.sleep(0.1)


@pytest.mark.parametrize("user", USERS)
def test_access_matrix(app: Any, web_env: WebEnv, login: Any, user: str) -> None:
    client = login(user)
    failures = []
    for (method, path), op in EXPECTED.items():
        if (method, path) not in _operations(app):
            continue
        values = op.setup(web_env, user) if op.setup else {}
        url = path.format(**values)
        body = op.body(web_env, user) if op.body else None
        if method == "POST" and path == "/api/v1/classifications":
            _wait_idle(app)
        response = client.request(method, url, json=body, params=op.params)
        if method == "POST" and path == "/api/v1/classifications":
            _wait_idle(app)
        if response.status_code != op.expected[user]:
            failures.append(f"{method} {url}: {response.status_code} != {op.expected[user]} "
                            f"({response.text[:120]})")  # fmt: skip
    assert not failures, "\n".join(failures)


def test_out_of_scope_looks_exactly_like_missing(login: Any, web_env: WebEnv) -> None:
    rep2 = login("rep2")
    theirs = rep2.get(f"/api/v1/customers/{web_env.owned['rep1'][0]}")
    missing = rep2.get("/api/v1/customers/NO-SUCH-CUSTOMER")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    page_theirs = rep2.get(f"/customers/{web_env.owned['rep1'][0]}")
    page_missing = rep2.get("/customers/NO-SUCH-CUSTOMER")
    assert page_theirs.status_code == page_missing.status_code == 404
    theirs_id = web_env.owned["rep1"][0]
    assert page_theirs.text.replace(theirs_id, "X") == page_missing.text.replace(
        "NO-SUCH-CUSTOMER", "X"
    )
    history = rep2.get(f"/api/v1/customers/{web_env.owned['rep1'][0]}/history")
    assert history.status_code == 404


def _all_ids(client: Any) -> set[str]:
    ids: set[str] = set()
    page = 1
    while True:
        data = client.get("/api/v1/customers", params={"per_page": 200, "page": page}).json()
        ids |= {c["customer_id"] for c in data["items"]}
        if page >= data["pages"]:
            return ids
        page += 1


def test_lists_counts_and_exports_are_scoped(login: Any, web_env: WebEnv) -> None:
    rep1_ids = set(web_env.owned["rep1"])
    rep2_ids = set(web_env.owned["rep2"])
    rep3_ids = set(web_env.owned["rep3"])
    pool = set(web_env.pool)
    seen = {u: _all_ids(login(u)) for u in ("admin", "boss", "rep1", "rep2", "ana")}
    assert seen["rep2"] == rep2_ids | pool
    assert seen["rep1"] == rep1_ids | pool
    assert seen["boss"] == rep1_ids | rep2_ids | pool  # not rep3: another team
    assert seen["admin"] == seen["ana"] == rep1_ids | rep2_ids | rep3_ids | pool
    rep2 = login("rep2")
    total = rep2.get("/api/v1/customers").json()["total"]
    assert total == len(rep2_ids | pool)
    export = rep2.get("/api/v1/customers/export", params={"format": "csv"})
    assert export.status_code == 200
    text = export.content.decode("utf-8-sig")
    assert not any(cid in text for cid in rep1_ids)
    assert sum(1 for cid in rep2_ids if cid in text) == len(rep2_ids)
    # a search for another rep's customer finds nothing
    found = rep2.get("/api/v1/customers", params={"q": web_env.owned["rep1"][0]}).json()
    assert found["total"] == 0
    # and the dashboard counts only the scope
    counts = rep2.get("/api/v1/dashboard").json()["distribution"]
    assert sum(i["count"] for i in counts[0]["items"]) == len(rep2_ids | pool)


def test_analysts_see_contacts_masked(login: Any, web_env: WebEnv) -> None:
    ana = login("ana").get("/api/v1/customers", params={"per_page": 200}).json()["items"]
    admin = login("admin").get("/api/v1/customers", params={"per_page": 200}).json()["items"]
    phones = {c["customer_id"]: c["phone"] for c in admin if c["phone"]}
    assert phones
    for c in ana:
        if c["customer_id"] in phones:
            assert c["phone"] != phones[c["customer_id"]] and "*" in c["phone"]
        if c["email"]:
            assert "***@" in c["email"]
    export = login("ana").get("/api/v1/customers/export").content.decode("utf-8-sig")
    assert not any(p in export for p in phones.values())


def test_owner_and_tier_cannot_be_mass_assigned(login: Any, web_env: WebEnv) -> None:
    admin = login("admin")
    cid = web_env.owned["rep2"][0]
    for field_name, value in (("owner_id", web_env.user_ids["rep1"]), ("owner", "rep1"),
                              ("value_tier", "A"), ("labels", {"value_tier": "A"}),
                              ("role", "admin"), ("customer_id", "HIJACK")):  # fmt: skip
        r = admin.patch(f"/api/v1/customers/{cid}", json={"name": "ok", field_name: value})
        assert r.status_code == 422, field_name
    rep2_view = login("rep2").get(f"/api/v1/customers/{cid}")
    assert rep2_view.status_code == 200
    made = admin.post("/api/v1/users", json={"username": "sneaky", "role": "rep", "is_admin": True})
    assert made.status_code == 422


def test_a_manager_cannot_reach_another_team(login: Any, web_env: WebEnv) -> None:
    boss = login("boss")
    other = web_env.owned["rep3"][0]
    assert boss.get(f"/api/v1/customers/{other}").status_code == 404
    r = boss.put(f"/api/v1/customers/{web_env.owned['rep1'][5]}/owner",
                 json={"owner_id": web_env.user_ids["rep3"]})  # fmt: skip
    assert r.status_code == 404  # rep3 is not in boss's team
    r = boss.put(f"/api/v1/customers/{other}/owner", json={"owner_id": web_env.user_ids["rep1"]})
    assert r.status_code == 404


def test_another_users_token_cannot_be_revoked(login: Any, web_env: WebEnv) -> None:
    values = _own_token(web_env, "rep1")
    assert login("rep2").delete(f"/api/v1/tokens/{values['token_id']}").status_code == 404
