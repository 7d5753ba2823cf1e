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


from toydata import TOY_AS_OF, toy_tables  # noqa: E402, F401  (re-exported)


@pytest.fixture
def toy_data() -> dict[str, object]:
    """``toy_tables()`` for test directories whose own conftest hides this module's name."""
    return toy_tables()


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
