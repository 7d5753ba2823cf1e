"""The schema: every canonical field has a column, and the migrations build exactly `metadata`."""

from __future__ import annotations

import ast
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script

from tierwise.ingest._schema import TABLES, FieldType
from tierwise.store import create_engine, current_revision, head_revision, tables, upgrade
from tierwise.store.db import MIGRATIONS_DIR, _alembic_config

# the column types a canonical field type may be stored as
COMPATIBLE: dict[FieldType, tuple[type[sa.types.TypeEngine[Any]], ...]] = {
    "key": (sa.String,),
    "text": (sa.Text,),
    "phone": (sa.String,),
    "email": (sa.String,),
    "enum": (sa.String,),
    "list": (sa.Text,),
    "number": (sa.Double,),
    "int": (sa.Integer,),
    "datetime": (sa.DateTime,),
    "date": (sa.Date,),
    "bool": (sa.Boolean,),
}


def _diff(conn: sa.Connection, metadata: sa.MetaData) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_every_schema_field_has_a_column_of_a_compatible_type(kind: str) -> None:
    table = tables.CANONICAL[kind]
    for field in TABLES[kind].fields:
        assert field.name in table.c, f"{kind}.{field.name} has no column"
        column_type = table.c[field.name].type
        assert isinstance(column_type, COMPATIBLE[field.type]), (
            f"{kind}.{field.name} is {field.type} but stored as {column_type!r}"
        )
        if field.type == "key":
            assert isinstance(column_type, sa.String)
            assert column_type.length == tables.KEY_LENGTH
        if field.type == "datetime":
            assert isinstance(column_type, sa.DateTime)
            assert not column_type.timezone


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_external_keys_are_unique_and_not_null(kind: str) -> None:
    table = tables.CANONICAL[kind]
    key = TABLES[kind].key
    assert all(not table.c[name].nullable for name in key)
    unique_sets = [
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint)
    ]
    assert key in unique_sets


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_customer_references_have_a_foreign_key(kind: str) -> None:
    table = tables.CANONICAL[kind]
    for ref in TABLES[kind].customer_refs:
        pk_column = table.c[ref.replace("_id", "_pk")]
        assert {fk.target_fullname for fk in pk_column.foreign_keys} == {"customers.id"}
        assert pk_column.index


def test_migrations_create_every_table(engine: sa.Engine) -> None:
    names = set(sa.inspect(engine).get_table_names())
    assert names == set(tables.metadata.tables) | {"alembic_version"}


def test_migrated_schema_matches_metadata(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert _diff(conn, tables.metadata) == []


def test_schema_comparison_notices_a_difference(engine: sa.Engine) -> None:
    # guards the test above against comparing nothing
    changed = sa.MetaData(naming_convention=tables.NAMING_CONVENTION)
    for table in tables.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["orders"].append_column(sa.Column("coupon", sa.Text()))
    sa.Index(None, changed.tables["orders"].c.channel)
    with engine.connect() as conn:
        kinds = sorted(diff[0] for diff in _diff(conn, changed))
    assert kinds == ["add_column", "add_index"]


def test_datetime_columns_are_without_time_zone(engine: sa.Engine) -> None:
    inspector = sa.inspect(engine)
    checked = 0
    for table in tables.metadata.sorted_tables:
        for column in inspector.get_columns(table.name):
            if isinstance(column["type"], sa.DateTime):
                assert not column["type"].timezone, f"{table.name}.{column['name']}"
                checked += 1
    assert checked >= 30


def test_fresh_database_is_migrated_to_head(fresh_db_url: str) -> None:
    engine = create_engine(fresh_db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision() == "0008_label_versions"
    finally:
        engine.dispose()


def test_fact_provenance_migration_keeps_every_row(fresh_db_url: str) -> None:
    # 0007 rebuilds the fact tables on SQLite: their rows, ids and batch ids must survive it
    engine = create_engine(fresh_db_url)
    try:
        upgrade(engine, "0006_digests")
        with engine.begin() as conn:
            batch = conn.execute(
                sa.text(
                    "INSERT INTO import_batches (kind, file_sha256, state, started_at) "
                    "VALUES ('orders', 'x', 'done', CURRENT_TIMESTAMP) RETURNING id"
                )
            ).scalar_one()
            pk = conn.execute(
                sa.text(
                    "INSERT INTO customers (customer_id, row_hash, batch_id, inserted_at, "
                    "updated_at) VALUES ('C1', :h, :b, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) "
                    "RETURNING id"
                ),
                {"h": "0" * 32, "b": batch},
            ).scalar_one()
            for n in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO orders (order_id, line_id, customer_pk, customer_id, "
                        "ordered_at, amount, row_hash, batch_id, inserted_at, updated_at) "
                        "VALUES (:o, '', :c, 'C1', CURRENT_TIMESTAMP, 9.5, :h, :b, "
                        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"o": f"O{n}", "c": pk, "h": "0" * 32, "b": batch},
                )
        upgrade(engine)
        inspector = sa.inspect(engine)
        assert all(
            fk["referred_table"] != "import_batches" for fk in inspector.get_foreign_keys("orders")
        )
        assert any(
            fk["referred_table"] == "customers" for fk in inspector.get_foreign_keys("orders")
        )
        assert "ix_orders_batch_id" not in {ix["name"] for ix in inspector.get_indexes("orders")}
        assert any(
            fk["referred_table"] == "import_batches"
            for fk in inspector.get_foreign_keys("customers")
        )
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    tables.orders.c.id, tables.orders.c.order_id, tables.orders.c.batch_id
                ).order_by(tables.orders.c.id)
            ).all()
        assert [(r.order_id, r.batch_id) for r in rows] == [("O1", batch), ("O2", batch)]
        assert rows[0].id < rows[1].id
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(tables.products.insert().values(product_id="P1", row_hash="0" * 32))
    before = sorted(sa.inspect(engine).get_table_names())
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert sorted(sa.inspect(engine).get_table_names()) == before
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(tables.products)) == 1


def test_downgrade_to_base_removes_every_table(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "base")
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_migrations_are_frozen() -> None:
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not any(name and name.startswith("tierwise") for name in imported), path.name


def test_every_constraint_and_index_has_a_conventional_name() -> None:
    for table in tables.metadata.sorted_tables:
        names = [c.name for c in table.constraints] + [i.name for i in table.indexes]
        assert all(isinstance(name, str) and len(name) <= 63 for name in names), table.name


def test_concurrent_upgrades_of_a_fresh_database_both_succeed(fresh_db_url: str) -> None:
    # two processes starting at once (e.g. web server and worker) must not race the migration
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(fresh_db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "upgrade hangs"
    assert errors == []
    engine = create_engine(fresh_db_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_revision_template_renders_a_valid_migration(tmp_path: Path) -> None:
    shutil.copytree(
        MIGRATIONS_DIR, tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "migrations"))
    config.set_main_option("path_separator", "os")
    script = command.revision(config, message="add things", rev_id="9999")
    assert isinstance(script, Script)
    source = Path(script.path).read_text(encoding="utf-8")
    compile(source, script.path, "exec")
    assert f"down_revision: str | Sequence[str] | None = '{head_revision()}'" in source
