"""The demo generator: files the importer can read as is, and data the models can learn from.

Every file is read back independently of the generator (csv module / openpyxl / pyarrow), its
headers mapped through the aliases of ``ingest._schema`` and its enum values through ``ENUMS``,
normalised the way the importer does; the statistical checks then run on those canonical tables.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tierwise.demo
from tierwise.demo import DemoSummary, generate
from tierwise.errors import ConfigError
from tierwise.ingest._schema import ENUMS, KINDS, TABLES

START, END = date(2023, 11, 1), date(2026, 10, 31)
N = 3000


# --- reading files back like the importer ---------------------------------------------------------


def norm(value: str) -> str:
    """strip, lower-case, full-width → half-width, runs of - _ and spaces → one space."""
    chars = []
    for ch in value:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        elif code == 0x3000:
            ch = " "
        chars.append(ch)
    return re.sub(r"[-_\s]+", " ", "".join(chars).strip().lower()).strip()


def header_map(kind: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in TABLES[kind].fields:
        for alias in f.aliases:
            out.setdefault(norm(alias), f.name)
    return out


def enum_map(name: str) -> dict[str, str]:
    return {norm(k): v for k, v in ENUMS[name].items()}


def _read_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        return [str(h) for h in rows[0]], rows[1:]
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw.decode("utf-8-sig")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], [[None if v == "" else v for v in r] for r in rows[1:]]


_DT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d")


def _parse_datetime(v: Any) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    for fmt in _DT_FORMATS:
        try:
            return datetime.strptime(v, fmt)
        except ValueError:
            pass
    raise AssertionError(f"unparseable date {v!r}")


def read_canonical(path: Path, kind: str) -> pl.DataFrame:
    """A file as canonical columns and values (raises if a header or enum value is unknown)."""
    spec = TABLES[kind]
    if path.suffix == ".parquet":
        frame = pl.from_arrow(pq.read_table(path))
        assert isinstance(frame, pl.DataFrame)
        headers = frame.columns
        for name in headers:
            assert name in spec.names, f"{path.name}: unknown column {name!r}"
        return _canonical_enums(frame, kind)
    headers, rows = _read_rows(path)
    mapping = header_map(kind)
    names = []
    for h in headers:
        assert norm(h) in mapping, f"{path.name}: header {h!r} is no alias of a {kind} field"
        names.append(mapping[norm(h)])
    assert len(set(names)) == len(names), f"{path.name}: two headers map to one field: {headers}"
    columns: dict[str, list[Any]] = {n: [r[j] for r in rows] for j, n in enumerate(names)}
    data: dict[str, pl.Series] = {}
    for name, values in columns.items():
        ftype = spec.field(name).type
        if ftype in ("datetime", "date"):
            s = pl.Series(name, [_parse_datetime(v) for v in values], dtype=pl.Datetime("us"))
            data[name] = s.cast(pl.Date) if ftype == "date" else s
        elif ftype in ("number", "int"):
            data[name] = pl.Series(
                name, [None if v is None else float(v) for v in values], dtype=pl.Float64
            )
        elif ftype == "bool":
            data[name] = pl.Series(
                name, [{"是": True, "否": False, "yes": True, "no": False}[v] for v in values]
            )
        elif ftype == "list":
            data[name] = pl.Series(
                name,
                [[] if v is None else str(v).split(",") for v in values],
                dtype=pl.List(pl.String),
            )
        else:
            data[name] = pl.Series(
                name, [None if v is None else str(v) for v in values], dtype=pl.String
            )
    return _canonical_enums(pl.DataFrame(data), kind)


def _canonical_enums(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    for f in TABLES[kind].fields:
        if f.enum is None or f.name not in frame.columns:
            continue
        mapping = enum_map(f.enum)
        values = frame[f.name].drop_nulls().unique().to_list()
        unknown = [v for v in values if norm(v) not in mapping]
        assert not unknown, f"{kind}.{f.name}: values {unknown} are not in ENUMS[{f.enum!r}]"
        frame = frame.with_columns(
            pl.col(f.name).replace_strict({v: mapping[norm(v)] for v in values}, default=None)
        )
    return frame


def load(summary: DemoSummary) -> dict[str, pl.DataFrame]:
    return {kind: read_canonical(summary.paths[kind], kind) for kind in KINDS}


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auto(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate(customers=N, out=tmp_path_factory.mktemp("auto"), seed=42)


@pytest.fixture(scope="module")
def data(auto: DemoSummary) -> dict[str, pl.DataFrame]:
    return load(auto)


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate(customers=N, out=tmp_path_factory.mktemp("parquet"), seed=42, fmt="parquet")


@pytest.fixture(scope="module")
def orders_by_customer(data: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per customer with its paid orders (CNY) and its kind."""
    orders = (
        data["orders"]
        .filter(pl.col("status") == "paid")
        .with_columns(
            value=pl.col("amount") * pl.when(pl.col("currency") == "USD").then(7.1).otherwise(1.0)
        )
    )
    per_order = orders.group_by("order_id").agg(
        pl.col("customer_id").first(), pl.col("ordered_at").first(), pl.col("value").sum()
    )
    return per_order.join(
        data["customers"].select("customer_id", "kind", "created_at"), on="customer_id"
    )


