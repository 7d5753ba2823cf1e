"""rfm_summary runs unchanged on DuckDB, PostgreSQL and PySpark and gives the same summary
(ARCHITECTURE.md: one Ibis code path; a shared suite compares the engines)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from tierwise.models import rfm_summary

ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow]),  # a JVM start: ~25 s
]


def _table(engine: str, tx: pl.DataFrame, request: pytest.FixtureRequest, tmp: Path) -> object:
    arrow = tx.to_arrow()
    if engine == "duckdb":
        import ibis

        return ibis.duckdb.connect().create_table("cdnow_tx", arrow)
    if engine == "postgres":
        from tierwise.engine import postgres_backend

        backend = postgres_backend(sa.make_url(request.getfixturevalue("pg_url")))
        return backend.create_table("cdnow_tx", arrow, overwrite=True)
    import ibis
    import pyarrow.parquet as pq

    from tierwise.engine import spark_session

    pq.write_table(arrow, tmp / "tx.parquet")
    backend = ibis.pyspark.connect(spark_session())
    return backend.read_parquet(str(tmp / "tx.parquet"), table_name="tw_cdnow_tx")


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_summary_is_the_same_on_every_engine(
    engine: str,
    cdnow_transactions: pl.DataFrame,
    cdnow_summary: pl.DataFrame,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    table = _table(engine, cdnow_transactions, request, tmp_path)
    kw = {"datetime": "date", "monetary_value": "dollars", "time_unit": "W"}
    got = rfm_summary(table, observation_end="1997-09-30", **kw)  # type: ignore[arg-type]
    assert got.height == cdnow_summary.height == 2357
    assert (
        got.get_column("customer_id").to_list() == cdnow_summary.get_column("customer_id").to_list()
    )
    assert got.get_column("frequency").to_list() == cdnow_summary.get_column("frequency").to_list()
    for col in ("recency", "T", "monetary_value"):
        a, b = got.get_column(col).to_numpy(), cdnow_summary.get_column(col).to_numpy()
        assert abs(a - b).max() < 1e-9, col
    # the calibration cut with a holdout period, on the same engine
    cut = rfm_summary(table, observation_end="1998-06-30", calibration_end="1997-09-30", **kw)  # type: ignore[arg-type]
    assert cut.get_column("frequency").to_list() == cdnow_summary.get_column("frequency").to_list()
    assert cut.get_column("duration_holdout").unique().to_list() == [273 / 7]
    assert int(cut.get_column("frequency_holdout").sum()) > 0
    if engine != "spark":  # the Spark session is shared by the whole run
        table._find_backend().disconnect()  # type: ignore[attr-defined]
