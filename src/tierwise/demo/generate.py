"""Generate a realistic, bilingual demo data set: the seven canonical tables of PRODUCT.md §1.

The data is statistically sensible for everything downstream: purchases follow a BG/NBD-style
process (heterogeneous rates, dropout after purchases, unhappy customers leave sooner), spend per
order is heterogeneous per customer, B2B buys less often but much more, orders peak at 双十一 and
618 and before 春节 and dip in the holiday week; contacts, feedback, referrals and leads are drawn
from the same latent traits so that the tables agree with each other.

Generation is vectorised (numpy, polars) and runs in chunks of 100,000 customers, so a million
customers and ~10 million order lines stay within a couple of GB of memory. The same seed, size
and dates give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from tierwise.demo._activity import feedback_frame, interactions_frame
from tierwise.demo._calendar import build_calendar
from tierwise.demo._catalog import build_catalog, sku_count
from tierwise.demo._common import STREAM_CATALOG, Ctx, rng_for
from tierwise.demo._customers import customer_frame
from tierwise.demo._latent import latent
from tierwise.demo._leads import leads_frame, referrals_frame
from tierwise.demo._orders import simulate_orders
from tierwise.demo._write import AUTO_LAYOUT, Layout, Sink, open_sink
from tierwise.errors import ConfigError
from tierwise.ingest._schema import KINDS, Kind

Format = Literal["auto", "csv", "xlsx", "parquet"]
Progress = Callable[[str, int, int], None]

PARQUET_FROM = 200_000  # "auto" writes everything as Parquet from this many customers on
CHUNK = 100_000  # customers generated (and written) at a time
MAX_CUSTOMERS = 50_000_000  # phone numbers and e-mails stay unique below this
XLSX_MAX_CUSTOMERS = 50_000  # beyond this the orders no longer fit in one Excel sheet
_EXTENSIONS = ("csv", "xlsx", "parquet")


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate` wrote: one file per table kind."""

    paths: dict[Kind, Path]
    rows: dict[Kind, int]
    seed: int


def _layouts(fmt: str, customers: int) -> dict[Kind, Layout]:
    if fmt == "parquet" or (fmt == "auto" and customers >= PARQUET_FROM):
        return {k: Layout("parquet", "en") for k in KINDS}
    if fmt == "auto":
        return dict(AUTO_LAYOUT)
    if fmt == "csv":
        return {
            k: lay if lay.container == "csv" else Layout("csv", lay.lang, "utf-8-sig", "\r\n")
            for k, lay in AUTO_LAYOUT.items()
        }
    return {k: Layout("xlsx", lay.lang) for k, lay in AUTO_LAYOUT.items()}


def _check(customers: int, fmt: str, start: date, end: date) -> None:
    if (
        isinstance(customers, bool)
        or not isinstance(customers, int)
        or not 1 <= customers <= MAX_CUSTOMERS
    ):
        raise ConfigError(
            f"customers must be a whole number from 1 to {MAX_CUSTOMERS:,} (got {customers!r})."
        )
    if fmt not in ("auto", "csv", "xlsx", "parquet"):
        raise ConfigError(f'fmt must be "auto", "csv", "xlsx" or "parquet" (got {fmt!r}).')
    if fmt == "xlsx" and customers > XLSX_MAX_CUSTOMERS:
        raise ConfigError(
            f"fmt='xlsx' holds at most {XLSX_MAX_CUSTOMERS:,} customers (got {customers:,}): "
            "their order lines would not fit in one Excel sheet. Use fmt='csv' or 'parquet'."
        )
    if not (isinstance(start, date) and isinstance(end, date)) or (end - start).days < 59:
        raise ConfigError(
            f"end must be at least 60 days after start (got start={start}, end={end})."
        )


def generate(
    *,
    customers: int = 3000,
    out: Path,
    seed: int = 42,
    fmt: Format = "auto",
    start: date = date(2023, 11, 1),
    end: date = date(2026, 10, 31),
    progress: Progress | None = None,
) -> DemoSummary:
    """Write ``customers.*``, ``orders.*`` … ``products.*`` for ``customers`` customers into ``out``.

    ``fmt="auto"`` writes a realistic mix below 200,000 customers (customers and leads as XLSX
    with Chinese headers, orders as UTF-8 CSV with English headers, interactions as GB18030 CSV,
    feedback and referrals as CSV with a BOM, products as CSV) and Parquet with canonical
    columns from 200,000 on. ``progress(kind, done, total)`` is called after every chunk, counting
    customers processed.

    >>> summary = generate(customers=500, out=tmp_path)  # doctest: +SKIP
    >>> summary.rows["customers"]  # doctest: +SKIP
    500
    """
    _check(customers, fmt, start, end)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    layouts = _layouts(fmt, customers)
    catalog = build_catalog(rng_for(seed, 0, STREAM_CATALOG), sku_count(customers))
    ctx = Ctx(
        seed=seed,
        total=customers,
        start=start,
        end=end,
        cal=build_calendar(start, end),
        catalog=catalog,
        customer_id_width=max(7, len(str(customers))),
        email_mod=10 ** max(4, len(str(customers)) + 1),
    )
    report = progress or (lambda kind, done, total: None)
    sinks: dict[Kind, Sink] = {}
    closed: dict[Kind, Sink] = {}
    try:
        for kind in KINDS:
            sinks[kind] = open_sink(out, kind, layouts[kind])
        sinks["products"].write(catalog.frame())
        report("products", catalog.size, catalog.size)
        seq = {"orders": 0, "interactions": 0, "feedback": 0, "leads": 0}
        for chunk, g0 in enumerate(range(0, customers, CHUNK)):
            n = min(CHUNK, customers - g0)
            lat = latent(ctx, chunk, g0, n)
            orders = simulate_orders(ctx, lat, chunk, seq["orders"])
            seq["orders"] += orders.cust.shape[0]
            sinks["customers"].write(customer_frame(ctx, lat, orders, chunk))
            report("customers", g0 + n, customers)
            sinks["orders"].write(orders.frame)
            report("orders", g0 + n, customers)
            for kind, make in (
                ("interactions", interactions_frame),
                ("feedback", feedback_frame),
                ("leads", leads_frame),
            ):
                frame = make(ctx, lat, orders, chunk, seq[kind])
                seq[kind] += frame.height
                sinks[kind].write(frame)
                report(kind, g0 + n, customers)
            sinks["referrals"].write(referrals_frame(ctx, lat, orders))
            report("referrals", g0 + n, customers)
            del lat, orders
        for kind in list(sinks):
            sinks[kind].close()
            closed[kind] = sinks.pop(kind)
    except BaseException:
        for sink in sinks.values():  # the ones not closed yet: remove their partial files
            sink.abort()
        raise
    paths = {kind: out / f"{kind}.{layouts[kind].container}" for kind in KINDS}
    for kind in KINDS:  # a previous run in another format would leave a second file per kind
        for ext in _EXTENSIONS:
            if ext != layouts[kind].container:
                (out / f"{kind}.{ext}").unlink(missing_ok=True)
    return DemoSummary(paths=paths, rows={kind: closed[kind].rows for kind in KINDS}, seed=seed)
