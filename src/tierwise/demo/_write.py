"""How each table is written: container, encoding, header language, value language.

Frames arrive in canonical form (canonical column names, canonical enum values, English vocab
for stages, intent signals and needs). Parquet keeps them so, with typed columns derived from
``ingest._schema``. CSV and XLSX files look like real exports instead: headers and enum values
in the file's language, lists joined with commas, Excel-style dates in the GBK file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from tierwise.demo import _vocab as V
from tierwise.ingest._schema import TABLES, FieldType, Kind

Container = Literal["csv", "xlsx", "parquet"]
Lang = Literal["zh", "en"]

XLSX_MAX_ROWS = 1_048_575  # data rows below the header


@dataclass(frozen=True)
class Layout:
    container: Container
    lang: Lang
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" (BOM) or "gb18030"
    newline: str = "\n"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"


# the realistic mix of the small demo ("auto" below the Parquet threshold)
AUTO_LAYOUT: dict[Kind, Layout] = {
    "customers": Layout("xlsx", "zh"),
    "orders": Layout("csv", "en"),
    "interactions": Layout("csv", "zh", "gb18030", "\r\n", "%Y/%-m/%-d %H:%M"),
    "feedback": Layout("csv", "en", "utf-8-sig", "\r\n", "%Y-%m-%d %H:%M"),
    "referrals": Layout("csv", "zh", "utf-8-sig", "\r\n", "%Y-%m-%d"),
    "leads": Layout("xlsx", "zh"),
    "products": Layout("csv", "en"),
}

HEADERS: dict[Kind, dict[str, str]] = {
    "customers": {
        "customer_id": "客户编号",
        "name": "客户名称",
        "kind": "客户类型",
        "phone": "手机",
        "email": "邮箱",
        "gender": "性别",
        "birthday": "生日",
        "occupation": "职业",
        "education": "学历",
        "income_band": "收入水平",
        "industry": "行业",
        "company_size": "企业规模",
        "country": "国家/地区",
        "province": "省份",
        "city": "城市",
        "source": "客户来源",
        "owner": "负责人",
        "created_at": "创建时间",
        "tags": "标签",
    },
    "orders": {
        "order_id": "Order ID",
        "line_id": "Line No",
        "customer_id": "Customer ID",
        "ordered_at": "Order Date",
        "product_id": "SKU",
        "product_name": "Product Name",
        "category": "Category",
        "quantity": "Quantity",
        "unit_price": "Unit Price",
        "amount": "Amount",
        "cost": "Cost",
        "discount": "Discount",
        "currency": "Currency",
        "channel": "Channel",
        "status": "Status",
    },
    "interactions": {
        "interaction_id": "互动编号",
        "customer_id": "客户编号",
        "occurred_at": "互动时间",
        "kind": "互动类型",
        "direction": "方向",
        "by_user": "跟进人",
        "duration_min": "时长(分钟)",
        "note": "备注",
    },
    "feedback": {
        "feedback_id": "Ticket ID",
        "customer_id": "Customer ID",
        "received_at": "Submitted At",
        "kind": "Feedback Type",
        "score": "Rating",
        "text": "Comment",
        "category": "Category",
        "status": "Status",
        "resolved_at": "Resolved At",
    },
    "referrals": {
        "referrer_id": "推荐人编号",
        "referred_id": "被推荐客户编号",
        "referred_at": "推荐日期",
        "converted": "是否转化",
    },
    "leads": {
        "lead_id": "线索编号",
        "customer_id": "客户编号",
        "created_at": "创建时间",
        "stage": "销售阶段",
        "source": "线索来源",
        "expected_value": "预计金额",
        "intent_signals": "意向信号",
        "needs": "需求标签",
        "decided_at": "决策时间",
        "outcome": "结果",
        "lost_reason": "丢单原因",
    },
    "products": {
        "product_id": "SKU",
        "name": "Product Name",
        "category": "Category",
        "price": "List Price",
        "cost": "Unit Cost",
    },
}

# canonical enum value -> value as written in the text files
DISPLAY: dict[tuple[Kind, str], dict[str, str]] = {
    ("customers", "kind"): {"person": "个人", "company": "企业"},
    ("customers", "gender"): {"male": "男", "female": "女", "unknown": "保密", "other": "其他"},
    ("orders", "status"): {"paid": "Completed", "refunded": "Refunded", "cancelled": "Cancelled"},
    ("interactions", "kind"): {
        "call": "电话",
        "visit": "拜访",
        "meeting": "会议",
        "email": "邮件",
        "wechat": "微信",
        "sms": "短信",
        "web_visit": "访问官网",
        "page_view": "页面浏览",
        "click": "点击",
        "email_open": "邮件打开",
    },
    ("interactions", "direction"): {"in": "客户发起", "out": "我方发起"},
    ("feedback", "kind"): {
        "review": "Review",
        "nps": "NPS",
        "survey": "Survey",
        "complaint": "Complaint",
        "suggestion": "Suggestion",
    },
    ("feedback", "status"): {"open": "Open", "in_progress": "In Progress", "resolved": "Resolved"},
    ("leads", "outcome"): {"won": "赢单", "lost": "输单", "open": "跟进中"},
    ("leads", "stage"): dict(zip(V.STAGES_EN, V.STAGES_ZH, strict=True)),
}
_LIST_ZH: dict[str, dict[str, str]] = {
    "intent_signals": dict(zip(V.INTENT_EN, V.INTENT_ZH, strict=True)),
    "needs": dict(zip(V.NEEDS_EN, V.NEEDS_ZH, strict=True)),
}
# whole numbers stored as "number" in Parquet, written without decimals in text files
_WHOLE = {("interactions", "duration_min"), ("feedback", "score")}

_ARROW: dict[FieldType, pa.DataType] = {
    "key": pa.string(),
    "text": pa.string(),
    "phone": pa.string(),
    "email": pa.string(),
    "enum": pa.string(),
    "number": pa.float64(),
    "int": pa.int64(),
    "datetime": pa.timestamp("ms"),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "list": pa.list_(pa.string()),
}


def arrow_schema(kind: Kind, columns: list[str]) -> pa.Schema:
    spec = TABLES[kind]
    types = {f.name: _ARROW[f.type] for f in spec.fields}
    types["quantity"] = pa.int64()  # counted units; the schema's "number" also allows decimals
    return pa.schema([pa.field(c, types[c]) for c in columns])


def localise(kind: Kind, frame: pl.DataFrame, lang: Lang) -> pl.DataFrame:
    """Canonical frame → the columns and values of a text export in ``lang``."""
    exprs: list[pl.Expr] = []
    foreign = pl.col("_foreign") if "_foreign" in frame.columns else pl.lit(False)
    for name in frame.columns:
        if name.startswith("_"):
            continue
        col = pl.col(name)
        display = DISPLAY.get((kind, name))
        if display is not None:
            col = col.replace(display)
        elif name in _LIST_ZH and lang == "zh":
            zh = col.list.eval(pl.element().replace_strict(_LIST_ZH[name], default=pl.element()))
            col = pl.when(foreign).then(col).otherwise(zh)
        if (kind, name) in _WHOLE:
            col = col.cast(pl.Int64)
        if frame.schema[name] == pl.List(pl.String):
            col = pl.when(col.list.len() > 0).then(col.list.join(","))
        if kind == "referrals" and name == "converted":
            col = (
                pl.when(col)
                .then(pl.lit("是" if lang == "zh" else "yes"))
                .otherwise(pl.lit("否" if lang == "zh" else "no"))
            )
        exprs.append(col.alias(HEADERS[kind][name]))
    return frame.select(exprs)


class Sink(Protocol):
    rows: int

    def write(self, frame: pl.DataFrame) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class _FileSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.rows = 0

    def _finish(self) -> None:
        self.part.replace(self.path)

    def abort(self) -> None:
        self.part.unlink(missing_ok=True)


class ParquetSink(_FileSink):
    def __init__(self, path: Path, kind: Kind) -> None:
        super().__init__(path)
        self.kind = kind
        self.writer: pq.ParquetWriter | None = None

    def write(self, frame: pl.DataFrame) -> None:
        frame = frame.select([c for c in frame.columns if not c.startswith("_")])
        schema = arrow_schema(self.kind, frame.columns)
        table = frame.to_arrow().cast(schema)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.part, schema, compression="zstd")
        self.writer.write_table(table)
        self.rows += frame.height

    def close(self) -> None:
        if self.writer is None:
            empty = pa.schema([pa.field(f.name, _ARROW[f.type]) for f in TABLES[self.kind].fields])
            self.writer = pq.ParquetWriter(self.part, empty, compression="zstd")
        self.writer.close()
        self._finish()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        super().abort()


class CsvSink(_FileSink):
    def __init__(self, path: Path, kind: Kind, layout: Layout) -> None:
        super().__init__(path)
        self.kind, self.layout = kind, layout
        self.file = self.part.open("wb")
        if layout.encoding == "utf-8-sig":
            self.file.write(b"\xef\xbb\xbf")
        self.header_done = False

    def write(self, frame: pl.DataFrame) -> None:
        text = localise(self.kind, frame, self.layout.lang)
        buf = io.BytesIO()
        text.write_csv(
            buf,
            include_header=not self.header_done,
            line_terminator=self.layout.newline,
            datetime_format=self.layout.datetime_format,
            date_format="%Y-%m-%d",
            float_precision=2,
        )
        data = buf.getvalue()
        if self.layout.encoding == "gb18030":
            data = data.decode("utf-8").encode("gb18030")
        self.file.write(data)
        self.header_done = True
        self.rows += frame.height

    def close(self) -> None:
        if not self.header_done:
            self.file.write(
                self.layout.newline.join([",".join(HEADERS[self.kind].values()), ""]).encode(
                    "gb18030" if self.layout.encoding == "gb18030" else "utf-8"
                )
            )
        self.file.close()
        self._finish()

    def abort(self) -> None:
        self.file.close()
        super().abort()


_EXCEL_EPOCH_DAYS = 25569.0  # 1970-01-01 as an Excel serial date


class XlsxSink(_FileSink):
    """Row by row into a constant-memory workbook with fixed metadata (byte-stable output)."""

    def __init__(self, path: Path, kind: Kind, layout: Layout, sheet: str) -> None:
        super().__init__(path)
        self.kind, self.layout = kind, layout
        self.book = xlsxwriter.Workbook(
            str(self.part),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self.book.set_properties(
            {
                "created": datetime(2024, 1, 1),
                "author": "Tierwise demo",
                "title": TABLES[kind].label_zh,
            }
        )
        self.sheet = self.book.add_worksheet(sheet)
        self.fmt_dt = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.fmt_date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.fmt_head = self.book.add_format({"bold": True})
        self.row = 0

    def _header(self, columns: list[str]) -> None:
        for j, name in enumerate(columns):
            self.sheet.write_string(0, j, name, self.fmt_head)
            self.sheet.set_column(j, j, max(10, 2 * len(name) + 2))
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def write(self, frame: pl.DataFrame) -> None:
        text = localise(self.kind, frame, self.layout.lang)
        if self.row == 0:
            self._header(text.columns)
        if self.row - 1 + text.height > XLSX_MAX_ROWS:
            raise OverflowError(
                f"{self.path.name}: more than {XLSX_MAX_ROWS:,} rows do not fit in one sheet"
            )
        formats: list[Any] = []
        exprs: list[pl.Expr] = []
        for name, dtype in text.schema.items():
            col = pl.col(name)
            if dtype == pl.Datetime("ms"):
                exprs.append(col.dt.epoch("ms") / 86_400_000.0 + _EXCEL_EPOCH_DAYS)
                formats.append(self.fmt_dt)
            elif dtype == pl.Date:
                exprs.append(col.cast(pl.Int32).cast(pl.Float64) + _EXCEL_EPOCH_DAYS)
                formats.append(self.fmt_date)
            else:
                exprs.append(col)
                formats.append(None)
        cells = text.select(exprs)
        ws = self.sheet
        write_string, write_number = ws.write_string, ws.write_number
        row = self.row
        for values in cells.iter_rows():
            for j, v in enumerate(values):
                if v is None:
                    continue
                if isinstance(v, str):
                    write_string(row, j, v)
                elif formats[j] is None:
                    write_number(row, j, v)
                else:
                    write_number(row, j, v, formats[j])
            row += 1
        self.row = row
        self.rows += frame.height

    def close(self) -> None:
        if self.row == 0:
            self._header(list(HEADERS[self.kind].values()))
        self.book.close()
        self._finish()

    def abort(self) -> None:
        try:
            self.book.close()
        finally:
            super().abort()


def open_sink(out: Path, kind: Kind, layout: Layout) -> Sink:
    path = out / f"{kind}.{layout.container}"
    if layout.container == "parquet":
        return ParquetSink(path, kind)
    if layout.container == "csv":
        return CsvSink(path, kind, layout)
    sheet = TABLES[kind].label_zh.replace("/", "与") if layout.lang == "zh" else kind.capitalize()
    return XlsxSink(path, kind, layout, sheet)
