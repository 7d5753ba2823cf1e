"""Shared database fixtures: every store test runs on SQLite and on PostgreSQL.

- ``sqlite_url``: a fresh SQLite file in the test's temporary directory.
- ``pg_url``: a throwaway schema ``tw_<hex>`` on the PostgreSQL server named by
  ``TIERWISE_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
  dropped afterwards. Without a server the test is skipped, unless ``CI`` is set or
  ``TIERWISE_REQUIRE_PG=1``: then it fails.
- ``db_url``: ``sqlite`` and ``postgres`` (marked ``postgres``), migrated to head.
- ``engine``: a `tierwise.store.create_engine` engine on ``db_url``, disposed afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from tierwise.store import create_engine, upgrade

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("TIERWISE_REQUIRE_PG") == "1"


def _libpq_dsn(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server() -> sa.URL:
    """The PostgreSQL server for tests, checked once per session."""
    url = sa.make_url(os.environ.get("TIERWISE_TEST_PG_URL", DEFAULT_PG_URL))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    try:
        with psycopg.connect(_libpq_dsn(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = (
            f"PostgreSQL is unreachable at {url.render_as_string(hide_password=True)} ({exc}); "
            "set TIERWISE_TEST_PG_URL to a server where the user may create schemas."
        )
        if _pg_required():
            pytest.fail(reason + " (required because CI or TIERWISE_REQUIRE_PG=1 is set)")
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_url(pg_server: sa.URL) -> Iterator[str]:
    """A URL whose connections use a fresh schema as search_path; the schema is dropped after."""
    schema = f"tw_{secrets.token_hex(6)}"
    dsn = _libpq_dsn(pg_server)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield pg_server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            # a leaked connection holding a lock must fail the run, not hang it
            admin.execute("SET lock_timeout = '10s'")
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/tierwise.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def fresh_db_url(db_kind: str, request: pytest.FixtureRequest) -> str:
    """An empty database (not migrated) of each kind."""
    name = "sqlite_url" if db_kind == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def db_url(fresh_db_url: str) -> str:
    """A database of each kind, migrated to head."""
    upgrade(fresh_db_url)
    return fresh_db_url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- analytics engines on a hand-made toy data set -------------------------------------------
#
# ``toy_tables`` is small enough to check on paper (tests/features/test_features.py does);
# ``analytics`` puts it on DuckDB, PostgreSQL (a throwaway schema) or local Spark, so one test
# body runs on every engine.

TOY_AS_OF = "2024-06-30"


def toy_tables() -> dict[str, object]:
    import datetime as dt

    import polars as pl

    from tierwise.engine import arrow_schema

    def ts(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text)

    def frame(table: str, rows: list[dict[str, object]]) -> object:
        schema = arrow_schema(table)
        cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
        return pl.DataFrame(cols).to_arrow().cast(schema) if rows else schema.empty_table()

    customers = [
        {
            "id": 1,
            "customer_pk": 1,
            "customer_id": "C1",
            "name": "张伟",
            "kind": "person",
            "province": "上海",
            "country": "中国",
            "created_at": ts("2023-01-01 09:00"),
            "age": 33,
        },
        {
            "id": 2,
            "customer_pk": 2,
            "customer_id": "C2",
            "name": "Acme Ltd",
            "kind": "company",
            "province": "广东省",
            "industry": "制造业",
            "created_at": ts("2023-01-01 09:00"),
        },
        {
            "id": 3,
            "customer_pk": 3,
            "customer_id": "C3",
            "name": "李娜",
            "kind": "person",
            "country": "美国",
            "created_at": ts("2024-04-01 09:00"),
        },
        {
            "id": 4,
            "customer_pk": 4,
            "customer_id": "C4",
            "name": "王芳",
            "kind": "person",
            "created_at": ts("2024-01-01 09:00"),
        },
        {
            "id": 5,
            "customer_pk": 5,
            "customer_id": "C5",
            "name": "Late Co",
            "kind": "company",
            "created_at": ts("2024-08-01 09:00"),
        },
    ]
    orders = [
        {
            "id": 1,
            "customer_pk": 1,
            "order_id": "O1",
            "ordered_at": ts("2024-01-10 10:00"),
            "amount": 100.0,
            "status": "paid",
            "category": "A",
            "gross_profit": 30.0,
        },
        {
            "id": 2,
            "customer_pk": 1,
            "order_id": "O2",
            "ordered_at": ts("2024-01-10 15:00"),
            "amount": 50.0,
            "status": "paid",
            "category": "B",
            "gross_profit": 10.0,
        },
        {
            "id": 3,
            "customer_pk": 1,
            "order_id": "O3",
            "ordered_at": ts("2024-03-10 10:00"),
            "amount": 200.0,
            "status": "paid",
            "category": "A",
        },
        {
            "id": 4,
            "customer_pk": 1,
            "order_id": "O4",
            "ordered_at": ts("2024-06-20 10:00"),
            "amount": 300.0,
            "status": "paid",
            "category": "A",
        },
        {
            "id": 5,
            "customer_pk": 1,
            "order_id": "O5",
            "ordered_at": ts("2024-06-25 10:00"),
            "amount": -300.0,
            "status": "refunded",
            "category": "A",
        },
        # after the as-of date: must change nothing
        {
            "id": 6,
            "customer_pk": 1,
            "order_id": "O6",
            "ordered_at": ts("2024-07-05 10:00"),
            "amount": 999.0,
            "status": "paid",
            "category": "C",
        },
        {
            "id": 7,
            "customer_pk": 2,
            "order_id": "O7",
            "ordered_at": ts("2023-06-30 10:00"),
            "amount": 1000.0,
            "status": "paid",
            "category": "B",
        },
        {
            "id": 8,
            "customer_pk": 4,
            "order_id": "O8",
            "ordered_at": ts("2024-07-01 10:00"),
            "amount": 80.0,
            "status": "paid",
            "category": "A",
        },
    ]
    interactions = [
        {"id": 1, "customer_pk": 1, "occurred_at": ts("2024-06-01 10:00"), "kind": "call"},
        {"id": 2, "customer_pk": 1, "occurred_at": ts("2024-05-15 10:00"), "kind": "visit"},
        {"id": 3, "customer_pk": 1, "occurred_at": ts("2024-06-29 10:00"), "kind": "web_visit"},
        {"id": 4, "customer_pk": 2, "occurred_at": ts("2023-12-01 10:00"), "kind": "email"},
        {"id": 5, "customer_pk": 2, "occurred_at": ts("2024-07-02 10:00"), "kind": "visit"},
    ]
    feedback = [
        {
            "id": 1,
            "customer_pk": 1,
            "received_at": ts("2024-06-21 10:00"),
            "kind": "review",
            "score": 5.0,
            "sentiment": 0.8,
        },
        {
            "id": 2,
            "customer_pk": 2,
            "received_at": ts("2024-02-01 10:00"),
            "kind": "complaint",
            "category": "物流",
            "status": "open",
            "sentiment": -0.8,
        },
        {
            "id": 3,
            "customer_pk": 2,
            "received_at": ts("2024-03-01 10:00"),
            "kind": "nps",
            "score": 2.0,
        },
    ]
    referrals = [
        {
            "id": 1,
            "referrer_pk": 1,
            "referred_pk": 3,
            "referred_at": ts("2024-04-01 10:00"),
            "converted": False,
        },
        {
            "id": 2,
            "referrer_pk": 1,
            "referred_pk": 2,
            "referred_at": ts("2023-01-01 10:00"),
            "converted": True,
        },
    ]
    leads = [
        {
            "id": 1,
            "customer_pk": 3,
            "created_at": ts("2024-05-01 10:00"),
            "stage": "报价",
            "intent_signals": "索要报价,预约演示",
            "needs": "价格敏感",
            "outcome": "open",
            "expected_value": 5000.0,
        },
        {
            "id": 2,
            "customer_pk": 2,
            "created_at": ts("2023-05-01 10:00"),
            "stage": "赢单",
            "decided_at": ts("2023-06-15 10:00"),
            "outcome": "won",
            "needs": "重视售后",
        },
    ]
    return {
        "customers": frame("customers", customers),
        "orders": frame("orders", orders),
        "interactions": frame("interactions", interactions),
        "feedback": frame("feedback", feedback),
        "referrals": frame("referrals", referrals),
        "leads": frame("leads", leads),
    }


ENGINE_PARAMS = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=pytest.mark.spark),
]


def _postgres_analytics(data: dict[str, object], url: str) -> object:
    import pyarrow as pa

    from tierwise.engine import Analytics, postgres_backend
    from tierwise.engine._schema import ANALYTIC

    backend = postgres_backend(sa.make_url(url))
    tables = {}
    for name, table in data.items():
        assert isinstance(table, pa.Table)
        tables[name] = backend.create_table(name, table, overwrite=True)
    assert set(tables) == set(ANALYTIC)
    return Analytics("postgres", backend, tables)


@pytest.fixture(params=ENGINE_PARAMS)
def engine_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def make_analytics(engine_name: str, request: pytest.FixtureRequest) -> Iterator[object]:
    """``make_analytics(tables)`` → the tables on this test's engine."""
    from tierwise.engine import from_arrow

    made: list[object] = []

    def make(data: dict[str, object]) -> object:
        if engine_name == "postgres":
            analytics = _postgres_analytics(data, request.getfixturevalue("pg_url"))
        else:
            analytics = from_arrow(data, engine=engine_name)  # type: ignore[arg-type]
        made.append(analytics)
        return analytics

    yield make
    for analytics in made:
        if engine_name != "spark":  # the Spark session is shared by the whole run
            analytics.backend.disconnect()  # type: ignore[attr-defined]