# --- API, files, formats --------------------------------------------------------------------------


def test_public_api_is_locked() -> None:
    assert tierwise.demo.__all__ == ["DemoSummary", "DemoUsers", "create_demo_users", "generate"]


def test_auto_writes_the_realistic_mix(auto: DemoSummary) -> None:
    suffixes = {kind: path.suffix for kind, path in auto.paths.items()}
    assert suffixes == {
        "customers": ".xlsx",
        "orders": ".csv",
        "interactions": ".csv",
        "feedback": ".csv",
        "referrals": ".csv",
        "leads": ".xlsx",
        "products": ".csv",
    }
    assert auto.seed == 42
    assert set(auto.rows) == set(KINDS)
    assert auto.rows["customers"] == N
    assert 150 <= auto.rows["products"] <= 260


def test_row_counts_match_the_files(auto: DemoSummary, data: dict[str, pl.DataFrame]) -> None:
    for kind in KINDS:
        assert data[kind].height == auto.rows[kind], kind
    assert auto.rows["orders"] > 5 * N
    assert auto.rows["interactions"] > 2 * N
    assert auto.rows["feedback"] > 0.1 * N
    assert auto.rows["referrals"] > 0.01 * N
    assert auto.rows["leads"] > 0.1 * N


def test_headers_by_language(auto: DemoSummary) -> None:
    orders_header = auto.paths["orders"].read_text("utf-8").splitlines()[0]
    assert orders_header.startswith("Order ID,Line No,Customer ID,Order Date,SKU,")
    headers, _ = _read_rows(auto.paths["customers"])
    assert headers[:3] == ["客户编号", "客户名称", "客户类型"]
    headers, _ = _read_rows(auto.paths["interactions"])
    assert headers[0] == "互动编号"


