"""rfm_summary and compress on tiny hand-computed transaction sets."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import polars as pl
import pytest

from tierwise.errors import DataError
from tierwise.models import compress, rfm_summary

# customer 1: 2024-01-01 (two lines, 10 + 5), 2024-01-08 (20), 2024-01-15 (two lines, 30 + 10)
# customer 2: 2024-01-05 (7) only
# customer 3: 2024-01-10 (4), 2024-01-12 (6), and 2024-02-01 (100) after the end
TX = pl.DataFrame(
    {
        "cid": [1, 1, 1, 1, 1, 2, 3, 3, 3],
        "at": [
            datetime(2024, 1, 1, 9),
            datetime(2024, 1, 1, 18),
            datetime(2024, 1, 8, 12),
            datetime(2024, 1, 15, 8),
            datetime(2024, 1, 15, 23, 59),
            datetime(2024, 1, 5),
            datetime(2024, 1, 10),
            datetime(2024, 1, 12),
            datetime(2024, 2, 1),
        ],
        "amount": [10.0, 5.0, 20.0, 30.0, 10.0, 7.0, 4.0, 6.0, 100.0],
    }
)
KW = {"customer_id": "cid", "datetime": "at", "monetary_value": "amount"}


def test_days_by_hand() -> None:
    s = rfm_summary(TX, observation_end=date(2024, 1, 21), **KW)
    assert s.columns == ["cid", "frequency", "recency", "T", "monetary_value"]
    assert s.rows() == [
        # two repeat days (08, 15); first → last 14 days; first → 21 Jan 20 days;
        # mean of the repeat days' values (20 and 40)
        (1, 2, 14.0, 20.0, 30.0),
        (2, 0, 0.0, 16.0, 0.0),
        (3, 1, 2.0, 11.0, 6.0),  # the 1 February purchase is after the end
    ]
    assert s.schema["frequency"] == pl.Int64 and s.schema["T"] == pl.Float64


def test_weeks_by_hand() -> None:
    s = rfm_summary(TX, observation_end="2024-01-21", time_unit="W", **KW)
    assert s.get_column("recency").to_list() == pytest.approx([2.0, 0.0, 2 / 7])
    assert s.get_column("T").to_list() == pytest.approx([20 / 7, 16 / 7, 11 / 7])
    assert s.get_column("frequency").to_list() == [2, 0, 1]


def test_without_monetary_value() -> None:
    s = rfm_summary(TX, customer_id="cid", datetime="at", observation_end="2024-01-21")
    assert s.columns == ["cid", "frequency", "recency", "T"]


def test_calibration_cut_by_hand() -> None:
    s = rfm_summary(TX, observation_end="2024-02-10", calibration_end="2024-01-09", **KW)
    # customer 3 first bought after the cut: not in the calibration cohort
    assert s.rows() == [
        # calibration: 01 and 08 → 1 repeat, recency 7, T 8; holdout: the 15th (40)
        (1, 1, 7.0, 8.0, 20.0, 1, 32.0, 40.0),
        (2, 0, 0.0, 4.0, 0.0, 0, 32.0, 0.0),
    ]
    assert s.columns[-3:] == ["frequency_holdout", "duration_holdout", "monetary_value_holdout"]


def test_ibis_arrow_and_polars_inputs_agree() -> None:
    want = rfm_summary(TX, observation_end="2024-01-21", **KW)
    con = ibis.duckdb.connect()
    table = con.create_table("tx", TX.to_arrow())
    assert rfm_summary(table, observation_end="2024-01-21", **KW).equals(want)
    assert rfm_summary(TX.to_arrow(), observation_end="2024-01-21", **KW).equals(want)
    assert rfm_summary(TX.lazy(), observation_end="2024-01-21", **KW).equals(want)
    dates = TX.with_columns(pl.col("at").dt.date())  # a date column works like a timestamp
    assert rfm_summary(dates, observation_end="2024-01-21", **KW).equals(want)


def test_bad_arguments_say_what_to_do() -> None:
    with pytest.raises(DataError, match=r"no column 'customer_id'.*customer_id="):
        rfm_summary(TX, datetime="at", observation_end="2024-01-21")
    with pytest.raises(DataError, match='time_unit must be "D"'):
        rfm_summary(TX, observation_end="2024-01-21", time_unit="M", **KW)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="after observation_end"):
        rfm_summary(TX, observation_end="2024-01-21", calibration_end="2024-02-01", **KW)
    with pytest.raises(DataError, match="must be a date"):
        rfm_summary(TX, observation_end="21/01/2024", **KW)


def test_compress_counts_and_sums_weights() -> None:
    s = pl.DataFrame(
        {"frequency": [0, 0, 2, 2, 1], "recency": [0.0, 0.0, 3.0, 3.0, 1.0], "T": [5.0] * 5}
    )
    c = compress(s)
    assert c.rows() == [(0, 0.0, 5.0, 2), (1, 1.0, 5.0, 1), (2, 3.0, 5.0, 2)]
    assert compress(c).equals(c)  # compressing twice changes nothing
    assert compress(s.to_pandas()).equals(c) and compress(s.to_arrow()).equals(c)
    with pytest.raises(DataError, match="missing monetary_value"):
        compress(s, ("frequency", "monetary_value"))
