"""Shared data of the model tests: the CDNOW 1/10 sample (tests/models/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tierwise.models import compress, rfm_summary

CDNOW = Path(__file__).resolve().parent / "data" / "CDNOW_sample.txt"


def load_cdnow_transactions() -> pl.DataFrame:
    """``customer_id  sample_id  date(YYYYMMDD)  cds  dollar_value``, whitespace-separated."""
    rows = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    return pl.DataFrame(
        {
            "customer_id": [int(r[0]) for r in rows],
            "date": [r[2] for r in rows],
            "cds": [int(r[3]) for r in rows],
            "dollars": [float(r[4]) for r in rows],
        }
    ).with_columns(pl.col("date").str.to_date("%Y%m%d"))


@pytest.fixture(scope="session")
def cdnow_transactions() -> pl.DataFrame:
    return load_cdnow_transactions()


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions: pl.DataFrame) -> pl.DataFrame:
    """Calibration period 1997-01-01..1997-09-30 in weeks (FHL 2005)."""
    return rfm_summary(
        cdnow_transactions,
        datetime="date",
        monetary_value="dollars",
        observation_end="1997-09-30",
        time_unit="W",
    )


@pytest.fixture(scope="session")
def cdnow_compressed(cdnow_summary: pl.DataFrame) -> pl.DataFrame:
    return compress(cdnow_summary)
