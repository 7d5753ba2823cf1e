"""Exports that are safe to open in Excel: formula-like cells are neutralised.

A cell whose text starts with ``= + - @``, a tab or a carriage return — also after leading
spaces — would run as a formula in Excel or LibreOffice (CSV injection); such cells get a
leading apostrophe, which spreadsheets show as text and never evaluate.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tierwise.errors import DataError

_FORMULA = r"^[ \u3000]*[=+\-@\t\r]"


def neutralise(df: pl.DataFrame) -> pl.DataFrame:
    """Text columns with formula-like cells prefixed by ``'``; other columns unchanged."""
    exprs = [
        pl.when(pl.col(name).str.contains(_FORMULA))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in df.schema.items()
        if dtype == pl.String
    ]
    return df.with_columns(exprs) if exprs else df


def write_table(df: pl.DataFrame, path: Path) -> Path:
    """Write ``df`` as Parquet, CSV (UTF-8 with BOM, for Excel) or XLSX, by the file suffix."""
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        df.write_parquet(path)
    elif suffix == ".csv":
        with path.open("wb") as fh:
            fh.write("\ufeff".encode())
            neutralise(df).write_csv(fh)
    elif suffix == ".xlsx":
        neutralise(df).write_excel(path, autofit=False)
    else:
        raise DataError(f"Cannot write {path.name}: use .parquet, .csv or .xlsx.")
    return path


__all__ = ["neutralise", "write_table"]
