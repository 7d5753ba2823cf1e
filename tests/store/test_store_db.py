"""Engines: SQLite pragmas and transactions, PostgreSQL URLs, constraints enforced on both."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwise.errors import ConfigError, DataError
from tierwise.store import create_engine, read_only, tables, upgrade

AddCustomer = Callable[[sa.Connection, str], int]
HASH = "0" * 32


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


# --- SQLite set-up ---------------------------------------------------------------------------


def test_sqlite_pragmas_are_set_on_every_connection(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        for _ in range(2):  # a new connection, then one back from the pool
            with engine.connect() as conn:
                pragma = conn.exec_driver_sql
                assert pragma("PRAGMA journal_mode").scalar() == "wal"
                assert pragma("PRAGMA foreign_keys").scalar() == 1
                assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
                assert pragma("PRAGMA busy_timeout").scalar() == 30000
    finally:
        engine.dispose()


def test_sqlite_file_parent_directory_is_created(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/a/b/tierwise.db")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    assert (tmp_path / "a" / "b" / "tierwise.db").is_file()


def test_sqlite_ddl_is_transactional(sqlite_url: str) -> None:
    # pysqlite's legacy mode would have committed the CREATE TABLE at once
    engine = create_engine(sqlite_url)
    try:
        with pytest.raises(RuntimeError), engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
            raise RuntimeError("roll back")
        assert "scratch" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_sqlite_concurrent_writers_wait_instead_of_failing(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engines = [create_engine(sqlite_url) for _ in range(2)]  # like two processes
    errors: list[BaseException] = []

    def work(engine: sa.Engine, worker: int) -> None:
        try:
            for i in range(25):
                with engine.begin() as conn:
                    # read, then write: fails under deferred transactions with a concurrent writer
                    n = _count(conn, tables.products)
                    conn.execute(
                        tables.products.insert().values(
                            product_id=f"W{worker}-{i}", row_hash=HASH, price=float(n)
                        )
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(engines[w % 2], w), daemon=True) for w in range(4)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "writers hang"
        assert errors == []
        with engines[0].connect() as conn:
            assert _count(conn, tables.products) == 100
    finally:
        for engine in engines:
            engine.dispose()


def test_sqlite_read_only_engine_reads_while_another_connection_writes(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        with engine.begin() as writer:
            writer.execute(tables.products.insert().values(product_id="P1", row_hash=HASH))
            started = time.monotonic()
            with read_only(engine).connect() as reader:
                assert _count(reader, tables.products) == 0  # the last committed snapshot
            assert time.monotonic() - started < 5
        with read_only(engine).connect() as reader:
            assert _count(reader, tables.products) == 1
    finally:
        engine.dispose()


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_urls_use_psycopg_3(scheme: str) -> None:
    engine = create_engine(f"{scheme}://user@localhost:5432/tierwise")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url", "duckdb:///x.db"])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="sqlite"):
        create_engine(url)


@pytest.mark.postgres
def test_schema_in_postgresql_url_becomes_search_path(pg_url: str) -> None:
    url = sa.make_url(pg_url)
    options = url.query["options"]
    assert isinstance(options, str)
    schema = options.removeprefix("-csearch_path=")
    engine = create_engine(
        url.difference_update_query(["options"]).update_query_dict({"schema": schema})
    )
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT current_schema()")) == schema
            assert "customers" in sa.inspect(conn).get_table_names(schema=schema)
    finally:
        engine.dispose()


# --- constraints and transactions, on both databases ------------------------------------------


def test_foreign_keys_are_enforced(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            tables.orders.insert().values(
                order_id="O1",
                customer_pk=999,
                customer_id="C999",
                ordered_at=datetime(2024, 3, 1, 10, 0),
                row_hash=HASH,
            )
        )


def test_deleting_a_customer_with_orders_is_restricted(
    engine: sa.Engine, add_customer: AddCustomer
) -> None:
    with engine.begin() as conn:
        pk = add_customer(conn, "C1")
        conn.execute(
            tables.orders.insert().values(
                order_id="O1",
                customer_pk=pk,
                customer_id="C1",
                ordered_at=datetime(2024, 3, 1),
                row_hash=HASH,
            )
        )
        conn.execute(tables.customer_aliases.insert().values(alias="OLD-C1", customer_pk=pk))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(tables.customers.delete().where(tables.customers.c.id == pk))
    with engine.begin() as conn:
        conn.execute(tables.orders.delete())
        conn.execute(tables.customers.delete().where(tables.customers.c.id == pk))
        assert _count(conn, tables.customer_aliases) == 0  # ON DELETE CASCADE


def test_external_keys_are_unique(engine: sa.Engine, add_customer: AddCustomer) -> None:
    with engine.begin() as conn:
        pk = add_customer(conn, "C1")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        add_customer(conn, "C1")

    def order(order_id: str, line_id: str | None) -> dict[str, object]:
        values: dict[str, object] = {
            "order_id": order_id,
            "customer_pk": pk,
            "customer_id": "C1",
            "ordered_at": datetime(2024, 3, 1),
            "row_hash": HASH,
        }
        if line_id is not None:
            values["line_id"] = line_id
        return values

    with engine.begin() as conn:
        conn.execute(tables.orders.insert().values(order("O1", None)))  # whole order: line ''
        conn.execute(tables.orders.insert().values(order("O1", "2")))
        assert conn.scalars(sa.select(tables.orders.c.line_id).order_by("id")).all() == ["", "2"]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(tables.orders.insert().values(order("O1", "")))


def test_check_constraints_reject_unknown_states(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(tables.jobs.insert().values(kind="import", state="paused"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            tables.users.insert().values(username="x", password_hash="h", role="superuser")
        )


def test_rolled_back_transaction_leaves_nothing(
    engine: sa.Engine, add_customer: AddCustomer
) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        add_customer(conn, "C1")
        add_customer(conn, "C2")
        raise RuntimeError("import crashed")
    with engine.connect() as conn:
        assert _count(conn, tables.customers) == 0


def test_savepoint_rolls_back_alone(engine: sa.Engine, add_customer: AddCustomer) -> None:
    with engine.begin() as conn:
        add_customer(conn, "C1")
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            add_customer(conn, "C1")
        add_customer(conn, "C2")
    with engine.connect() as conn:
        assert _count(conn, tables.customers) == 2


def test_values_round_trip_exactly(engine: sa.Engine) -> None:
    values = {
        "customer_id": "C1",
        "name": "张三",
        "birthday": date(1990, 2, 28),
        "age": 34,
        "created_at": datetime(2024, 3, 1, 23, 59, 58, 123456),  # local time, naive
        "attributes": {"会员等级": "金卡", "points": 1200, "since": "2020-01-01"},
        "row_hash": HASH,
    }
    with engine.begin() as conn:
        conn.execute(tables.customers.insert().values(**values))
        conn.execute(
            tables.products.insert().values(product_id="P1", price=1234567.891234567, row_hash=HASH)
        )
    with engine.connect() as conn:
        row = conn.execute(sa.select(tables.customers)).mappings().one()
        assert {k: row[k] for k in values} == values
        assert isinstance(row["inserted_at"], datetime) and row["inserted_at"].tzinfo is None
        assert conn.scalar(sa.select(tables.products.c.price)) == 1234567.891234567  # double


def test_json_none_is_sql_null_and_nan_is_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            tables.customers.insert().values(customer_id="C1", row_hash=HASH, attributes=None)
        )
        missing = conn.scalar(
            sa.select(sa.func.count()).where(tables.customers.c.attributes.is_(None))
        )
        assert missing == 1
    # SQLAlchemy wraps the error on SQLite; psycopg raises it as is
    refused = (sa.exc.StatementError, DataError)
    with pytest.raises(refused, match="NaN or infinity"), engine.begin() as conn:
        conn.execute(
            tables.customers.insert().values(
                customer_id="C2", row_hash=HASH, attributes={"x": float("nan")}
            )
        )
