"""The same features and labels on DuckDB, PostgreSQL and Spark (local mode), customer by customer."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from tierwise.classify import run
from tierwise.engine import from_arrow
from tierwise.scheme import default_scheme
from toydata import toy_tables

AS_OF = date(2024, 6, 30)


def test_every_engine_gives_duckdbs_features_and_labels(
    make_analytics: Any, engine_name: str
) -> None:
    reference = run(from_arrow(toy_tables()), default_scheme(), as_of=AS_OF)
    mine = run(make_analytics(toy_tables()), default_scheme(), as_of=AS_OF)
    assert mine.result_hash() == reference.result_hash(), engine_name
    assert mine.labels.equals(reference.labels)
    common = [c for c in reference.features.columns if c in mine.features.columns]
    assert set(common) == set(reference.features.columns)
    mine_f = mine.features.select(common).with_columns(pl.col(pl.Datetime).dt.cast_time_unit("us"))
    ref_f = reference.features.select(common).with_columns(
        pl.col(pl.Datetime).dt.cast_time_unit("us")
    )
    for col in common:
        assert (
            mine_f.get_column(col).cast(pl.String).to_list()
            == ref_f.get_column(col).cast(pl.String).to_list()
        ), (engine_name, col)
