"""``connect()``: an Ibis backend holding the analytic schema, on DuckDB, PostgreSQL or Spark."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ibis
import pyarrow as pa

from tierwise.engine._copy import AnalyticCopy, SyncReport
from tierwise.engine._rollup import _IBIS, DERIVED
from tierwise.engine._schema import ANALYTIC, OPTIONAL, columns
from tierwise.errors import ConfigError
from tierwise.features._orders import order_days

if TYPE_CHECKING:
    import sqlalchemy as sa
    from ibis.backends import BaseBackend

    from tierwise.settings import Settings

EngineName = Literal["duckdb", "postgres", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "postgres", "spark")


@dataclass
class Analytics:
    """An engine and the analytic tables on it (see ``tierwise.engine._schema``)."""

    engine: EngineName
    backend: BaseBackend
    tables: dict[str, ibis.Table]
    sync: SyncReport | None = None

    def __post_init__(self) -> None:
        # order features start from the lines rolled up per (customer, day): DuckDB's copy
        # stores them, every other source of orders has the engine compute them
        if "orders" in self.tables and "order_days" not in self.tables:
            self.tables["order_days"] = order_days(self.tables["orders"])

    def table(self, name: str) -> ibis.Table:
        return self.tables[name]

    def close(self) -> None:
        """Release the engine's connection (DuckDB's file lock; a PostgreSQL connection).

        A Spark session is shared by the process and stays up.
        """
        if self.engine != "spark":
            self.backend.disconnect()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check(engine: str) -> EngineName:
    if engine not in ENGINES:
        raise ConfigError(f"Unknown engine {engine!r}: use one of {', '.join(ENGINES)}.")
    return engine


def analytic_copy(settings: Settings, store: sa.Engine) -> AnalyticCopy:
    return AnalyticCopy(settings.data_dir / "analytics.duckdb", store)


def connect(
    settings: Settings, store: sa.Engine, *, engine: str | None = None, rebuild: bool = False
) -> Analytics:
    """The store's data on the chosen engine (``TIERWISE_ENGINE`` by default).

    DuckDB reads its columnar copy, brought up to date first; PostgreSQL computes on the store
    itself; Spark reads Parquet exported from the copy (or ``TIERWISE_SPARK_TABLES``).
    """
    name = _check(engine or settings.engine)
    if name == "postgres":
        if store.dialect.name != "postgresql":
            raise ConfigError(
                "The postgres engine needs a PostgreSQL store "
                "(TIERWISE_DATABASE_URL=postgresql+psycopg://...)."
            )
        backend = postgres_backend(store.url)
        tables = {}
        for table in ANALYTIC:
            raw = backend.table(table)
            if table == "customers":
                raw = raw.mutate(customer_pk=raw.id)
            tables[table] = raw.select(*columns(table))
        return Analytics(name, backend, tables)
    copy = analytic_copy(settings, store)
    report = copy.sync(rebuild=rebuild)
    if name == "duckdb":
        backend = duckdb_backend(copy.path)
        tables = {t: backend.table(t) for t in (*ANALYTIC, *DERIVED)}
        return Analytics(name, backend, tables, report)
    spark_dir = os.environ.get("TIERWISE_SPARK_TABLES")
    if spark_dir:
        return spark_from_parquet(Path(spark_dir))
    export = settings.data_dir / "spark"
    export.mkdir(parents=True, exist_ok=True)
    with copy.connect() as db:
        for table in ANALYTIC:
            db.execute(f"COPY \"{table}\" TO '{export / table}.parquet' (FORMAT parquet)")
    result = spark_from_parquet(export)
    result.sync = report
    return result


def duckdb_backend(path: Path | None) -> BaseBackend:
    """An Ibis DuckDB backend on the copy at ``path`` (in memory for ``None``), tuned for the
    feature queries.

    No query of ours relies on the order DuckDB returns rows in without an ``ORDER BY`` (results
    are sorted after they leave the engine), so DuckDB need not preserve insertion order, which
    lets its aggregations and materialisations run with less memory and in parallel.
    """
    backend = ibis.duckdb.connect(":memory:" if path is None else str(path))
    backend.raw_sql("SET preserve_insertion_order = false")
    return backend


def postgres_backend(url: sa.URL) -> BaseBackend:
    """An Ibis PostgreSQL backend on the database (and search_path schema) of a store URL."""
    schema = None
    options = url.query.get("options")
    text = options if isinstance(options, str) else (options[0] if options else "")
    if "search_path=" in text:
        schema = text.split("search_path=", 1)[1].split()[0].split(",")[0]
    return ibis.postgres.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        schema=schema,
    )


def spark_session() -> Any:
    """A local Spark session (loopback only), created once per process."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(os.environ.get("TIERWISE_SPARK_MASTER", "local[2]"))
        .appName("tierwise")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("TIERWISE_SPARK_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )


def spark_from_parquet(folder: Path) -> Analytics:
    """Analytic tables from ``folder/<table>.parquet`` (a file or a directory of parts)."""
    backend = ibis.pyspark.connect(spark_session())
    tables = {}
    for table in ANALYTIC:
        path = folder / f"{table}.parquet"
        if not path.exists():
            raise ConfigError(
                f"Spark tables: {path} is missing (one Parquet per table: {', '.join(ANALYTIC)})."
            )
        raw = backend.read_parquet(str(path), table_name=f"tw_{table}")
        absent = {
            c: t for c, t in ANALYTIC[table] if c not in raw.columns and (table, c) in OPTIONAL
        }
        if absent:  # written before the column existed
            raw = raw.mutate(**{c: ibis.null().cast(_IBIS[t]) for c, t in absent.items()})
        tables[table] = raw.select(*columns(table))
    return Analytics("spark", backend, tables)


def from_arrow(data: dict[str, pa.Table], *, engine: str = "duckdb") -> Analytics:
    """Analytic tables from in-memory Arrow tables (the file mode, and tests)."""
    name = _check(engine)
    if name == "duckdb":
        backend = duckdb_backend(None)
        tables = {t: backend.create_table(t, _typed(t, data[t])) for t in ANALYTIC}
        # rolled up once, as the copy holds it, rather than in every query
        tables["order_days"] = backend.create_table("order_days", order_days(tables["orders"]))
        return Analytics(name, backend, tables)
    if name == "spark":
        folder = Path(tempfile.mkdtemp(prefix="tierwise-spark-"))
        import pyarrow.parquet as pq

        for t in ANALYTIC:
            pq.write_table(_typed(t, data[t]), folder / f"{t}.parquet")
        return spark_from_parquet(folder)
    raise ConfigError(
        "The postgres engine computes on a PostgreSQL store; load files with "
        "`tierwise import` first, or use duckdb or spark for files."
    )


_ARROW = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "BOOLEAN": pa.bool_(),
}


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([(c, _ARROW[t]) for c, t in ANALYTIC[table]])


def _typed(table: str, data: pa.Table | None) -> pa.Table:
    schema = arrow_schema(table)
    if data is None:
        return schema.empty_table()
    cols = []
    for f in schema:
        if f.name in data.column_names:
            cols.append(data.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(data.num_rows, f.type))
    return pa.table(cols, schema=schema)


__all__ = [
    "ENGINES",
    "Analytics",
    "EngineName",
    "analytic_copy",
    "arrow_schema",
    "connect",
    "duckdb_backend",
    "from_arrow",
    "postgres_backend",
    "spark_from_parquet",
    "spark_session",
]
