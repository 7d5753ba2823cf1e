"""Engines for the system of record (SQLite by default, PostgreSQL for teams) and migrations.

SQLite is opened in WAL mode with foreign keys on, ``synchronous=FULL`` (a committed import
survives a power cut) and a 30 s busy timeout. pysqlite's own transaction handling is switched
off and SQLAlchemy emits BEGIN itself (the recipe in SQLAlchemy's SQLite docs, "Enabling
Non-Legacy SQLite Transactional Modes"), so that SELECTs, DDL and SAVEPOINTs are transactional.

Transactions on SQLite begin ``IMMEDIATE``: the write lock is taken at BEGIN, waiting up to the
busy timeout. A deferred transaction that reads and then writes fails at once with "database is
locked" when another connection wrote in between (the busy timeout cannot help there), and
importers, merges and job bookkeeping all read before they write. Long read-only work (reports,
exports, copying to DuckDB) should use `read_only(engine)`, whose transactions begin DEFERRED
and never wait for or block writers.

Example::

    engine = create_engine("sqlite:///tierwise-data/tierwise.db")
    upgrade(engine)
    with engine.begin() as conn:
        ...
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from tierwise.errors import ConfigError, DataError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS: Final = 30_000
_BEGIN_OPTION: Final = "tierwise_sqlite_begin"
# any constant: serialises concurrent `upgrade` calls on one PostgreSQL database
_PG_MIGRATION_LOCK: Final = 0x7469657277697365  # "tierwise"


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable: {value!r}")


def json_dumps(value: object) -> str:
    """Serialise a JSON column value the same way on every database.

    Datetimes and dates become ISO strings; NaN and infinity are refused (PostgreSQL's JSON
    type rejects them, SQLite would store them), so both databases fail alike.

    >>> json_dumps({"at": date(2024, 3, 1), "名": "张三"})
    '{"at": "2024-03-01", "名": "张三"}'
    """
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)
    except ValueError as exc:  # NaN or infinity
        raise DataError(
            f"A JSON value cannot hold NaN or infinity ({exc}); store None (null) instead."
        ) from exc


def _normalise_url(url: str | sa.URL) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(
            f"Database URL {str(url)!r} is not valid. Use sqlite:///path/tierwise.db or "
            "postgresql+psycopg://user@host/dbname."
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"Database {backend!r} is not supported (URL {parsed.render_as_string()!r}); "
            "use sqlite:/// or postgresql+psycopg://."
        )
    return parsed


def create_engine(url: str | sa.URL, **kwargs: Any) -> sa.Engine:
    """An engine for ``sqlite:///path`` or ``postgresql[+psycopg]://...``, set up for Tierwise.

    A PostgreSQL URL may name a schema with ``?schema=name`` (or pass
    ``?options=-csearch_path=name``); every connection then uses it as its search path.
    Extra keyword arguments go to `sqlalchemy.create_engine`.

    >>> engine = create_engine("sqlite:///:memory:")
    >>> engine.dialect.name
    'sqlite'
    """
    parsed = _normalise_url(url)
    kwargs.setdefault("json_serializer", json_dumps)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    schema = parsed.query.get("schema")
    if schema is not None:
        if not isinstance(schema, str) or not schema.replace("_", "").isalnum():
            raise ConfigError(f"Schema {schema!r} in the database URL must be one plain name.")
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        options = f"{given} -csearch_path={schema}".strip()
        parsed = parsed.difference_update_query(["schema"]).update_query_dict({"options": options})
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **kwargs)


def _sqlite_engine(url: sa.URL, **kwargs: Any) -> sa.Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy emit BEGIN (below) instead of pysqlite's legacy implicit transactions
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def read_only(engine: sa.Engine) -> sa.Engine:
    """The same engine (same pool) for read-only work.

    On SQLite its transactions begin DEFERRED, so a long report never blocks an import nor
    waits for one (WAL readers see the last committed snapshot). Writing through it can fail
    with "database is locked" under concurrency. On PostgreSQL it changes nothing.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})


# alembic is imported on use: most users of tierwise.store never migrate


def _alembic_config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def upgrade(engine_or_url: sa.Engine | str | sa.URL, revision: str = "head") -> None:
    """Migrate the database to ``revision`` in one transaction; a no-op when already there.

    Works on a fresh SQLite file and on a fresh PostgreSQL database or schema. Concurrent calls
    are safe: SQLite serialises them on its write lock, PostgreSQL on an advisory lock.
    """
    from alembic import command

    engine = engine_or_url if isinstance(engine_or_url, sa.Engine) else create_engine(engine_or_url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            command.upgrade(_alembic_config(conn), revision)
    finally:
        if engine is not engine_or_url:
            engine.dispose()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None before the first `upgrade`."""
    from alembic.runtime.migration import MigrationContext

    with read_only(engine).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this version of Tierwise."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError(f"No migrations found in {MIGRATIONS_DIR}")
    return head


__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS_DIR",
    "create_engine",
    "current_revision",
    "head_revision",
    "json_dumps",
    "read_only",
    "upgrade",
]