def test_interactions_file_is_gb18030_not_utf8(auto: DemoSummary) -> None:
    raw = auto.paths["interactions"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert raw.decode("gbk") == text  # plain GBK, as Excel on Chinese Windows writes it
    assert "客户编号" in text.splitlines()[0]
    assert "\r\n" in text  # Windows line ends


def test_feedback_is_utf8_with_bom_and_bilingual(
    auto: DemoSummary, data: dict[str, pl.DataFrame]
) -> None:
    assert auto.paths["feedback"].read_bytes().startswith(b"\xef\xbb\xbf")
    texts = data["feedback"]["text"].drop_nulls()
    assert texts.str.contains(r"[\u4e00-\u9fff]").any()
    assert texts.str.contains(r"^[A-Za-z][A-Za-z ,.!'-]+$").any()


def test_deterministic_bytes(auto: DemoSummary, tmp_path: Path) -> None:
    again = generate(customers=N, out=tmp_path / "again", seed=42)
    other = generate(customers=N, out=tmp_path / "other", seed=7)
    for kind in KINDS:
        assert again.paths[kind].read_bytes() == auto.paths[kind].read_bytes(), kind
    assert other.paths["orders"].read_bytes() != auto.paths["orders"].read_bytes()
    assert other.paths["customers"].read_bytes() != auto.paths["customers"].read_bytes()


def test_parquet_is_deterministic_and_typed(parquet: DemoSummary, tmp_path: Path) -> None:
    again = generate(customers=N, out=tmp_path, seed=42, fmt="parquet")
    for kind in KINDS:
        assert parquet.paths[kind].suffix == ".parquet"
        assert again.paths[kind].read_bytes() == parquet.paths[kind].read_bytes(), kind
    orders = pq.read_schema(parquet.paths["orders"])
    assert orders.field("ordered_at").type == pa.timestamp("ms")
    assert orders.field("amount").type == pa.float64()
    assert orders.field("quantity").type == pa.int64()
    customers = pq.read_schema(parquet.paths["customers"])
    assert customers.field("birthday").type == pa.date32()
    assert customers.field("tags").type == pa.list_(pa.string())
    assert pq.read_schema(parquet.paths["referrals"]).field("converted").type == pa.bool_()
    assert pq.read_schema(parquet.paths["leads"]).field("intent_signals").type == pa.list_(
        pa.string()
    )


def test_same_data_in_every_format(parquet: DemoSummary, data: dict[str, pl.DataFrame]) -> None:
    from_parquet = load(parquet)
    for kind in ("orders", "customers", "interactions"):
        assert from_parquet[kind].height == data[kind].height
    key = ["order_id", "product_id"]
    a = from_parquet["orders"].sort(key).select("order_id", "product_id", "amount", "status")
    b = data["orders"].sort(key).select("order_id", "product_id", "amount", "status")
    assert a.equals(b)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_other_formats_are_readable(fmt: str, tmp_path: Path) -> None:
    summary = generate(customers=250, out=tmp_path, seed=1, fmt=fmt)  # type: ignore[arg-type]
    for kind in KINDS:
        assert summary.paths[kind].suffix == f".{fmt}"
        assert read_canonical(summary.paths[kind], kind).height == summary.rows[kind]


@pytest.mark.parametrize("fmt", ["auto", "parquet"])
def test_tiny_data_sets_still_have_every_file(fmt: str, tmp_path: Path) -> None:
    summary = generate(customers=1, out=tmp_path, fmt=fmt)  # type: ignore[arg-type]
    for kind in KINDS:
        assert read_canonical(summary.paths[kind], kind).height == summary.rows[kind]
    assert summary.rows["customers"] == 1


def test_rerun_in_another_format_replaces_the_files(tmp_path: Path) -> None:
    generate(customers=300, out=tmp_path, fmt="csv")
    summary = generate(customers=300, out=tmp_path, fmt="parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in summary.paths.values()
    )


def test_progress_reports_every_kind(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate(
        customers=500,
        out=tmp_path,
        progress=lambda kind, done, total: calls.append((kind, done, total)),
    )
    assert {c[0] for c in calls} == set(KINDS)
    for kind in KINDS:
        last = [c for c in calls if c[0] == kind][-1]
        assert last[1] == last[2] > 0


def test_an_interrupted_run_leaves_no_partial_files(tmp_path: Path) -> None:
    def stop(kind: str, done: int, total: int) -> None:
        if kind == "orders":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(customers=300, out=tmp_path, progress=stop)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0}, "customers must be"),
        ({"fmt": "json"}, "fmt must be"),
        ({"customers": 60_000, "fmt": "xlsx"}, "Excel sheet"),
        ({"start": date(2026, 1, 1), "end": date(2025, 1, 1)}, "end must be"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        generate(out=tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


# --- keys and references --------------------------------------------------------------------------


def test_keys_are_unique(data: dict[str, pl.DataFrame]) -> None:
    assert data["customers"]["customer_id"].is_unique().all()
    assert data["products"]["product_id"].is_unique().all()
    orders = data["orders"]
    assert orders.select("order_id", "product_id").is_unique().all()
    assert orders.select("order_id", "line_id").is_unique().all()
    for kind, key in (
        ("interactions", "interaction_id"),
        ("feedback", "feedback_id"),
        ("leads", "lead_id"),
    ):
        assert data[kind][key].is_unique().all(), kind
    assert data["referrals"].select("referrer_id", "referred_id").is_unique().all()


def test_references_exist(data: dict[str, pl.DataFrame]) -> None:
    customers = set(data["customers"]["customer_id"])
    for kind in ("orders", "interactions", "feedback", "leads"):
        refs = set(data[kind]["customer_id"].drop_nulls())
        assert refs <= customers, kind
    assert (
        set(data["referrals"]["referrer_id"]) | set(data["referrals"]["referred_id"]) <= customers
    )
    assert set(data["orders"]["product_id"]) <= set(data["products"]["product_id"])
    assert data["leads"]["customer_id"].null_count() > 0  # pure prospects


# --- times ----------------------------------------------------------------------------------------


def _in_range(s: pl.Series) -> bool:
    return bool(s.min() >= datetime(2023, 11, 1)) and bool(s.max() < datetime(2026, 11, 1))  # type: ignore[operator]


def test_events_inside_the_range_and_after_creation(data: dict[str, pl.DataFrame]) -> None:
    created = data["customers"].select("customer_id", "created_at")
    for kind, column in (
        ("orders", "ordered_at"),
        ("interactions", "occurred_at"),
        ("feedback", "received_at"),
    ):
        frame = data[kind].join(created, on="customer_id")
        assert _in_range(frame[column]), kind
        # text files round to the minute
        slack = timedelta(minutes=1)
        assert (frame[column] >= frame["created_at"] - slack).all(), kind
    assert data["customers"]["created_at"].max() < datetime(2026, 11, 1)  # type: ignore[operator]
    fb = data["feedback"].filter(pl.col("resolved_at").is_not_null())
    assert (fb["resolved_at"] >= fb["received_at"]).all()


def test_referred_customers_came_after_their_referrer(data: dict[str, pl.DataFrame]) -> None:
    created = data["customers"].select("customer_id", "created_at", "source")
    refs = (
        data["referrals"]
        .join(
            created.rename({"customer_id": "referrer_id", "created_at": "a", "source": "sa"}),
            on="referrer_id",
        )
        .join(
            created.rename({"customer_id": "referred_id", "created_at": "b", "source": "sb"}),
            on="referred_id",
        )
    )
    assert (refs["b"] > refs["a"]).all()
    assert refs["converted"].any() and not refs["converted"].all()
    buyers = set(data["orders"].filter(pl.col("status") == "paid")["customer_id"])
    assert (refs["converted"] == refs["referred_id"].is_in(list(buyers))).all()
    assert (refs["sb"] == "老客推荐").mean() > 0.8  # type: ignore[operator]


# --- money ----------------------------------------------------------------------------------------


def test_amounts_prices_and_margins(data: dict[str, pl.DataFrame]) -> None:
    o = data["orders"]
    assert (o.filter(pl.col("status") != "refunded")["amount"] > 0).all()
    assert (o["quantity"] != 0).all()
    assert ((o["unit_price"] * o["quantity"] - o["amount"]).abs() < 0.011).all()
    paid = o.filter(pl.col("status") == "paid")
    margin = 1 - paid["cost"] / paid["amount"]
    assert margin.min() >= 0.15 - 1e-3 and margin.max() <= 0.45 + 1e-3  # type: ignore[operator]
    orders = o.group_by("order_id").agg(
        pl.col("status").first(), (pl.col("amount") < 0).any().alias("neg")
    )
    refunded = (orders["status"] == "refunded").mean()
    cancelled = (orders["status"] == "cancelled").mean()
    assert 0.015 < refunded < 0.06  # type: ignore[operator]
    assert 0.004 < cancelled < 0.02  # type: ignore[operator]
    assert orders["neg"].any()  # returns as negative lines
    assert (o.group_by("order_id").len()["len"] > 1).mean() > 0.05  # type: ignore[operator]


def test_b2b_orders_are_fewer_and_bigger(orders_by_customer: pl.DataFrame) -> None:
    by_kind = orders_by_customer.group_by("kind").agg(
        pl.col("value").mean().alias("aov"),
        (pl.len() / pl.col("customer_id").n_unique()).alias("freq"),
    )
    aov = dict(zip(by_kind["kind"], by_kind["aov"], strict=True))
    freq = dict(zip(by_kind["kind"], by_kind["freq"], strict=True))
    assert aov["company"] > 5 * aov["person"]
    assert freq["company"] < freq["person"]


def test_about_ten_orders_per_customer(auto: DemoSummary, data: dict[str, pl.DataFrame]) -> None:
    per_customer = data["orders"]["order_id"].n_unique() / auto.rows["customers"]
    assert 6.5 < per_customer < 13
    buyers = data["orders"]["customer_id"].n_unique()
    assert 0.7 < buyers / N < 0.95  # prospects never ordered


# --- behaviour the models should find ------------------------------------------------------------


def test_seasonality(orders_by_customer: pl.DataFrame) -> None:
    days = orders_by_customer.with_columns(day=pl.col("ordered_at").dt.date()).group_by("day").len()
    average = float(days["len"].sum()) / ((END - START).days + 1)
    november = days.filter(pl.col("day").dt.month() == 11)
    assert float(november["len"].sum()) / 90 > 1.05 * average
    double11 = days.filter((pl.col("day").dt.month() == 11) & (pl.col("day").dt.day() == 11))
    assert double11["len"].min() > 3 * average  # type: ignore[operator]
    cny_week = days.filter(pl.col("day").is_between(date(2025, 1, 29), date(2025, 2, 4)))
    assert float(cny_week["len"].sum()) / 7 < 0.8 * average


def test_some_customers_stop_buying(orders_by_customer: pl.DataFrame) -> None:
    first_year_end = datetime(2024, 11, 1)
    last_year = datetime(2025, 11, 1)
    per = orders_by_customer.group_by("customer_id").agg(
        pl.col("ordered_at").min().alias("first"), pl.col("ordered_at").max().alias("last")
    )
    early = per.filter(pl.col("first") < first_year_end)
    stopped = (early["last"] < last_year).mean()
    assert 0.15 < stopped < 0.8  # type: ignore[operator]


def test_unhappy_customers_leave_more_often(
    data: dict[str, pl.DataFrame], orders_by_customer: pl.DataFrame
) -> None:
    fb = data["feedback"]
    unhappy = set(
        fb.filter((pl.col("kind") == "complaint") | (pl.col("score") <= 2))["customer_id"]
    )
    per = (
        orders_by_customer.group_by("customer_id")
        .agg(pl.col("ordered_at").min().alias("first"), pl.col("ordered_at").max().alias("last"))
        .filter(pl.col("first") < datetime(2025, 5, 1))
    )
    per = per.with_columns(
        gone=pl.col("last") < datetime(2026, 5, 1),
        unhappy=pl.col("customer_id").is_in(list(unhappy)),
    )
    rate = per.group_by("unhappy").agg(pl.col("gone").mean())
    gone = dict(zip(rate["unhappy"], rate["gone"], strict=True))
    assert gone[True] > gone[False] + 0.05


def test_high_value_customers_are_contacted_more(
    data: dict[str, pl.DataFrame], orders_by_customer: pl.DataFrame
) -> None:
    spend = orders_by_customer.group_by("customer_id").agg(
        pl.col("value").sum(), pl.col("kind").first()
    )
    contacts = data["interactions"].group_by("customer_id").len()
    joined = (
        spend.join(contacts, on="customer_id", how="left")
        .fill_null(0)
        .filter(pl.col("kind") == "company")
    )
    top = joined.filter(pl.col("value") >= joined["value"].quantile(0.8))["len"].mean()
    bottom = joined.filter(pl.col("value") <= joined["value"].quantile(0.2))["len"].mean()
    assert top > bottom  # type: ignore[operator]
    with_kind = data["interactions"].join(
        data["customers"].select("customer_id", pl.col("kind").alias("customer_kind")),
        on="customer_id",
    )
    visits = with_kind.filter(pl.col("kind").is_in(["visit", "meeting"]))
    assert visits.height > 0 and set(visits["customer_kind"]) == {"company"}
    share = with_kind.group_by("customer_kind").agg(
        pl.col("kind").is_in(["call", "visit", "meeting"]).mean()
    )
    calls = dict(zip(share["customer_kind"], share["kind"], strict=True))
    assert calls["company"] > 2 * calls["person"]


# --- the customers table --------------------------------------------------------------------------


def test_customer_mix_and_quality_issues(data: dict[str, pl.DataFrame]) -> None:
    c = data["customers"]
    assert 0.25 < (c["kind"] == "company").mean() < 0.35  # type: ignore[operator]
    names = c["name"]
    assert (
        names.str.contains(r"有限公司").any() and names.str.contains(r"\b(Ltd|Inc|LLC|GmbH)").any()
    )
    assert names.str.contains(r"^[A-Z][a-z]+ [A-Z][a-z]+$").any()  # John Smith
    assert names.str.contains("\u3000").any() or names.str.contains(r"[Ａ-Ｚａ-ｚ]").any()
    assert (names != names.str.strip_chars()).any()  # stray spaces
    phones = c["phone"].drop_nulls()
    assert phones.str.contains(r"^1[3-9]\d{9}$").mean() > 0.7  # type: ignore[operator]
    assert phones.str.contains(r"^\+86 1\d{2}-\d{4}-\d{4}$").any()
    assert phones.str.contains(r"^\+(1|44|49|81|65|61) ").any()
    emails = c["email"].drop_nulls()
    assert (emails == emails.str.to_uppercase()).any()
    assert 0.05 < c["email"].null_count() / c.height < 0.5
    assert (c["country"] == "中国").mean() > 0.85  # type: ignore[operator]
    persons = c.filter(pl.col("kind") == "person")
    assert persons["gender"].drop_nulls().is_in(["male", "female", "unknown"]).all()
    ages = (
        datetime(2026, 10, 31) - persons["birthday"].drop_nulls().cast(pl.Datetime)
    ).dt.total_days() / 365.25
    assert ages.min() >= 17.9 and ages.max() <= 80 and 28 < ages.median() < 45  # type: ignore[operator]
    companies = c.filter(pl.col("kind") == "company")
    assert companies["industry"].null_count() < companies.height * 0.2
    assert companies["birthday"].null_count() == companies.height


def test_provinces_match_countries(data: dict[str, pl.DataFrame]) -> None:
    c = data["customers"]
    us = c.filter(pl.col("country") == "美国")
    assert (
        us["province"]
        .drop_nulls()
        .is_in(["California", "New York", "Texas", "Washington", "Illinois"])
        .all()
    )
    cn = c.filter(pl.col("country") == "中国")
    pairs = set(
        zip(
            cn["province"].drop_nulls().str.strip_suffix("省"),
            cn["city"].drop_nulls().str.strip_suffix("市"),
            strict=False,
        )
    )
    assert ("广东", "深圳") in pairs or ("浙江", "杭州") in pairs


def _digits(s: pl.Expr) -> pl.Expr:
    full = [chr(0xFF10 + d) for d in range(10)]
    return (
        s.str.replace_many(full, [str(d) for d in range(10)])
        .str.replace_all(r"\D", "")
        .str.slice(-11)
    )


def test_about_one_percent_duplicates(data: dict[str, pl.DataFrame]) -> None:
    c = data["customers"].with_columns(
        digits=_digits(pl.col("phone")), mail=pl.col("email").str.strip_chars().str.to_lowercase()
    )
    dup_phone = c.filter(pl.col("digits").is_not_null() & pl.col("digits").is_duplicated())
    dup_mail = c.filter(pl.col("mail").is_not_null() & pl.col("mail").is_duplicated())
    dups = set(dup_phone["customer_id"]) | set(dup_mail["customer_id"])
    assert 0.01 < len(dups) / c.height < 0.04  # each duplicate pair counts twice


# --- feedback and leads ---------------------------------------------------------------------------


def test_feedback_shapes(data: dict[str, pl.DataFrame]) -> None:
    fb = data["feedback"]
    assert set(fb["kind"]) >= {"review", "nps", "complaint", "survey"}
    nps = fb.filter(pl.col("kind") == "nps")["score"]
    assert nps.min() >= 0 and nps.max() <= 10  # type: ignore[operator]
    reviews = fb.filter(pl.col("kind") == "review")["score"]
    assert reviews.min() >= 1 and reviews.max() <= 5  # type: ignore[operator]
    complaints = fb.filter(pl.col("kind") == "complaint")
    assert complaints["category"].null_count() == 0
    assert set(complaints["status"]) >= {"resolved"}
    resolved = complaints.filter(pl.col("status") == "resolved")
    assert resolved["resolved_at"].null_count() == 0
    assert (
        complaints.filter(pl.col("status") != "resolved")["resolved_at"].null_count()
        == complaints.filter(pl.col("status") != "resolved").height
    )
    assert fb.filter(pl.col("text").str.contains("物流")).height > 0


def test_leads_pipeline(data: dict[str, pl.DataFrame]) -> None:
    leads = data["leads"]
    assert set(leads["outcome"]) == {"won", "lost", "open"}
    assert set(leads["stage"]) <= {"线索", "初步接触", "需求确认", "报价", "谈判", "赢单", "输单"}
    decided = leads["decided_at"].is_not_null()
    assert (decided == (leads["outcome"] != "open")).all()
    closed = leads.filter(decided)
    assert (closed["decided_at"] >= closed["created_at"]).all()
    assert leads.filter(pl.col("outcome") == "lost")["lost_reason"].null_count() == 0
    signals = leads["intent_signals"].explode().drop_nulls()
    assert signals.is_in(["索要报价", "预约演示", "询价"]).any()
    won = leads.filter(pl.col("outcome") == "won")["intent_signals"].list.len().mean()
    lost = leads.filter(pl.col("outcome") == "lost")["intent_signals"].list.len().mean()
    assert won > lost  # type: ignore[operator]
    needs = leads["needs"].explode().drop_nulls()
    zh, en = (
        ["价格敏感", "功能导向", "重视售后"],
        ["price-sensitive", "feature-focused", "service-focused"],
    )
    assert needs.is_in(zh + en).all() and needs.is_in(zh).mean() > 0.8  # type: ignore[operator]


# --- scale ----------------------------------------------------------------------------------------


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from tierwise.demo import generate
    t = time.perf_counter()
    s = generate(customers=int(sys.argv[1]), out=Path(sys.argv[2]), fmt="parquet")
    print(json.dumps({"seconds": time.perf_counter() - t, "orders": s.rows["orders"],
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)


def _measure(customers: int, out: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(customers), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_scales_to_100k_customers_in_parquet(tmp_path: Path) -> None:
    small = _measure(20_000, tmp_path / "small")
    big = _measure(100_000, tmp_path / "big")
    assert 4.0 < big["orders"] / small["orders"] < 6.0
    # time grows linearly (generous for a noisy shared machine), memory stays bounded
    assert big["seconds"] < 10 * small["seconds"] + 5
    assert big["seconds"] < 120
    assert big["rss_mb"] < 2500
    assert big["rss_mb"] < 5 * small["rss_mb"]
