"""Classification straight from files or DataFrames, with no store.

Files go through the same readers, column recognition, parsing and cleaning as
``tierwise import`` (a raw shop export works as is); rows the importer would reject are left
out and counted. Customer ids are the only identity here: duplicates by phone or email are not
merged (that needs the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from tierwise.classify._run import RunResult, run
from tierwise.engine import from_arrow
from tierwise.engine._schema import ANALYTIC
from tierwise.errors import DataError
from tierwise.ingest._columns import map_columns
from tierwise.ingest._readers import open_source
from tierwise.ingest._validate import canonicalise
from tierwise.scheme._io import default_scheme, load_scheme
from tierwise.scheme._model import Scheme

FACTS = ("orders", "interactions", "feedback", "referrals", "leads")
Source = str | Path | Any  # a path, or a pandas / Polars DataFrame or an Arrow table


@dataclass
class Loaded:
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    #: kind -> rows read, rows used, rows left out (what the importer would reject)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def _as_polars(value: Any) -> pl.DataFrame:
    if isinstance(value, pl.DataFrame):
        return value
    if isinstance(value, pa.Table):
        return pl.from_arrow(value)  # type: ignore[return-value]
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return pl.from_pandas(value)
    raise DataError(
        f"Expected a path, a pandas or Polars DataFrame or an Arrow table, "
        f"got {type(value).__name__}."
    )


def _canonical_frame(
    df: pl.DataFrame, kind: str, date_format: str | None
) -> tuple[pl.DataFrame, int]:
    text = df.with_columns([pl.col(c).cast(pl.String) for c in df.columns])
    cmap = map_columns(list(text.columns), kind, None)  # type: ignore[arg-type]
    checked = canonicalise(text, cmap, date_format=date_format)
    bad = checked.problems.filter(pl.col("severity") == "error").get_column("row").unique()
    rows = checked.rows.filter(~pl.col("_row").is_in(bad.implode()))
    return rows.drop([c for c in rows.columns if c.startswith("_")]), df.height


def read_source(
    source: Source, kind: str, *, date_format: str | None = None
) -> tuple[pl.DataFrame, int]:
    """Canonical rows of one file or frame, and how many rows it had."""
    if not isinstance(source, str | Path):
        return _canonical_frame(_as_polars(source), kind, date_format)
    path = Path(source)
    if not path.exists():
        raise DataError(f"File not found: {path}", key="err.file_not_found", path=str(path))
    parts: list[pl.DataFrame] = []
    total = 0
    with open_source(path) as src:
        if not src.info.header:
            return pl.DataFrame(), 0
        cmap = map_columns(src.info.header, kind, None)  # type: ignore[arg-type]
        for raw in src.batches(200_000):
            checked = canonicalise(raw.frame, cmap, date_format=date_format)
            bad = checked.problems.filter(pl.col("severity") == "error").get_column("row").unique()
            rows = checked.rows.filter(~pl.col("_row").is_in(bad.implode()))
            parts.append(rows.drop([c for c in rows.columns if c.startswith("_")]))
            total += raw.records_read
    return (pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()), total


def load(sources: Mapping[str, Source | None], *, date_format: str | None = None) -> Loaded:
    loaded = Loaded()
    for kind, source in sources.items():
        if source is None:
            continue
        frame, total = read_source(source, kind, date_format=date_format)
        loaded.frames[kind] = frame
        loaded.counts[kind] = {
            "rows": total,
            "used": frame.height,
            "left_out": total - frame.height,
        }
    if "orders" not in loaded.frames and "customers" not in loaded.frames:
        raise DataError("Give at least orders or customers to classify.")
    return loaded


def _arrow_tables(loaded: Loaded) -> dict[str, pa.Table]:
    frames = loaded.frames
    ids = [frames["customers"].get_column("customer_id")] if "customers" in frames else []
    for kind in ("orders", "interactions", "feedback", "leads"):
        if kind in frames and "customer_id" in frames[kind].columns:
            ids.append(frames[kind].get_column("customer_id"))
    if "referrals" in frames:
        ids += [
            frames["referrals"].get_column("referrer_id"),
            frames["referrals"].get_column("referred_id"),
        ]
    known = pl.concat([s.cast(pl.String).alias("customer_id") for s in ids]).drop_nulls().unique()
    keys = pl.DataFrame({"customer_id": known.sort()}).with_row_index("customer_pk", offset=1)
    keys = keys.with_columns(pl.col("customer_pk").cast(pl.Int64))
    customers = frames.get(
        "customers", pl.DataFrame({"customer_id": []}, schema={"customer_id": pl.String})
    ).unique("customer_id", keep="last")
    out: dict[str, pa.Table] = {}
    cust = keys.join(customers, on="customer_id", how="left").with_columns(
        pl.col("customer_pk").alias("id")
    )
    out["customers"] = _select(cust, "customers")
    for kind in FACTS:
        frame = frames.get(kind)
        if frame is None or frame.height == 0:
            out[kind] = _select(pl.DataFrame(), kind)
            continue
        if kind == "referrals":
            frame = frame.join(
                keys.rename({"customer_id": "referrer_id", "customer_pk": "referrer_pk"}),
                on="referrer_id",
                how="left",
            )
            frame = frame.join(
                keys.rename({"customer_id": "referred_id", "customer_pk": "referred_pk"}),
                on="referred_id",
                how="left",
            )
        else:
            frame = frame.join(keys, on="customer_id", how="left")
        if kind == "feedback" and "sentiment" not in frame.columns:
            frame = frame.with_columns(_sentiment(frame))
        out[kind] = _select(frame.with_row_index("id", offset=1), kind)
    return out


def _sentiment(frame: pl.DataFrame) -> pl.Expr:
    if "text" not in frame.columns:
        return pl.lit(None, pl.Float64).alias("sentiment")
    from tierwise.features._sentiment import sentiment_expr

    return sentiment_expr(pl.col("text")).alias("sentiment")


def _select(frame: pl.DataFrame, table: str) -> pa.Table:
    cols = []
    for name, _ in ANALYTIC[table]:
        if name in frame.columns:
            cols.append(pl.col(name))
        else:
            cols.append(pl.lit(None).alias(name))
    if frame.width == 0:
        frame = pl.DataFrame({"_": []})
    return frame.select(cols).to_arrow()


def classify_sources(
    sources: Mapping[str, Source | None],
    *,
    scheme: Scheme | str | Path | None = None,
    as_of: date | None = None,
    engine: str = "duckdb",
    date_format: str | None = None,
) -> tuple[RunResult, Loaded]:
    """Classify the customers in files or frames; returns the run and what was read."""
    if scheme is None:
        scheme = default_scheme()
    elif isinstance(scheme, str | Path):
        scheme = load_scheme(
            Path(scheme) if isinstance(scheme, Path) or Path(scheme).exists() else scheme
        )
    loaded = load(sources, date_format=date_format)
    analytics = from_arrow(_arrow_tables(loaded), engine=engine)
    return run(analytics, scheme, as_of=as_of or date.today()), loaded


def classify(
    *,
    orders: Source | None = None,
    customers: Source | None = None,
    interactions: Source | None = None,
    feedback: Source | None = None,
    referrals: Source | None = None,
    leads: Source | None = None,
    scheme: Scheme | str | Path | None = None,
    as_of: date | None = None,
    engine: str = "duckdb",
    date_format: str | None = None,
) -> pl.DataFrame:
    """One row per customer: each dimension's label (and score), from files or DataFrames.

    >>> tierwise.classify(orders="orders.parquet", customers="customers.csv",
    ...                   as_of=date(2024, 6, 30))  # doctest: +SKIP
    """
    result, _ = classify_sources(
        {
            "customers": customers,
            "orders": orders,
            "interactions": interactions,
            "feedback": feedback,
            "referrals": referrals,
            "leads": leads,
        },
        scheme=scheme,
        as_of=as_of,
        engine=engine,
        date_format=date_format,
    )
    return result.wide()


__all__ = ["Loaded", "classify", "classify_sources", "load", "read_source"]
