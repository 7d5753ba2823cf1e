"""Raw text columns → typed canonical rows, plus a problem for every value that did not fit.

Works on a whole batch at once (Polars); no Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tierwise.features._sentiment import sentiment_expr
from tierwise.ingest import _parse
from tierwise.ingest._columns import ColumnMap
from tierwise.ingest._hash import digest
from tierwise.ingest._schema import ENUMS, TABLES, Field, TableSpec

PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "column": pl.String(),
    "code": pl.String(),
    "value": pl.String(),
    "severity": pl.String(),
}

DTYPES: dict[str, pl.DataType] = {
    "key": pl.String(),
    "text": pl.String(),
    "phone": pl.String(),
    "email": pl.String(),
    "enum": pl.String(),
    "list": pl.String(),
    "number": pl.Float64(),
    "int": pl.Int64(),
    "datetime": pl.Datetime("us"),
    "date": pl.Date(),
    "bool": pl.Boolean(),
}

# numbers that make an order what it is: a bad one rejects the row instead of being dropped
_CRITICAL = {"orders": {"amount", "unit_price", "quantity"}, "products": {"price"}}
_CANCEL_MARK = r"(?i)(cancel|取消|作废)"


@dataclass(frozen=True)
class Checked:
    rows: pl.DataFrame  # canonical columns of the accepted rows, plus "_row" (index in batch)
    problems: pl.DataFrame  # PROBLEM_SCHEMA; severity "error" rows are not in ``rows``


def _parse_field(f: Field, raw: pl.Series, date_format: str | None) -> _parse.Parsed:
    t = f.type
    if t in ("key", "text"):
        text = _parse.clean_text(raw)
        return _parse.Parsed(text, pl.Series(raw.name, [None] * raw.len(), dtype=pl.String))
    if t == "list":
        values = _parse.parse_list(raw)
        return _parse.Parsed(values, pl.Series(raw.name, [None] * raw.len(), dtype=pl.String))
    if t == "number":
        return _parse.parse_number(raw)
    if t == "int":
        return _parse.parse_int(raw)
    if t in ("datetime", "date"):
        parsed = _parse.parse_datetime(raw, date_format=date_format)
        if t == "date":
            return _parse.Parsed(parsed.values.dt.date(), parsed.errors)
        return parsed
    if t == "phone":
        return _parse.parse_phone(raw)
    if t == "email":
        return _parse.parse_email(raw)
    if t == "bool":
        return _parse.parse_bool(raw)
    if t == "enum":
        assert f.enum is not None
        return _parse.parse_enum(raw, ENUMS[f.enum])
    raise AssertionError(f"unknown field type {t}")


def _problems(
    rows: pl.Series, column: str, codes: pl.Series | str, values: pl.Series, severity: str
) -> pl.DataFrame:
    n = rows.len()
    return pl.DataFrame(
        {
            "row": rows,
            "column": pl.Series([column] * n, dtype=pl.String),
            "code": codes
            if isinstance(codes, pl.Series)
            else pl.Series([codes] * n, dtype=pl.String),
            "value": values.cast(pl.String),
            "severity": pl.Series([severity] * n, dtype=pl.String),
        },
        schema=PROBLEM_SCHEMA,
    )


def _critical(spec: TableSpec, f: Field) -> bool:
    return f.required or f.type == "key" or f.name in _CRITICAL.get(spec.kind, set())


def canonicalise(frame: pl.DataFrame, cmap: ColumnMap, *, date_format: str | None) -> Checked:
    """Parse every mapped column of one batch into the canonical fields of ``cmap.kind``."""
    spec = TABLES[cmap.kind]
    n = frame.height
    row = pl.Series("_row", range(n), dtype=pl.Int64)
    cols: dict[str, pl.Series] = {}
    problems: list[pl.DataFrame] = []
    for f in spec.fields:
        source = cmap.source(f.name)
        if source is None:
            continue
        raw = frame.get_column(source)
        parsed = _parse_field(f, raw, date_format)
        cols[f.name] = parsed.values.alias(f.name).cast(DTYPES[f.type])
        bad = parsed.errors.is_not_null()
        if bad.any():
            severity = "error" if _critical(spec, f) else "warning"
            problems.append(
                _problems(
                    row.filter(bad), source, parsed.errors.filter(bad), raw.filter(bad), severity
                )
            )
        if f.required:
            missing = parsed.values.is_null() & ~bad
            if missing.any():
                problems.append(
                    _problems(
                        row.filter(missing), source, "missing_value", raw.filter(missing), "error"
                    )
                )
    out = pl.DataFrame(cols).with_columns(row) if cols else pl.DataFrame({"_row": row})
    out, derived = _derive(out, spec, cmap, frame)
    problems.extend(derived)
    problem_df = (pl.concat(problems) if problems else pl.DataFrame(schema=PROBLEM_SCHEMA)).sort(
        "row", maintain_order=True
    )
    rejected = problem_df.filter(pl.col("severity") == "error").get_column("row").unique()
    return Checked(out.filter(~pl.col("_row").is_in(rejected.implode())), problem_df)


def _null(name: str, f: Field, n: int) -> pl.Series:
    return pl.Series(name, [None] * n, dtype=DTYPES[f.type])


def _derive(
    df: pl.DataFrame, spec: TableSpec, cmap: ColumnMap, frame: pl.DataFrame
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Kind-specific rules: amounts, statuses, derived keys, custom attributes."""
    problems: list[pl.DataFrame] = []
    n = df.height
    if spec.kind == "orders":
        for name in (
            "amount",
            "unit_price",
            "quantity",
            "cost",
            "gross_profit",
            "status",
            "product_id",
            "line_id",
        ):
            if name not in df.columns:
                df = df.with_columns(_null(name, spec.field(name), n))
        if "order_id" not in df.columns:
            # exports of transactions without an order number (CDNOW, many POS systems):
            # a customer's lines at the same moment are one order
            df = df.with_columns(
                (pl.col("customer_id") + "@" + pl.col("ordered_at").cast(pl.String)).alias(
                    "order_id"
                )
            )
        df = df.with_columns(
            pl.coalesce(pl.col("amount"), pl.col("unit_price") * pl.col("quantity")).alias("amount")
        )
        no_amount = df.filter(pl.col("amount").is_null())
        if no_amount.height:
            problems.append(
                _problems(
                    no_amount.get_column("_row"),
                    cmap.source("amount") or "amount",
                    "missing_amount",
                    pl.Series([None] * no_amount.height, dtype=pl.String),
                    "error",
                )
            )
        negative = (pl.col("amount") < 0) | (pl.col("quantity") < 0)
        df = df.with_columns(
            pl.when(pl.col("status").is_not_null())
            .then(pl.col("status"))
            .when(pl.col("order_id").str.contains(_CANCEL_MARK))
            .then(pl.lit("cancelled"))
            .when(negative & pl.col("order_id").str.contains(r"^[Cc]\d+$"))
            .then(pl.lit("cancelled"))
            .when(negative)
            .then(pl.lit("refunded"))
            .otherwise(pl.lit("paid"))
            .alias("status"),
            pl.coalesce(pl.col("line_id"), pl.col("product_id"), pl.lit("")).alias("line_id"),
            pl.coalesce(pl.col("gross_profit"), pl.col("amount") - pl.col("cost")).alias(
                "gross_profit"
            ),
        )
    elif spec.kind in ("interactions", "feedback"):
        key = spec.key[0]
        content = (
            ["customer_id", "occurred_at", "kind", "note", "by_user"]
            if spec.kind == ("interactions")
            else ["customer_id", "received_at", "kind", "text", "score", "category"]
        )
        present = [c for c in content if c in df.columns]
        derived = _content_key(df.select(present))
        if key in df.columns:
            df = df.with_columns(pl.coalesce(pl.col(key), derived).alias(key))
        else:
            df = df.with_columns(derived.alias(key))
        if spec.kind == "feedback" and "text" in df.columns:
            # scored once here so that every engine only aggregates a number
            df = df.with_columns(sentiment_expr(pl.col("text")).alias("sentiment"))
    elif spec.kind == "referrals":
        selfref = df.filter(pl.col("referrer_id") == pl.col("referred_id"))
        if selfref.height:
            problems.append(
                _problems(
                    selfref.get_column("_row"),
                    cmap.source("referred_id") or "referred_id",
                    "self_referral",
                    selfref.get_column("referred_id"),
                    "error",
                )
            )
        if "converted" not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Boolean).alias("converted"))
    elif spec.kind == "customers" and cmap.unmapped:
        extra = frame.select(cmap.unmapped).with_columns(pl.all().cast(pl.String))
        df = df.with_columns(
            pl.Series(
                "attributes", extra.select(pl.struct(pl.all()).struct.json_encode()).to_series()
            )
        )
    return df, problems


def _content_key(df: pl.DataFrame) -> pl.Series:
    """A stable key for records that have no id of their own: a hash of what they say."""
    if df.width == 0:
        return pl.Series([None] * df.height, dtype=pl.String)
    return ("h" + digest(df).str.slice(0, 24)).alias("k")


__all__ = ["DTYPES", "PROBLEM_SCHEMA", "Checked", "canonicalise"]
