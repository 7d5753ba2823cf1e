"""Stable row digests computed in DuckDB (vectorised md5), never row by row in Python.

Polars' own ``hash`` is not stable across versions, so it cannot be stored; md5 over a canonical
text form of the row is, and DuckDB computes it for a million rows in well under a second.
"""

from __future__ import annotations

import hashlib
import threading

import duckdb
import polars as pl

_LOCAL = threading.local()
_NULL = "\u2205"  # stands for SQL NULL inside the digested text, so NULL and "" differ


def _connection() -> duckdb.DuckDBPyConnection:
    conn: duckdb.DuckDBPyConnection | None = getattr(_LOCAL, "conn", None)
    if conn is None:
        conn = duckdb.connect()
        _LOCAL.conn = conn
    return conn


def digest(df: pl.DataFrame, *, with_names: bool = False) -> pl.Series:
    """32 hex characters per row: md5 of the row's values (and column names if asked)."""
    if df.width == 0 or df.height == 0:
        return pl.Series("digest", ["0" * 32] * df.height, dtype=pl.String)
    parts = []
    for name in sorted(df.columns) if with_names else df.columns:
        quoted = '"' + name.replace('"', '""') + '"'
        value = f"coalesce(CAST({quoted} AS VARCHAR), '{_NULL}')"
        if with_names:
            label = name.replace("'", "''")
            value = f"'{label}=' || {value}"
        parts.append(value)
    arrow = df.to_arrow()  # noqa: F841 - read by DuckDB's replacement scan below
    sql = f"SELECT md5(concat_ws('|', {', '.join(parts)})) AS digest FROM arrow"  # noqa: S608
    result = _connection().execute(sql).arrow()
    return pl.from_arrow(result).to_series()  # type: ignore[union-attr]


def set_digest(df: pl.DataFrame) -> str:
    """A digest of the rows of ``df`` as a set: independent of row order, so nothing is sorted.

    The sum (mod 2^60) and the xor of two 60-bit slices of each row's md5, and the row count;
    md5 is the same on every platform and version, so the digest is too.
    """
    if df.height == 0:
        return hashlib.sha256(b"").hexdigest()
    rows = digest(df)
    arrow = pl.DataFrame({"d": rows}).to_arrow()  # noqa: F841 - read by DuckDB below
    sql = (
        "SELECT count(*), "
        "sum(('0x' || substr(d, 1, 15))::UBIGINT::HUGEINT) % 1152921504606846976, "
        "bit_xor(('0x' || substr(d, 16, 15))::UBIGINT) FROM arrow"
    )
    found = _connection().execute(sql).fetchone()
    assert found is not None
    return hashlib.sha256(":".join(str(v) for v in found).encode()).hexdigest()


__all__ = ["digest", "set_digest"]
