"""Table-driven tests for the vectorised value parsers in tierwise.ingest._parse."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.ingest._parse import (
    ERROR_MESSAGES,
    Parsed,
    clean_text,
    parse_bool,
    parse_datetime,
    parse_email,
    parse_enum,
    parse_int,
    parse_list,
    parse_number,
    parse_phone,
    to_halfwidth,
)

ERR = "error:"  # expected values starting with this are error codes


def one(parser: Callable[[pl.Series], Parsed], raw: Any, dtype: Any = None) -> tuple[Any, Any]:
    """Parse a single value; returns (value, error)."""
    res = parser(pl.Series("col", [raw], dtype=dtype))
    return res.values[0], res.errors[0]


def check(
    parser: Callable[[pl.Series], Parsed], raw: Any, expected: Any, dtype: Any = None
) -> None:
    value, error = one(parser, raw, dtype)
    if isinstance(expected, str) and expected.startswith(ERR):
        assert (value, error) == (None, expected.removeprefix(ERR)), raw
    else:
        assert (value, error) == (expected, None), raw


# --- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "ABC123"),
        ("１２３４．５", "1234.5"),
        ("a＠b．com", "a@b.com"),
        ("中\u3000文", "中 文"),
        ("（１，２）", "(1,2)"),
        ("plain 中文", "plain 中文"),
        (None, None),
    ],
)
def test_to_halfwidth(raw: str | None, expected: str | None) -> None:
    assert to_halfwidth(pl.Series([raw], dtype=pl.String)).to_list() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello  ", "hello"),
        ("\ufeffbom", "bom"),
        ("\u200bzero width\u200b", "zero width"),
        ("\u00a0nbsp\u00a0", "nbsp"),
        ("\u3000全角空格\u3000", "全角空格"),
        ("ＡＢＣ", "ABC"),
        ("a  b", "a  b"),  # inner text is kept
        ("", None),
        ("   ", None),
        ("\u00a0\u200b", None),
        (None, None),
        ("N/A", "N/A"),  # missing markers are only for typed parsers
        ("-", "-"),
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert clean_text(pl.Series([raw], dtype=pl.String)).to_list() == [expected]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pl.Series([1, None], dtype=pl.Int64), ["1", None]),
        (pl.Series([1.5]), ["1.5"]),
        (pl.Series([True]), ["true"]),
        (pl.Series([date(2024, 3, 1)]), ["2024-03-01"]),
    ],
)
def test_clean_text_typed(series: pl.Series, expected: list[str | None]) -> None:
    out = clean_text(series)
    assert out.dtype == pl.String
    assert out.to_list() == expected


# --- missing markers and formulas ----------------------------------------------------------

TYPED_PARSERS: list[Callable[[pl.Series], Parsed]] = [
    parse_number,
    parse_int,
    parse_datetime,
    parse_phone,
    parse_email,
    parse_bool,
]
MISSING = [None, "", "   ", "\u3000", "-", "--", "N/A", "n/a", "NA", "null", "NULL", "None"]
MISSING += ["无", "空", "#N/A", " N/A "]


@pytest.mark.parametrize("parser", TYPED_PARSERS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("raw", MISSING)
def test_missing_is_not_an_error(parser: Callable[[pl.Series], Parsed], raw: str | None) -> None:
    assert one(parser, raw, pl.String) == (None, None)


@pytest.mark.parametrize("parser", TYPED_PARSERS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("raw", ["=SUM(A1:A3)", " =A1", "=TODAY()"])
def test_formula(parser: Callable[[pl.Series], Parsed], raw: str) -> None:
    assert one(parser, raw) == (None, "formula")


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234", 1234.0),
        ("0", 0.0),
        ("1,234.56", 1234.56),
        ("1 234.56", 1234.56),
        ("1\u00a0234.56", 1234.56),
        ("1,234,567", 1234567.0),
        ("¥1,234", 1234.0),
        ("￥1,234", 1234.0),
        ("$12", 12.0),
        ("€3.5", 3.5),
        ("£4", 4.0),
        ("RMB 100", 100.0),
        ("rmb100", 100.0),
        ("CNY100", 100.0),
        ("USD 5", 5.0),
        ("100元", 100.0),
        ("100 元", 100.0),
        ("(1,234)", -1234.0),
        ("(¥1,234)", -1234.0),
        ("1234-", -1234.0),
        ("-1,234.5", -1234.5),
        ("-¥5", -5.0),
        ("¥-5", -5.0),
        ("+5", 5.0),
        ("１２３４．５", 1234.5),
        ("1，234", 1234.0),
        ("1.2e3", 1200.0),
        ("1.5E-2", 0.015),
        (".5", 0.5),
        ("12%", f"{ERR}bad_number"),
        ("1.234,56", f"{ERR}bad_number"),
        ("1,23", f"{ERR}bad_number"),
        ("12,34.5", f"{ERR}bad_number"),
        ("inf", f"{ERR}bad_number"),
        ("-inf", f"{ERR}bad_number"),
        ("nan", f"{ERR}bad_number"),
        ("1e999", f"{ERR}bad_number"),
        ("abc", f"{ERR}bad_number"),
        ("12abc", f"{ERR}bad_number"),
        ("1-2", f"{ERR}bad_number"),
        ("(5", f"{ERR}bad_number"),
        ("--5", f"{ERR}bad_number"),
        ("¥", f"{ERR}bad_number"),
    ],
)
def test_parse_number(raw: str, expected: Any) -> None:
    check(parse_number, raw, expected)


@pytest.mark.parametrize(
    ("series", "expected_values", "expected_errors"),
    [
        (pl.Series([1, None, -3], dtype=pl.Int32), [1.0, None, -3.0], [None, None, None]),
        (pl.Series([1.5, float("nan"), None]), [1.5, None, None], [None, None, None]),
        (pl.Series([float("inf")]), [None], ["bad_number"]),
        (pl.Series([True, False]), [1.0, 0.0], [None, None]),
    ],
)
def test_parse_number_typed(
    series: pl.Series, expected_values: list[Any], expected_errors: list[Any]
) -> None:
    res = parse_number(series)
    assert res.values.dtype == pl.Float64
    assert res.values.to_list() == expected_values
    assert res.errors.to_list() == expected_errors


@settings(max_examples=200, database=None, deadline=None)
@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.sampled_from(["¥", "￥"]))
def test_number_round_trips_with_separators_and_yen(x: float, sign: str) -> None:
    text = f"{sign}{x:,.2f}"
    assert one(parse_number, text) == (float(f"{x:.2f}"), None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        ("3.0", 3),
        ("1,000", 1000),
        ("-12", -12),
        ("(12)", -12),
        ("1e3", 1000),
        ("¥1,000元", 1000),
        ("9007199254740993", 9007199254740993),  # beyond float precision, still exact
        ("2.5", f"{ERR}not_integer"),
        ("0.1", f"{ERR}not_integer"),
        ("x", f"{ERR}bad_number"),
        ("99999999999999999999", f"{ERR}bad_number"),
    ],
)
def test_parse_int(raw: str, expected: Any) -> None:
    check(parse_int, raw, expected)


def test_parse_int_typed() -> None:
    res = parse_int(pl.Series("n", [3.0, 2.5, None, float("nan")]))
    assert res.values.dtype == pl.Int64
    assert res.values.to_list() == [3, None, None, None]
    assert res.errors.to_list() == [None, "not_integer", None, None]
    res = parse_int(pl.Series("n", [1, None], dtype=pl.UInt8))
    assert res.values.dtype == pl.Int64
    assert res.values.to_list() == [1, None]


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", datetime(2024, 3, 1)),
        ("2024-03-01 14:05", datetime(2024, 3, 1, 14, 5)),
        ("2024-03-01T14:05:06", datetime(2024, 3, 1, 14, 5, 6)),
        ("2024-03-01 14:05:06.5", datetime(2024, 3, 1, 14, 5, 6, 500000)),
        ("2024-03-01T14:05:06.123456789", datetime(2024, 3, 1, 14, 5, 6, 123456)),
        ("2024-03-01T14:05:06Z", datetime(2024, 3, 1, 14, 5, 6)),
        ("2024-03-01T14:05:06+08:00", datetime(2024, 3, 1, 6, 5, 6)),
        ("2024-03-01 14:05:06 +0800", datetime(2024, 3, 1, 6, 5, 6)),
        ("2024-03-01T14:05-05:30", datetime(2024, 3, 1, 19, 35)),
        ("2024-03-01T01:00:00+08:00", datetime(2024, 2, 29, 17, 0)),
        ("2024/3/1", datetime(2024, 3, 1)),
        ("2024/03/01 9:05:00", datetime(2024, 3, 1, 9, 5)),
        ("2024.3.1", datetime(2024, 3, 1)),
        ("2024年3月1日", datetime(2024, 3, 1)),
        ("2024年3月1日 14时05分", datetime(2024, 3, 1, 14, 5)),
        ("2024年3月1日14时05分30秒", datetime(2024, 3, 1, 14, 5, 30)),
        ("2024年3月1日 14:05", datetime(2024, 3, 1, 14, 5)),
        ("２０２４－０３－０１", datetime(2024, 3, 1)),
        ("20240301", datetime(2024, 3, 1)),
        ("20240301140506", datetime(2024, 3, 1, 14, 5, 6)),
        ("45352", datetime(2024, 3, 1)),
        ("45352.5", datetime(2024, 3, 1, 12)),
        ("45352.586805555555", datetime(2024, 3, 1, 14, 5)),
        ("25/12/2024", datetime(2024, 12, 25)),
        ("25/12/2024 10:00", datetime(2024, 12, 25, 10)),
        ("12/25/2024", datetime(2024, 12, 25)),
        ("13-1-2024", datetime(2024, 1, 13)),
        ("1.13.2024", datetime(2024, 1, 13)),
        ("03/03/2024", datetime(2024, 3, 3)),
        ("12/25/2024 2:05 PM", datetime(2024, 12, 25, 14, 5)),
        ("12/25/2024 12:30 am", datetime(2024, 12, 25, 0, 30)),
        ("2000-02-29", datetime(2000, 2, 29)),
        ("1900-01-01", datetime(1900, 1, 1)),
        ("2100-12-31 23:59:59", datetime(2100, 12, 31, 23, 59, 59)),
        ("01/03/2024", f"{ERR}ambiguous_date"),
        ("1-3-2024", f"{ERR}ambiguous_date"),
        ("3/1/2024 2:05 PM", f"{ERR}ambiguous_date"),
        ("01/03/24", f"{ERR}bad_date"),
        ("25/12/24", f"{ERR}bad_date"),
        ("24-03-01", f"{ERR}bad_date"),
        ("2024-02-30", f"{ERR}bad_date"),
        ("2023-02-29", f"{ERR}bad_date"),
        ("1900-02-29", f"{ERR}bad_date"),
        ("2024-13-01", f"{ERR}bad_date"),
        ("2024-04-31", f"{ERR}bad_date"),
        ("2024-00-10", f"{ERR}bad_date"),
        ("13/13/2024", f"{ERR}bad_date"),
        ("2024-03-01 25:00", f"{ERR}bad_date"),
        ("2024-03-01 12:60", f"{ERR}bad_date"),
        ("12/25/2024 13:05 PM", f"{ERR}bad_date"),
        ("1899-12-31", f"{ERR}date_out_of_range"),
        ("2101-01-01", f"{ERR}date_out_of_range"),
        ("99999", f"{ERR}date_out_of_range"),
        ("1234", f"{ERR}bad_date"),
        ("2024-03", f"{ERR}bad_date"),
        ("2024年3月", f"{ERR}bad_date"),
        ("hello", f"{ERR}bad_date"),
        ("March 1, 2024", f"{ERR}bad_date"),
    ],
)
def test_parse_datetime(raw: str, expected: Any) -> None:
    check(parse_datetime, raw, expected)


ROUND_TRIP_FORMATS = [
    ("%Y-%m-%d %H:%M:%S", None),
    ("%Y-%m-%dT%H:%M:%S", None),
    ("%Y/%m/%d %H:%M:%S", None),
    ("%Y.%m.%d %H:%M:%S", None),
    ("%Y年%m月%d日 %H时%M分%S秒", None),
    ("%Y%m%d%H%M%S", None),
    ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S"),
    ("%m-%d-%Y %H:%M:%S", "%m/%d/%Y"),  # the format only settles the order here
    ("%Y-%m-%dT%H:%M:%S+00:00", None),
]


@settings(max_examples=150, database=None, deadline=None)
@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30)),
    st.sampled_from(ROUND_TRIP_FORMATS),
)
def test_datetime_round_trips(moment: datetime, formats: tuple[str, str | None]) -> None:
    fmt, date_format = formats
    moment = moment.replace(microsecond=0)
    res = parse_datetime(pl.Series([moment.strftime(fmt)]), date_format=date_format)
    assert (res.values[0], res.errors[0]) == (moment, None)


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        ("01/03/2024", "%d/%m/%Y", datetime(2024, 3, 1)),
        ("01/03/2024", "%m/%d/%Y", datetime(2024, 1, 3)),
        ("01-03-2024 10:00", "%d/%m/%Y", datetime(2024, 3, 1, 10)),  # order taken from the format
        ("13/01/2024", "%m/%d/%Y", datetime(2024, 1, 13)),  # unambiguous rule still applies
        ("2024-03-01", "%d/%m/%Y", datetime(2024, 3, 1)),  # falls back to ISO
        ("01.03.2024 14:05", "%d.%m.%Y %H:%M", datetime(2024, 3, 1, 14, 5)),
        ("2024/01/02", "%Y/%d/%m", datetime(2024, 2, 1)),
        ("01/03/1850", "%d/%m/%Y", f"{ERR}date_out_of_range"),
        ("31/02/2024", "%d/%m/%Y", f"{ERR}bad_date"),
    ],
)
def test_parse_datetime_with_format(raw: str, fmt: str, expected: Any) -> None:
    check(lambda s: parse_datetime(s, date_format=fmt), raw, expected)


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        ("2024-03-01T12:00:00Z", "Asia/Shanghai", datetime(2024, 3, 1, 20)),
        ("2024-03-01T12:00:00+08:00", "Asia/Shanghai", datetime(2024, 3, 1, 12)),
        ("2024-03-01T12:00:00+08:00", "UTC", datetime(2024, 3, 1, 4)),
        ("2024-07-01T12:00:00Z", "Europe/London", datetime(2024, 7, 1, 13)),
        ("2024-03-01 12:00:00", "Asia/Shanghai", datetime(2024, 3, 1, 12)),  # no offset: local
    ],
)
def test_parse_datetime_tz(raw: str, tz: str, expected: datetime) -> None:
    check(lambda s: parse_datetime(s, tz=tz), raw, expected)


@pytest.mark.parametrize(
    ("series", "expected_values", "expected_errors"),
    [
        (
            pl.Series([datetime(2024, 3, 1, 14, 5), None], dtype=pl.Datetime("ns")),
            [datetime(2024, 3, 1, 14, 5), None],
            [None, None],
        ),
        (
            pl.Series([datetime(2024, 3, 1, 6, 5)]).dt.replace_time_zone("UTC"),
            [datetime(2024, 3, 1, 14, 5)],  # converted into tz="Asia/Shanghai" below
            [None],
        ),
        (pl.Series([date(2024, 3, 1)]), [datetime(2024, 3, 1)], [None]),
        (pl.Series([date(1800, 1, 1)]), [None], ["date_out_of_range"]),
        (pl.Series([45352, None]), [datetime(2024, 3, 1), None], [None, None]),
        (pl.Series([45352.25, float("nan")]), [datetime(2024, 3, 1, 6), None], [None, None]),
        (pl.Series([1]), [None], ["date_out_of_range"]),  # 1899-12-31
        (pl.Series([20240301]), [datetime(2024, 3, 1)], [None]),
        (pl.Series([20240301.0]), [datetime(2024, 3, 1)], [None]),
        (pl.Series([45352.586805555555]), [datetime(2024, 3, 1, 14, 5)], [None]),
        (pl.Series([0.0, -5.0, 1.5e9]), [None, None, None], ["bad_date"] * 3),
    ],
)
def test_parse_datetime_typed(
    series: pl.Series, expected_values: list[Any], expected_errors: list[Any]
) -> None:
    res = parse_datetime(series, tz="Asia/Shanghai")
    assert res.values.dtype == pl.Datetime("us")
    assert res.values.to_list() == expected_values
    assert res.errors.to_list() == expected_errors


def test_parse_datetime_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="Mars/Base"):
        parse_datetime(pl.Series(["2024-03-01"]), tz="Mars/Base")


# --- phones, emails, booleans --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("+86 (138) 0013.8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("＋８６ １３８００１３８０００", "13800138000"),
        ("13800138000.0", "13800138000"),
        ("13800138000.00", "13800138000"),
        ("021-63218888", "02163218888"),
        ("(010) 1234-5678", "01012345678"),
        ("+86 10 1234 5678", "+861012345678"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (555) 123-4567", "+15551234567"),
        ("555/123/4567", "5551234567"),
        ("+1 555 123 4567 ext 12", "+15551234567"),
        ("555-123-4567 x12", "5551234567"),
        ("021-63218888转123", "02163218888"),
        ("12345", "12345"),
        ("1.38001E+10", f"{ERR}phone_scientific"),
        ("1.38E10", f"{ERR}phone_scientific"),
        ("1234", f"{ERR}bad_phone"),
        ("1234567890123456", f"{ERR}bad_phone"),
        ("abc123456", f"{ERR}bad_phone"),
        ("138001380OO", f"{ERR}bad_phone"),
        ("+86+13800138000", f"{ERR}bad_phone"),
        ("call me", f"{ERR}bad_phone"),
    ],
)
def test_parse_phone(raw: str, expected: Any) -> None:
    check(parse_phone, raw, expected)


@pytest.mark.parametrize(
    ("series", "expected_values", "expected_errors"),
    [
        (pl.Series([13800138000, None]), ["13800138000", None], [None, None]),
        (pl.Series([8613800138000]), ["13800138000"], [None]),
        (pl.Series([13800138000.0, float("nan")]), ["13800138000", None], [None, None]),
        (pl.Series([1.5]), [None], ["bad_phone"]),
        (pl.Series([1234]), [None], ["bad_phone"]),
    ],
)
def test_parse_phone_typed(
    series: pl.Series, expected_values: list[Any], expected_errors: list[Any]
) -> None:
    res = parse_phone(series)
    assert res.values.dtype == pl.String
    assert res.values.to_list() == expected_values
    assert res.errors.to_list() == expected_errors


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("foo@example.com", "foo@example.com"),
        ("  Foo.Bar@Example.COM ", "foo.bar@example.com"),
        ("mailto:a@b.cn", "a@b.cn"),
        ("MAILTO:a@b.cn", "a@b.cn"),
        ("a＠b．com", "a@b.com"),
        ("x@qq。com", "x@qq.com"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
        ("张三@例子.中国", "张三@例子.中国"),
        ("a@b", f"{ERR}bad_email"),
        ("a b@c.com", f"{ERR}bad_email"),
        ("a@@b.com", f"{ERR}bad_email"),
        ("a@b@c.com", f"{ERR}bad_email"),
        ("a..b@c.com", f"{ERR}bad_email"),
        (".a@c.com", f"{ERR}bad_email"),
        ("@c.com", f"{ERR}bad_email"),
        ("a@.com", f"{ERR}bad_email"),
        ("a@c.", f"{ERR}bad_email"),
        ("a@c.com,b@c.com", f"{ERR}bad_email"),
        ("not an email", f"{ERR}bad_email"),
    ],
)
def test_parse_email(raw: str, expected: Any) -> None:
    check(parse_email, raw, expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(t, True) for t in ["true", "TRUE", "True", "yes", "Y", "y", "1", "t", "T"]],
        *[(t, True) for t in ["是", "对", "已转化", "成功", "✓", " yes "]],
        *[(f, False) for f in ["false", "FALSE", "no", "No", "N", "n", "0", "f", "F"]],
        *[(f, False) for f in ["否", "错", "未转化", "失败", "✗"]],
        ("maybe", f"{ERR}bad_bool"),
        ("2", f"{ERR}bad_bool"),
        ("yes please", f"{ERR}bad_bool"),
    ],
)
def test_parse_bool(raw: str, expected: Any) -> None:
    check(parse_bool, raw, expected)


@pytest.mark.parametrize(
    ("series", "expected_values", "expected_errors"),
    [
        (pl.Series([True, None, False]), [True, None, False], [None, None, None]),
        (pl.Series([1, 0, None]), [True, False, None], [None, None, None]),
        (pl.Series([1.0, 0.0, float("nan")]), [True, False, None], [None, None, None]),
        (pl.Series([2, -1]), [None, None], ["bad_bool", "bad_bool"]),
    ],
)
def test_parse_bool_typed(
    series: pl.Series, expected_values: list[Any], expected_errors: list[Any]
) -> None:
    res = parse_bool(series)
    assert res.values.dtype == pl.Boolean
    assert res.values.to_list() == expected_values
    assert res.errors.to_list() == expected_errors


# --- enums and lists -----------------------------------------------------------------------

KIND = {"person": "person", "个人客户": "person", "B2B": "company", "e-mail": "email"}
KIND |= {"web visit": "web_visit", "Ｖｉｐ": "vip"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("person", "person"),
        (" PERSON ", "person"),
        ("个人客户", "person"),
        ("b2b", "company"),
        ("E-Mail", "email"),
        ("e_mail", "email"),
        ("e  mail", "email"),
        ("Web-Visit", "web_visit"),
        ("web__visit", "web_visit"),
        ("web_visit", "web_visit"),  # canonical values are accepted as themselves
        ("company", "company"),
        ("ＶＩＰ", "vip"),
        ("vip", "vip"),
        ("", None),
        ("   ", None),
        (None, None),
        ("unknown thing", f"{ERR}unknown_value"),
        ("-", f"{ERR}unknown_value"),  # no missing markers for enums
    ],
)
def test_parse_enum(raw: str | None, expected: Any) -> None:
    check(lambda s: parse_enum(s, KIND), raw, expected, pl.String)


def test_parse_enum_conflicting_keys() -> None:
    with pytest.raises(ValueError, match="normalises"):
        parse_enum(pl.Series(["a"]), {"Open": "open", "open": "closed"})


def test_parse_enum_typed_input() -> None:
    res = parse_enum(pl.Series([1, 2, None]), {"1": "one"})
    assert res.values.to_list() == ["one", None, None]
    assert res.errors.to_list() == [None, "unknown_value", None]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("vip", "vip"),
        ("vip, wholesale", "vip,wholesale"),
        ("a，b；c、d|e/f;g", "a,b,c,d,e,f,g"),
        ("a\nb\r\nc", "a,b,c"),
        ("  a  ,, b ,", "a,b"),
        ("vip,new,vip", "vip,new"),
        ("b,a,b,a", "b,a"),
        ("ＶＩＰ，新客", "VIP,新客"),
        ("multi word tag, other", "multi word tag,other"),
        (",;、", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_list(raw: str | None, expected: str | None) -> None:
    out = parse_list(pl.Series("tags", [raw], dtype=pl.String))
    assert out.dtype == pl.String
    assert (out.name, out.to_list()) == ("tags", [expected])


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pl.Series("tags", [["vip", " new ", "vip"], None, []]), ["vip,new", None, None]),
        (pl.Series("tags", [[1, 2]], dtype=pl.Array(pl.Int64, 2)), ["1,2"]),
    ],
)
def test_parse_list_typed(series: pl.Series, expected: list[str | None]) -> None:
    assert parse_list(series).to_list() == expected


# --- shape of results and messages ---------------------------------------------------------

MIXED = ["1", "", None, "=A1", "N/A", "x", "2024-03-01", "13800138000", "a@b.com", "yes"]


@pytest.mark.parametrize(
    ("parser", "dtype"),
    [
        (parse_number, pl.Float64),
        (parse_int, pl.Int64),
        (parse_datetime, pl.Datetime("us")),
        (parse_phone, pl.String),
        (parse_email, pl.String),
        (parse_bool, pl.Boolean),
        (lambda s: parse_enum(s, {"x": "x"}), pl.String),
    ],
)
def test_length_name_and_dtypes(parser: Callable[[pl.Series], Parsed], dtype: Any) -> None:
    for series in (pl.Series("col", MIXED), pl.Series("col", [], dtype=pl.String)):
        res = parser(series)
        assert len(res.values) == len(res.errors) == len(series)
        assert (res.values.name, res.errors.name) == ("col", "col")
        assert res.values.dtype == dtype
        assert res.errors.dtype == pl.String
        # a value and an error never coexist
        assert not (res.values.is_not_null() & res.errors.is_not_null()).any()


def test_all_null_series() -> None:
    for parser in TYPED_PARSERS:
        res = parser(pl.Series("col", [None, None]))
        assert res.values.to_list() == [None, None]
        assert res.errors.to_list() == [None, None]


CODES = {
    "formula",
    "bad_number",
    "not_integer",
    "bad_date",
    "ambiguous_date",
    "date_out_of_range",
    "phone_scientific",
    "bad_phone",
    "bad_email",
    "bad_bool",
    "unknown_value",
}


def test_error_messages() -> None:
    assert set(ERROR_MESSAGES) == CODES
    for en, zh in ERROR_MESSAGES.values():
        assert "{value}" in en and "{value}" in zh
        assert "x1y2" in en.format(value="x1y2") and "x1y2" in zh.format(value="x1y2")
    for template in ERROR_MESSAGES["ambiguous_date"]:
        assert "--date-format" in template
        assert "%d/%m/%Y" in template and "%m/%d/%Y" in template


def test_every_code_is_reachable() -> None:
    produced = {
        one(parse_number, "=A1")[1],
        one(parse_number, "x")[1],
        one(parse_int, "2.5")[1],
        one(parse_datetime, "x")[1],
        one(parse_datetime, "01/02/2024")[1],
        one(parse_datetime, "1800-01-01")[1],
        one(parse_phone, "1.38E+10")[1],
        one(parse_phone, "12")[1],
        one(parse_email, "x")[1],
        one(parse_bool, "x")[1],
        one(lambda s: parse_enum(s, {"a": "a"}), "x")[1],
    }
    assert produced == CODES


# --- speed ---------------------------------------------------------------------------------

DATE_SHAPES = [
    "2024-03-01",
    "2024-03-01 14:05:06",
    "2024-03-01T14:05:06+08:00",
    "2024/3/1",
    "2024年3月1日 14时05分",
    "20240301",
    "45352.5",
    "25/12/2024 10:00",
    "12/25/2024",
    "01/03/2024",
    "",
    "bad",
]


def test_million_mixed_dates_parse_quickly() -> None:
    n = 1_000_000
    series = pl.Series("d", DATE_SHAPES).sample(n, with_replacement=True, seed=1)
    start = time.perf_counter()
    res = parse_datetime(series)
    elapsed = time.perf_counter() - start
    assert len(res.values) == n
    assert res.values.null_count() < n  # something parsed
    assert elapsed < 10, f"1M dates took {elapsed:.1f}s"


def test_million_numbers_parse_quickly() -> None:
    shapes = ["1234", "1,234.56", "¥1,234", "(1,234)", "100元", "１２３４．５", "12%", "", "-5"]
    series = pl.Series("n", shapes).sample(1_000_000, with_replacement=True, seed=1)
    start = time.perf_counter()
    parse_number(series)
    assert time.perf_counter() - start < 10


def test_repeated_values_parse_like_single_ones() -> None:
    # many repeats take the parse-each-distinct-text-once path; results must not change
    shapes = ["2024/3/1", "01/03/2024", "25/12/2024 10:00", "bad", "2024年3月1日", "45352", ""]
    series = pl.Series("d", shapes * 50)
    res = parse_datetime(series)
    expected = {raw: one(parse_datetime, raw, pl.String) for raw in shapes}
    for raw, value, error in zip(series, res.values, res.errors, strict=True):
        assert (value, error) == expected[raw], raw
