"""The analytics engines: one Ibis code path on DuckDB (default), PostgreSQL or Spark."""

from tierwise.engine._connect import (
    ENGINES,
    Analytics,
    EngineName,
    analytic_copy,
    arrow_schema,
    connect,
    from_arrow,
    postgres_backend,
    spark_from_parquet,
    spark_session,
)
from tierwise.engine._copy import AnalyticCopy, SyncReport

__all__ = [
    "ENGINES",
    "AnalyticCopy",
    "Analytics",
    "EngineName",
    "SyncReport",
    "analytic_copy",
    "arrow_schema",
    "connect",
    "from_arrow",
    "postgres_backend",
    "spark_from_parquet",
    "spark_session",
]
