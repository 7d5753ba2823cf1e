"""Vectorised parsers for messy spreadsheet values (Polars Series in, Series out).

Each parser returns the parsed values and a parallel Series of error codes, so an import can
report every bad cell at once. Nothing here loops over rows in Python: imports must handle
tens of thousands of rows per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl


@dataclass(frozen=True)
class Parsed:
    """Parsed values (null where missing or invalid) and error codes (null where OK or missing)."""

    values: pl.Series
    errors: pl.Series


ERROR_MESSAGES: dict[str, tuple[str, str]] = {
    "formula": (
        '"{value}" looks like a spreadsheet formula, not a value; paste values only',
        "“{value}”看起来是表格公式而不是数值，请粘贴为数值后再导入",
    ),
    "bad_number": (
        '"{value}" is not a number; use digits like 1,234.56',
        "“{value}”不是数字，请使用 1,234.56 这样的格式",
    ),
    "not_integer": (
        '"{value}" is not a whole number; use digits like 3',
        "“{value}”不是整数，请使用 3 这样的整数",
    ),
    "bad_date": (
        '"{value}" is not a valid date; use a date like 2024-03-01 or 2024-03-01 14:05',
        "“{value}”不是有效日期，请使用 2024-03-01 或 2024-03-01 14:05 这样的格式",
    ),
    "ambiguous_date": (
        '"{value}" could be day/month or month/day; pass --date-format "%d/%m/%Y" or "%m/%d/%Y"',
        '“{value}”无法确定是日/月还是月/日，请指定 --date-format "%d/%m/%Y" 或 "%m/%d/%Y"',
    ),
    "date_out_of_range": (
        '"{value}" is outside the years 1900 to 2100; check the year',
        "“{value}”不在 1900 至 2100 年之间，请检查年份",
    ),
    "phone_scientific": (
        '"{value}" is a phone number in scientific notation, so digits were lost; '
        "format the column as text in the spreadsheet and export again",
        "“{value}”是科学计数法形式的电话号码，部分数字已丢失；请在表格中将该列设为文本格式后重新导出",
    ),
    "bad_phone": (
        '"{value}" is not a phone number; use 5 to 15 digits like 138-0013-8000',
        "“{value}”不是电话号码，请使用 5 到 15 位数字，如 138-0013-8000",
    ),
    "bad_email": (
        '"{value}" is not an email address; use a form like name@example.com',
        "“{value}”不是电子邮箱地址，请使用 name@example.com 这样的格式",
    ),
    "bad_bool": (
        '"{value}" is not yes or no; use yes/no, true/false, 1/0 or 是/否',
        "“{value}”不是“是/否”值，请使用 是/否、yes/no、true/false 或 1/0",
    ),
    "unknown_value": (
        '"{value}" is not one of the known values; check the spelling or add it to the mapping',
        "“{value}”不是可识别的取值，请检查拼写或将其加入映射",
    ),
}

_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]
_FULL_RE = "[\uff01-\uff5e\u3000]"
# Explicit because Rust's whitespace set lacks the zero-width space and the BOM that Excel and
# WeChat copy-paste leave behind.
_STRIP = " \t\n\r\v\f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
_INNER_SPACE = [" ", "\t", "\u00a0", "\u2009", "\u202f"]
_MISSING = ["-", "--", "N/A", "n/a", "NA", "na", "null", "NULL", "Null", "None", "none", "NONE"]
_MISSING += ["无", "空", "#N/A", "#n/a"]
_V = pl.col("v")
_N = pl.col("n")


def _stage(df: pl.DataFrame, /, *exprs: pl.Expr, **named: pl.Expr) -> pl.DataFrame:
    """``df.with_columns`` on the streaming engine, which spreads string work over all cores."""
    return df.lazy().with_columns(*exprs, **named).collect()


def _pick(df: pl.DataFrame, /, *exprs: pl.Expr | str, **named: pl.Expr) -> pl.DataFrame:
    """``df.select`` on the streaming engine."""
    return df.lazy().select(*exprs, **named).collect()


def _with(s: pl.Series, expr: pl.Expr) -> pl.Series:
    """Evaluate an expression over ``s`` (as column ``v``), keeping its name."""
    return s.to_frame("v").pipe(_pick, expr.alias(s.name)).to_series()


def _text(s: pl.Series) -> pl.Series:
    """``s`` as String, half-width."""
    t = s.cast(pl.String)
    # replace_many is costly and most columns hold no full-width characters at all
    return t.str.replace_many(_FULL, _HALF) if t.str.contains(_FULL_RE).any() else t


def _prepare(s: pl.Series) -> pl.DataFrame:
    """Columns ``t``: cleaned text (missing markers -> null) and ``formula``: a flag."""
    t = pl.col("t")
    return (
        _text(s)
        .to_frame("v")
        .pipe(_pick, t=_V.str.strip_chars(_STRIP))
        .pipe(_pick, t=pl.when((t != "") & ~t.is_in(_MISSING)).then(t))
        .pipe(_stage, formula=t.str.starts_with("=").fill_null(False))
    )


def _finish(df: pl.DataFrame, name: str) -> Parsed:
    """Null the values of rows with an error; ``df`` has columns ``value`` and ``error``."""
    out = df.pipe(
        _pick,
        pl.when(pl.col("error").is_null()).then("value").alias("value"),
        pl.col("error").cast(pl.String),
    )
    return Parsed(out["value"].alias(name), out["error"].alias(name))


def _first(*rules: tuple[pl.Expr | str, pl.Expr | str | None]) -> pl.Expr:
    """The error code of the first rule whose condition holds (null if none does)."""
    code = pl.lit(None, pl.String)
    for cond, then in reversed(rules):
        then_expr = then if isinstance(then, pl.Expr) else pl.lit(then, pl.String)
        code = pl.when(cond).then(then_expr).otherwise(code)
    return code


def _typed(s: pl.Series, values: pl.Series, bad: pl.Series, code: str) -> Parsed:
    errors = pl.select(pl.when(bad.fill_null(False)).then(pl.lit(code)).alias(s.name)).to_series()
    return Parsed(values.alias(s.name).zip_with(errors.is_null(), values.clear(len(s))), errors)


def to_halfwidth(s: pl.Series) -> pl.Series:
    """Map full-width ASCII forms (U+FF01..U+FF5E) to ASCII and U+3000 to a space."""
    return _text(s)


def clean_text(s: pl.Series) -> pl.Series:
    """Any dtype -> String: half-width, stripped (incl. NBSP, ZWSP, BOM), empty -> null."""
    return _with(_with(_text(s), _V.str.strip_chars(_STRIP)), pl.when(_V != "").then(_V))


# --- numbers -------------------------------------------------------------------------------

# Validation is one capture-free regex (a fast DFA); the currency words, separators and spaces
# are then dropped with replace_many, far cheaper than regex replacements.
_SP = "[ \u00a0\u2009\u202f]"
_CUR = r"(?:(?i:rmb|cny|usd|hkd|eur|gbp|jpy|us\$|hk\$)|[¥￥$€£])"
_CUR_END = rf"(?:元|{_CUR})"
_NUM = r"(?:(?:[0-9]{1,3}(?:[, \u00a0\u2009\u202f][0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_BODY = (
    rf"(?:[-+]?{_SP}*(?:{_CUR}{_SP}*)?{_NUM}|{_NUM}-"
    rf"|\({_SP}*(?:{_CUR}{_SP}*)?{_NUM}{_SP}*(?:{_CUR_END}{_SP}*)?\))"
)
_NUM_RE = rf"^(?:[-+]?{_SP}*{_CUR}{_SP}*)?{_BODY}(?:{_SP}*{_CUR_END})?$"
_NOISE = ["rmb", "cny", "usd", "hkd", "eur", "gbp", "jpy", "us$", "hk$", "¥", "￥", "$", "€", "£"]
_NOISE += ["元", ",", *_INNER_SPACE]


def _number_frame(s: pl.Series) -> pl.DataFrame:
    """Columns ``value`` (Float64), ``digits`` (signed numeric text) and ``error``."""
    if s.dtype.is_numeric() or s.dtype == pl.Boolean:
        f = _V.cast(pl.Float64, strict=False)
        return s.to_frame("v").pipe(
            _pick,
            # pandas writes missing floats as NaN, so NaN means missing, not invalid
            value=pl.when(~f.is_nan()).then(f),
            digits=pl.lit(None, pl.String),
            error=pl.when(f.is_infinite()).then(pl.lit("bad_number")),
        )
    t = pl.col("t")
    bare = t.str.replace_many(_NOISE, [""] * len(_NOISE), ascii_case_insensitive=True)
    df = _prepare(s).pipe(_stage, ok=t.str.contains(_NUM_RE), n=bare)
    n = pl.col("n")
    # "(1,234)" and "1234-" are accounting negatives
    digits = n.str.replace_many(["(", ")"], ["", ""]).str.strip_suffix("-")
    neg = n.str.starts_with("(") | n.str.ends_with("-")
    df = df.pipe(_stage, digits=pl.when(neg).then(pl.lit("-") + digits).otherwise(digits))
    df = df.pipe(_stage, value=pl.col("digits").cast(pl.Float64, strict=False))
    value = pl.col("value")
    bad = t.is_not_null() & (~pl.col("ok") | value.is_null() | value.is_infinite())
    error = _first(("formula", "formula"), (bad, "bad_number"))
    return df.pipe(_pick, "value", digits=pl.when("ok").then("digits"), error=error)


def parse_number(s: pl.Series) -> Parsed:
    """Parse amounts like ``¥1,234.56``, ``(1,234)``, ``100元`` or ``1.2e3`` into Float64."""
    return _finish(_number_frame(s), s.name)


def parse_int(s: pl.Series) -> Parsed:
    """Parse whole numbers into Int64; ``3.0`` is fine, ``2.5`` is ``not_integer``."""
    if s.dtype.is_integer():
        v = s.cast(pl.Int64, strict=False)
        return _typed(s, v, v.is_null() & s.is_not_null(), "bad_number")
    value = pl.col("value")
    # straight from the digits when possible: floats lose precision past 2**53
    exact = pl.col("digits").str.strip_prefix("+").cast(pl.Int64, strict=False)
    as_int = pl.coalesce(exact, pl.when(value.abs() < 2.0**63).then(value).cast(pl.Int64))
    df = _number_frame(s).pipe(_stage, as_int=as_int)
    as_int = pl.col("as_int")
    error = _first(
        (pl.col("error").is_not_null(), pl.col("error")),
        (value.is_null(), None),
        (value != value.round(), "not_integer"),
        (as_int.is_null(), "bad_number"),
    )
    return _finish(df.pipe(_pick, value=as_int, error=error), s.name)


# --- dates ---------------------------------------------------------------------------------

# "日 " first: replace_many picks the earliest listed pattern, and "1日 14时" must keep one space
_CJK_FROM = ["日 ", "年", "月", "日", "号", "时", "点", "分", "秒"]
_CJK_TO = [" ", "-", "-", " ", " ", ":", ":", ":", ""]
_CJK_RE = "[年月日号时点分秒]"
# Regexes run in ASCII mode with [0-9]: no Unicode tables, and dates are the costliest column.
# A date is a head (year first, or day/month first with the year last) and an optional time
# tail; they are captured separately because one regex with both is markedly slower.
_HEAD = (
    r"(?-u)^(?:(?<y>[0-9]{4})[-/.](?<m>[0-9]{1,2})[-/.](?<d>[0-9]{1,2})"
    r"|(?<a>[0-9]{1,2})[-/.](?<b>[0-9]{1,2})[-/.](?<yl>[0-9]+))"
)
_TAIL = (
    r"(?-u)[ tT](?<H>[0-9]{1,2}):(?<M>[0-9]{2})(?::(?<S>[0-9]{2})(?:[.,](?<f>[0-9]{1,9}))?)?"
    r"(?: ?(?<ap>[aApP][mM]))?(?: ?(?<tz>[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?))?$"
)
_SHAPE = _HEAD + "(?:" + _TAIL.removeprefix("(?-u)").removesuffix("$") + ")?$"
_COMPACT = r"(?-u)^[0-9]{8}(?:[0-9]{6})?$"  # 20240301, 20240301140506
_SERIAL = r"(?-u)^[0-9]{5}(?:\.[0-9]+)?$"
# Fast path: strptime is far cheaper than regex captures and covers the usual shapes. Each
# row goes to one format only (by its number of ":" and "."): a failing strptime is costly.
_HMS = r"(?:[ T][0-9]{1,2}:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?)?$"
_FAST_YMD = r"(?-u)^[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}" + _HMS
_FAST_DMY = r"(?-u)^[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{4}" + _HMS
_TIMES = ["", " %H:%M", " %H:%M:%S", " %H:%M:%S%.f"]
_COMPACT_FORMATS = {8: "%Y%m%d", 14: "%Y%m%d%H%M%S"}
_EXCEL_EPOCH = datetime(1899, 12, 30)
_DT = pl.Datetime("us")


def _excel(f: pl.Expr) -> pl.Expr:
    """Excel serial day number -> datetime, rounded to the millisecond (Excel's precision)."""
    ms = pl.when((f >= 1) & (f <= 2958465)).then((f * 86_400_000).round().cast(pl.Int64))
    return pl.lit(_EXCEL_EPOCH, _DT) + pl.duration(milliseconds=ms)


def _in_range(v: pl.Expr) -> pl.Expr:
    return v.dt.year().is_between(1900, 2100)


def _day_first_hint(date_format: str | None) -> bool | None:
    if not date_format or "%d" not in date_format or "%m" not in date_format:
        return None
    return date_format.index("%d") < date_format.index("%m")


def _slow_dates(n: pl.Series, hint: bool | None, tz: str) -> pl.DataFrame:
    """Regex rules for the rows the fast path left: columns ``value`` and ``amb``."""
    df = n.to_frame("n").pipe(
        _stage,
        shape=_N.str.contains(_SHAPE),
        head=_N.str.extract_groups(_HEAD),
        tail=_N.str.extract_groups(_TAIL),
        serial=_excel(pl.when(_N.str.contains(_SERIAL)).then(_N.cast(pl.Float64, strict=False))),
    )
    ints = ["y", "m", "d", "a", "b", "H", "M", "S"]
    df = df.unnest("head", "tail").pipe(
        _stage,
        *[pl.when("shape").then(pl.col(c).cast(pl.Int32)) for c in ints],
        # two-digit years are refused: 01/03/24 has too many readings
        pl.when(pl.col("yl").str.len_bytes() == 4).then(pl.col("yl").cast(pl.Int32)),
        us=pl.col("f").str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int32).fill_null(0),
        ap=pl.col("ap").str.to_lowercase(),
        off=pl.col("tz").str.replace_all(":", "", literal=True).str.to_lowercase(),
    )
    a, b = pl.col("a"), pl.col("b")
    ambiguous = (a <= 12) & (b <= 12) & (a != b)
    day_first = (a > 12) | (a == b) | (ambiguous & pl.lit(hint is True))
    df = df.pipe(
        _stage,
        y=pl.coalesce("y", "yl"),
        m=pl.coalesce("m", pl.when(day_first).then(b).otherwise(a)),
        d=pl.coalesce("d", pl.when(day_first).then(a).otherwise(b)),
        amb=(ambiguous & pl.col("yl").is_not_null() & pl.lit(hint is None)).fill_null(False),
    )
    y, m, d, ap = pl.col("y"), pl.col("m"), pl.col("d"), pl.col("ap")
    hour, minute, second = (pl.col(c).fill_null(0) for c in ("H", "M", "S"))
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    # 31 for Jan, Mar, May, Jul, Aug, Oct, Dec, 30 for the rest, February apart
    month_days = pl.when(m == 2).then(28 + leap.cast(pl.Int32)).otherwise(30 + (m + m // 8) % 2)
    ok = (
        m.is_between(1, 12)
        & d.is_between(1, month_days)
        & hour.is_between(0, 23)
        & minute.is_between(0, 59)
        & second.is_between(0, 59)
        & (ap.is_null() | hour.is_between(1, 12))
        & ~pl.col("amb")
    ).fill_null(False)
    hour = pl.when(ap == "pm").then(hour % 12 + 12).when(ap == "am").then(hour % 12).otherwise(hour)
    off = pl.col("off")
    off_min = pl.when(off == "z").then(0).otherwise(
        off.str.slice(1, 2).cast(pl.Int32) * 60
        + off.str.slice(3, 2).cast(pl.Int32, strict=False).fill_null(0)
    ) * pl.when(off.str.starts_with("-")).then(-1).otherwise(1)
    built = pl.datetime(pl.when(ok).then(y), m, d, hour, minute, second, "us", time_unit="us")
    df = df.pipe(_stage, built=built, off_min=off_min)
    value = pl.col("built") - pl.duration(minutes=pl.col("off_min"))
    if tz != "UTC":
        value = value.dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
        value = value.dt.replace_time_zone(None)
    value = pl.when(off.is_not_null()).then(value).otherwise("built")
    return df.pipe(_pick, pl.coalesce(value, "serial").alias("value"), "amb")


def _fast_dates(df: pl.DataFrame, hint: bool | None) -> pl.DataFrame:
    """Adds ``value`` and ``amb`` for the common shapes of column ``n``, by strptime."""
    n, norm = pl.col("n"), pl.col("norm")
    df = df.pipe(_stage, norm=n.str.replace_many(["/", "T"], ["-", " "])).pipe(
        _stage,
        ymd=pl.when(n.str.contains(_FAST_YMD)).then(norm),
        dmy=pl.when(n.str.contains(_FAST_DMY)).then(norm),
        compact=pl.when(n.str.contains(_COMPACT)).then(n),
        kind=n.str.count_matches(":", literal=True) + n.str.contains(".", literal=True),
    )

    def parse(col: str, fmt: str, times: list[str]) -> pl.Expr:
        src, kind = pl.col(col), pl.col("kind")
        each = [
            pl.when(kind == k).then(src).str.strptime(_DT, fmt + t, strict=False, cache=False)
            for k, t in enumerate(times)
        ]
        return pl.coalesce(each)

    compact = pl.col("compact")
    compacts = [
        pl.when(compact.str.len_bytes() == k)
        .then(compact)
        .str.strptime(_DT, f, strict=False, cache=False)
        for k, f in _COMPACT_FORMATS.items()
    ]
    df = df.pipe(
        _stage,
        value=pl.coalesce(parse("ymd", "%Y-%m-%d", _TIMES), *compacts),
        dm=parse("dmy", "%d-%m-%Y", _TIMES),
        md=parse("dmy", "%m-%d-%Y", _TIMES),
    )
    # both readings valid and different (01/03/2024): ambiguous unless the format settles it
    dm, md = pl.col("dm"), pl.col("md")
    amb = dm.is_not_null() & md.is_not_null() & (dm != md)
    picked = {True: dm, False: md, None: pl.lit(None, _DT)}[hint]
    dmy = pl.when(amb).then(picked).otherwise(pl.coalesce(dm, md))
    return df.pipe(
        _stage, value=pl.coalesce("value", dmy), amb=(amb & pl.lit(hint is None)).fill_null(False)
    )


def _parse_dt_text(s: pl.Series, date_format: str | None, tz: str) -> Parsed:
    df = _prepare(s)
    n = pl.col("t")
    # column-level check: the replacement costs more than the test, and is rarely needed
    if df["t"].str.contains(_CJK_RE).any():
        n = n.str.replace_many(_CJK_FROM, _CJK_TO, leftmost=True).str.strip_chars_end(": ")
    hint = _day_first_hint(date_format)
    df = _fast_dates(df.pipe(_stage, n=n), hint)
    if date_format is not None:
        by_format = df["t"].str.strptime(_DT, date_format, strict=False, cache=False)
        if isinstance(by_format.dtype, pl.Datetime) and by_format.dtype.time_zone is not None:
            # a format with %z gives aware values
            by_format = by_format.dt.convert_time_zone(tz).dt.replace_time_zone(None)
        df = df.with_columns(value=by_format.fill_null(df["value"]))
    todo = df["value"].is_null() & df["n"].is_not_null() & ~df["formula"] & ~df["amb"]
    if todo.any():
        idx = todo.arg_true()
        rest = df["n"].filter(todo)
        # mostly repeats (dates without a time)? then parse each distinct text once; a sample
        # decides, as a full unique() is wasted work on timestamps
        if 2 * rest.head(4096).n_unique() > min(len(rest), 4096):
            slow = _slow_dates(rest, hint, tz)
        else:
            uniq = rest.unique()
            found = _slow_dates(uniq, hint, tz).with_columns(n=uniq)
            slow = rest.to_frame("n").join(found, on="n", how="left", maintain_order="left")
        df = df.with_columns(
            value=df["value"].scatter(idx, slow["value"]), amb=df["amb"].scatter(idx, slow["amb"])
        )
    value = pl.col("value")
    error = _first(
        ("formula", "formula"),
        (pl.col("t").is_null(), None),
        (value.is_not_null() & ~_in_range(value), "date_out_of_range"),
        (value.is_not_null(), None),
        ("amb", "ambiguous_date"),
        (pl.lit(True), "bad_date"),
    )
    return _finish(df.pipe(_pick, "value", error=error), s.name)


def parse_datetime(s: pl.Series, *, date_format: str | None = None, tz: str = "UTC") -> Parsed:
    """Parse dates and datetimes into naive Datetime("us").

    Values with a UTC offset (``Z``, ``+08:00``) are converted to naive local time in ``tz``;
    values without one are taken as already local. ``date_format`` (a strptime format) is
    tried first and also settles day/month order for ambiguous ``01/03/2024``-style dates.
    """
    try:  # fail on a bad zone name now, not only once some value has an offset
        pl.Series([None], dtype=_DT).dt.replace_time_zone(tz)
    except pl.exceptions.ComputeError as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    dtype = s.dtype
    if isinstance(dtype, pl.Datetime | pl.Date):
        v = s
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            v = v.dt.convert_time_zone(tz).dt.replace_time_zone(None)
        v = v.cast(pl.Datetime("us"))
        return _typed(s, v, ~_with(v, _in_range(_V)), "date_out_of_range")
    if dtype.is_numeric():
        # Excel serials become ISO text; other numbers (20240301 from a Parquet int column)
        # go through the text rules as they are
        serial = _excel(_V.cast(pl.Float64)).dt.to_string("%Y-%m-%d %H:%M:%S%.3f")
        whole = _V.cast(pl.Int64, strict=False).cast(pl.String)
        number = pl.when(_V.round() == _V).then(whole).otherwise(_V.cast(pl.String))
        text = pl.when(~_V.cast(pl.Float64).is_nan()).then(pl.coalesce(serial, number))
        s = _with(s, text)
    return _parse_dt_text(s, date_format, tz)


# --- phones, emails, booleans --------------------------------------------------------------

_PHONE_SEP = [" ", "-", ".", "(", ")", "/", "\t", "\u00a0"]


def parse_phone(s: pl.Series) -> Parsed:
    """Normalise phone numbers: digits with an optional leading ``+``; +86 mobiles -> 11 digits."""
    if s.dtype.is_integer():
        return parse_phone(s.cast(pl.String))
    if s.dtype.is_numeric():
        as_int = _V.cast(pl.Int64, strict=False).cast(pl.String)
        # "?" is any non-digit: it makes a non-integral number fail as bad_phone
        text = pl.when(_V.round() == _V).then(as_int).when(~_V.is_nan()).then(pl.lit("?"))
        return parse_phone(_with(s.cast(pl.Float64), text))
    t = pl.col("t")
    # "13800138000.0": a float that was written out as text
    p = pl.when(t.str.contains(r"(?-u)^[0-9]+\.0+$")).then(t.str.strip_chars_end("0")).otherwise(t)
    p = p.str.replace(r"(?i)\s*(?:ext\.?|x|转|分机|#)\s*[0-9]{1,6}$", "").str.replace_many(
        _PHONE_SEP, [""] * len(_PHONE_SEP)
    )
    p = pl.when(p.str.starts_with("00")).then(pl.lit("+") + p.str.slice(2)).otherwise(p)
    df = (
        _prepare(s)
        .pipe(_stage, p=p)
        .pipe(
            _stage,
            ok=pl.col("p").str.contains(r"(?-u)^\+?[0-9]{5,15}$"),
            q=pl.col("p").str.strip_prefix("+"),
        )
    )
    q = pl.col("q")
    # +86 / 0086 / 86 before a Chinese mobile number (11 digits starting with 1) is dropped
    mobile86 = (q.str.len_bytes() == 13) & q.str.starts_with("861")
    error = _first(
        ("formula", "formula"),
        (t.str.contains(r"(?i)^[+-]?[0-9]+(?:\.[0-9]+)?e[+-]?[0-9]+$"), "phone_scientific"),
        (t.is_not_null() & ~pl.col("ok"), "bad_phone"),
    )
    value = pl.when(mobile86).then(q.str.slice(2)).otherwise("p")
    return _finish(df.pipe(_pick, value=value, error=error), s.name)


_EMAIL_LOCAL = r"[\w!#$%&'*+/=?^`{|}~-]+"
_EMAIL_RE = rf"^{_EMAIL_LOCAL}(?:\.{_EMAIL_LOCAL})*@(?:[\w-]+\.)+[\w-]{{2,}}$"


def parse_email(s: pl.Series) -> Parsed:
    """Normalise email addresses (half-width, no ``mailto:``, lower-case) and check their shape."""
    e = (
        pl.col("t")
        .str.replace(r"(?i)^mailto:\s*", "")
        # "。" is what a Chinese IME types for "." in "qq。com"
        .str.replace_all("。", ".", literal=True)
        .str.to_lowercase()
    )
    bad = pl.col("t").is_not_null() & ~pl.col("value").str.contains(_EMAIL_RE)
    error = _first(("formula", "formula"), (bad, "bad_email"))
    return _finish(_prepare(s).pipe(_stage, value=e).pipe(_stage, error=error), s.name)


_TRUE = ["true", "yes", "y", "1", "t", "是", "对", "已转化", "成功", "✓", "✔", "√"]
_FALSE = ["false", "no", "n", "0", "f", "否", "错", "未转化", "失败", "✗", "✘", "×"]


def parse_bool(s: pl.Series) -> Parsed:
    """Parse yes/no values (true/false, y/n, 1/0, 是/否, ✓/✗, ...) into Boolean."""
    if s.dtype == pl.Boolean:
        return Parsed(s, pl.Series(s.name, [None] * len(s), pl.String))
    if s.dtype.is_numeric():
        f = s.cast(pl.Float64)
        v = _with(f, pl.when(_V == 1).then(True).when(_V == 0).then(False))
        return _typed(s, v, v.is_null() & f.is_not_null() & ~f.is_nan(), "bad_bool")
    b = pl.col("b")
    value = pl.when(b.is_in(_TRUE)).then(True).when(b.is_in(_FALSE)).then(False)
    bad = pl.col("t").is_not_null() & pl.col("value").is_null()
    error = _first(("formula", "formula"), (bad, "bad_bool"))
    df = _prepare(s).pipe(_stage, b=pl.col("t").str.to_lowercase())
    return _finish(df.pipe(_stage, value=value).pipe(_stage, error=error), s.name)


# --- enums and lists -----------------------------------------------------------------------


def _enum_keys(s: pl.Series) -> pl.Series:
    """Normalised enum labels; null only where the cell is empty (so "-" is unknown, not missing)."""
    key = _V.str.to_lowercase().str.replace_all(r"[\s_\-]+", " ").str.strip_chars(" ")
    return _with(clean_text(s), key)


def parse_enum(s: pl.Series, mapping: dict[str, str]) -> Parsed:
    """Map raw labels to canonical values; labels and ``mapping`` keys are compared after
    half-width, lower-case and collapsing spaces, ``-`` and ``_`` to one space. The canonical
    values themselves are accepted too.
    """
    lookup: dict[str, str] = {}
    for raw, key in zip(
        mapping, _enum_keys(pl.Series(list(mapping), dtype=pl.String)), strict=True
    ):
        if key in lookup and lookup[key] != mapping[raw]:
            raise ValueError(f"enum key {raw!r} normalises to {key!r}, already mapped elsewhere")
        lookup[key] = mapping[raw]
    canonical = list(dict.fromkeys(mapping.values()))
    for key, canon in zip(
        _enum_keys(pl.Series(canonical, dtype=pl.String)), canonical, strict=True
    ):
        lookup.setdefault(key, canon)
    value = _V.replace_strict(lookup, default=None, return_dtype=pl.String)
    error = pl.when(_V.is_not_null() & value.is_null()).then(pl.lit("unknown_value"))
    df = _enum_keys(s).to_frame("v").pipe(_pick, value=value, error=error)
    return _finish(df, s.name)


_LIST_SEP = [",", ";", "、", "|", "/", "\r\n", "\n", "\r"]


def parse_list(s: pl.Series) -> pl.Series:
    """Split tag lists on , ， ; ； 、 | / and newlines; strip, de-duplicate, join with ","."""
    if isinstance(s.dtype, pl.List | pl.Array):  # e.g. a list column from Parquet
        s = s.cast(pl.List(pl.String)).list.join(",")
    tags = (
        _V.str.replace_many(_LIST_SEP, [","] * len(_LIST_SEP))
        .str.split(",")
        .list.eval(pl.element().str.strip_chars(_STRIP))
        .list.filter(pl.element() != "")
        .list.unique(maintain_order=True)
        .list.join(",")
    )
    return _with(_with(_text(s), tags), pl.when(_V != "").then(_V))
