"""Shared plumbing of the demo generator: context, random streams, ids, times, string picks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from tierwise.demo._calendar import Calendar
from tierwise.demo._catalog import Catalog

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

# one independent random stream per table and chunk, so that changing one table's recipe does
# not shift the others
STREAM_LATENT = 1
STREAM_ORDERS = 2
STREAM_CUSTOMERS = 3
STREAM_INTERACTIONS = 4
STREAM_FEEDBACK = 5
STREAM_LEADS = 6
STREAM_CATALOG = 7

USD_CNY = 7.1  # fixed rate used for the foreign customers' USD orders


@dataclass(frozen=True)
class Ctx:
    seed: int
    total: int  # customers in the whole data set
    start: date
    end: date
    cal: Calendar
    catalog: Catalog
    customer_id_width: int
    email_mod: int  # numbers in e-mail addresses are unique below this

    @property
    def days(self) -> int:
        return self.cal.days


def rng_for(seed: int, chunk: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(
        np.random.SeedSequence(entropy=seed & 0xFFFF_FFFF_FFFF_FFFF, spawn_key=(chunk, stream))
    )


def draw(rng: np.random.Generator, weights: Sequence[float] | F64, size: int) -> I64:
    """Indices drawn with the given relative weights."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    idx = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(idx, len(w) - 1).astype(np.int64)


def pick(vocab: Sequence[str], idx: I64) -> pl.Series:
    return pl.Series(values=list(vocab), dtype=pl.String).gather(idx)


def null_where(s: pl.Series, mask: B) -> pl.Series:
    """``s`` with nulls where ``mask`` is true."""
    return (
        pl.select(pl.when(pl.Series(mask)).then(pl.lit(None, dtype=s.dtype)).otherwise(s))
        .to_series()
        .alias(s.name)
    )


def lists_from_mask(names: Sequence[str], chosen: B, name: str) -> pl.Series:
    """A list column: row i holds ``names[j]`` for every true ``chosen[i, j]``, in order."""
    rows, cols = np.nonzero(chosen)  # row-major, so grouped by row and ordered by column
    counts = np.bincount(rows, minlength=chosen.shape[0])
    offsets = pa.array(segment_offsets(counts).astype(np.int32))
    values = pa.array(list(names), pa.string()).take(pa.array(cols))
    return pl.Series(name, pa.ListArray.from_arrays(offsets, values))


def zfill_ids(prefix: str, numbers: I64, width: int) -> pl.Series:
    digits = pl.Series(values=numbers).cast(pl.String).str.zfill(width)
    return (prefix + digits).alias("id")


def to_datetime(ctx: Ctx, t: F64) -> npt.NDArray[np.datetime64]:
    """Days since start (float) → datetime64[ms], to the second."""
    base = np.datetime64(ctx.start, "s")
    secs = np.round(t * 86400.0).astype(np.int64)
    return (base + secs.astype("timedelta64[s]")).astype("datetime64[ms]")


def segment_offsets(counts: I64) -> I64:
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


def rank_in_segment(counts: I64) -> I64:
    """0, 1, … inside each run of a repeated index (counts per run)."""
    total = int(counts.sum())
    starts = np.repeat(segment_offsets(counts)[:-1], counts)
    return np.arange(total, dtype=np.int64) - starts
