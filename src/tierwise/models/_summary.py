"""Transactions → the RFM summary every model and classifier reads, and its compression.

The summary is in the "buy till you die" convention (Fader, Hardie & Lee 2005): purchase
*occasions* are calendar days (several transactions on one day are one occasion);
``frequency`` counts repeat occasions, ``recency`` runs from the first to the last occasion,
``T`` from the first occasion to ``observation_end``, and ``monetary_value`` is the mean value of
the repeat occasions (0 without repeats), the Gamma-Gamma input.

It is computed by the engine (one Ibis expression: DuckDB, PostgreSQL or Spark), never by pulling
transactions into Python: only one row per customer comes back, as a Polars frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final, Literal

import ibis
import ibis.expr.types as ir
import polars as pl

from tierwise.errors import DataError
from tierwise.models._base import WEIGHT

TimeUnit = Literal["D", "W"]
DAYS_PER_UNIT: Final[dict[str, float]] = {"D": 1.0, "W": 7.0}


def _as_date(name: str, value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise DataError(
            f"{name} must be a date such as 1997-09-30 (got {value!r}).",
            key="models.bad_date",
            name=name,
            value=str(value),
        ) from exc


def _as_table(transactions: Any) -> ir.Table:
    if isinstance(transactions, ir.Table):
        return transactions
    if isinstance(transactions, pl.LazyFrame):
        transactions = transactions.collect()
    try:
        # Polars, pyarrow (and pandas) frames: read in place by the default DuckDB backend
        return ibis.memtable(transactions)
    except Exception as exc:  # ibis raises various types for unsupported inputs
        raise DataError(
            f"Cannot read transactions from a {type(transactions).__name__}: pass an Ibis "
            "table, a Polars or pyarrow table.",
            key="models.bad_input",
            type=type(transactions).__name__,
        ) from exc


def _epoch_days(value: ir.Value) -> ir.IntegerValue:
    return value.cast("date").epoch_days().cast("int64")


def rfm_summary(
    transactions: Any,
    *,
    customer_id: str = "customer_id",
    datetime: str = "datetime",
    monetary_value: str | None = None,
    observation_end: date | datetime | str,
    time_unit: TimeUnit = "D",
    calibration_end: date | datetime | str | None = None,
) -> pl.DataFrame:
    """One row per customer: ``customer_id, frequency, recency, T[, monetary_value]``.

    ``transactions`` is an Ibis table (computed by its engine) or a Polars / pyarrow table
    (computed by DuckDB in place). Transactions after ``observation_end`` (a day, inclusive) are
    ignored; time is in days (``time_unit="D"``) or weeks (``"W"``), as floats. Times are
    differences of calendar days: ``T`` is ``observation_end − first purchase day`` (a customer
    who first bought on ``observation_end`` has T = 0). This is the convention of the published
    CDNOW estimates: with ``observation_end="1997-09-30"`` a 1 January buyer has T = 272/7 =
    38.86 weeks, as in Hardie's CDNOW summary, and the fits reproduce Fader, Hardie & Lee (2005)
    to the printed digits; counting the last day in full (T = 39 weeks, "end of week 39") does
    not (BG/NBD LL −9589.9 instead of −9582.4).

    With ``calibration_end``, the summary is as of ``calibration_end`` (customers whose first
    purchase is later are left out) and has ``frequency_holdout`` (purchase occasions after
    ``calibration_end`` up to ``observation_end``), ``duration_holdout`` (that period's length)
    and, with ``monetary_value``, ``monetary_value_holdout`` (mean value of those occasions).

    >>> import polars as pl
    >>> from datetime import date
    >>> tx = pl.DataFrame({"customer_id": [1, 1, 1, 2],
    ...     "datetime": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 5)]})
    >>> rfm_summary(tx, observation_end="2024-01-15").rows()
    [(1, 1, 7.0, 14.0), (2, 0, 0.0, 10.0)]
    """
    if time_unit not in DAYS_PER_UNIT:
        raise DataError(
            f'time_unit must be "D" (days) or "W" (weeks), got {time_unit!r}.',
            key="models.bad_time_unit",
            value=str(time_unit),
        )
    end = _as_date("observation_end", observation_end)
    cut = end if calibration_end is None else _as_date("calibration_end", calibration_end)
    if cut > end:
        raise DataError(
            f"calibration_end ({cut}) is after observation_end ({end}): put it before.",
            key="models.bad_calibration_end",
            cut=str(cut),
            end=str(end),
        )
    t = _as_table(transactions)
    wanted = [customer_id, datetime] + ([monetary_value] if monetary_value else [])
    missing = [c for c in wanted if c not in t.columns]
    if missing:
        raise DataError(
            f"Transactions have no column {', '.join(map(repr, missing))} (have: "
            f"{', '.join(t.columns)}). Name the columns with customer_id=, datetime=, "
            "monetary_value=.",
            key="models.missing_columns",
            missing=", ".join(missing),
        )
    unit = DAYS_PER_UNIT[time_unit]
    value = (
        t[monetary_value].cast("float64").fill_null(0.0) if monetary_value else ibis.literal(0.0)
    )
    lines = t.select(cid=t[customer_id], day=_epoch_days(t[datetime]), value=value)
    end_day = (end - date(1970, 1, 1)).days
    cut_day = (cut - date(1970, 1, 1)).days
    lines = lines.filter(lines.day.notnull() & lines.cid.notnull() & (lines.day <= end_day))
    # one occasion per customer and day (FHL 2005: same-day purchases are one occasion)
    days = lines.group_by(["cid", "day"]).aggregate(value=lines.value.sum())
    cal = days.filter(days.day <= cut_day)
    cal = cal.mutate(first=cal.day.min().over(group_by=cal.cid))
    repeat = cal.day > cal.first
    per = cal.group_by("cid").aggregate(
        occasions=cal.count(),
        first=cal.first.min(),
        last=cal.day.max(),
        repeat_value=cal.value.sum(where=repeat),
    )
    frequency = (per.occasions - 1).cast("int64")
    cols: dict[str, Any] = {
        customer_id: per.cid,
        "frequency": frequency,
        # cast after dividing too: PostgreSQL would return NUMERIC for float / literal
        "recency": ((per["last"] - per["first"]).cast("float64") / unit).cast("float64"),
        "T": ((cut_day - per["first"]).cast("float64") / unit).cast("float64"),
    }
    if monetary_value:
        cols["monetary_value"] = ibis.ifelse(
            frequency > 0, per.repeat_value.fill_null(0.0) / frequency.cast("float64"), 0.0
        ).cast("float64")
    out = per.select(**cols)
    if calibration_end is not None:
        hold = days.filter(days.day > cut_day)
        hold = hold.group_by("cid").aggregate(n=hold.count(), v=hold.value.sum())
        out = out.left_join(hold, out[customer_id] == hold.cid)
        n = out.n.fill_null(0).cast("int64")
        extra: dict[str, Any] = {"frequency_holdout": n}
        if monetary_value:
            extra["monetary_value_holdout"] = ibis.ifelse(
                n > 0, out.v.fill_null(0.0) / n.cast("float64"), 0.0
            ).cast("float64")
        out = out.select(*[out[c] for c in cols], **extra)
    result: pl.DataFrame = out.order_by(customer_id).to_polars()
    if calibration_end is not None:
        # a constant: added here (PostgreSQL returns a float literal as NUMERIC)
        duration = pl.lit((end_day - cut_day) / unit, dtype=pl.Float64).alias("duration_holdout")
        names = [*cols, "frequency_holdout", "duration_holdout"]
        result = result.with_columns(duration).select(
            names + (["monetary_value_holdout"] if monetary_value else [])
        )
    return result


def _as_polars(summary: Any) -> pl.LazyFrame:
    if isinstance(summary, pl.LazyFrame):
        return summary
    if isinstance(summary, pl.DataFrame):
        return summary.lazy()
    if type(summary).__module__.split(".")[0] == "pandas":
        lazy: pl.LazyFrame = pl.from_pandas(summary).lazy()
        return lazy
    try:
        frame = pl.from_arrow(summary) if hasattr(summary, "schema") else pl.DataFrame(summary)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"Cannot read a summary from a {type(summary).__name__}: pass a Polars, pandas or "
            "pyarrow frame or a dict of arrays.",
            key="models.bad_input",
            type=type(summary).__name__,
        ) from exc
    assert isinstance(frame, pl.DataFrame)
    return frame.lazy()


def compress(summary: Any, columns: Sequence[str] = ("frequency", "recency", "T")) -> pl.DataFrame:
    """Distinct rows of ``columns`` with their count in ``n_customers``: the sufficient
    statistics the models fit on (and score through), much smaller than the customers.

    An existing ``n_customers`` column is summed (compressing twice changes nothing).

    >>> import polars as pl
    >>> s = pl.DataFrame({"frequency": [0, 0, 2], "recency": [0.0, 0.0, 3.0], "T": [5.0] * 3})
    >>> compress(s).rows()
    [(0, 0.0, 5.0, 2), (2, 3.0, 5.0, 1)]
    """
    lf = _as_polars(summary)
    names = lf.collect_schema().names()
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(
            f"compress needs the columns {', '.join(columns)}; missing {', '.join(missing)} "
            f"(have: {', '.join(names)}).",
            key="models.missing_columns",
            missing=", ".join(missing),
        )
    weight = pl.col(WEIGHT).sum() if WEIGHT in names else pl.len()
    return (
        lf.group_by(list(columns))
        .agg(weight.cast(pl.Int64).alias(WEIGHT))
        .sort(list(columns))
        .collect()
    )
