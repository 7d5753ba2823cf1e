"""Regenerate the binary, encoded and byte-exact files of the awkward-file corpus.

Run from anywhere: `.venv/bin/python tests/corpus/make_corpus.py`. Deterministic: fixed
dates, no randomness; every .xlsx is re-zipped with fixed timestamps and a fixed
docProps/core.xml so that regenerating gives the same bytes (for the same library versions).
The plain UTF-8 files of the corpus are written by hand and are not touched here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter
from openpyxl.styles import PatternFill

HERE = Path(__file__).resolve().parent
FIXED = dt.datetime(2024, 1, 1, 0, 0, 0)
ZIP_TIME = (2024, 1, 1, 0, 0, 0)

ORDERS_ZH = [
    "订单编号",
    "客户编号",
    "下单时间",
    "订单金额",
    "实付金额",
    "商品编码",
    "品类",
    "订单状态",
]
ORDER_ROWS_ZH = [
    ["SO1101", "CU001", "2024/3/5 14:20", "199.00", "189.00", "P001", "家电", "已完成"],
    ["SO1102", "CU002", "2024/3/6 9:05", "59.90", "59.90", "P003", "食品", "已付款"],
    ["SO1103", "CU003", "2024/3/6 16:40", "12800.00", "12500.00", "P002", "办公用品", "已发货"],
    ["SO1104", "CU004", "2024/3/7 10:00", "398.00", "398.00", "P005", "美妆", "已付款"],
    ["SO1105", "CU005", "2024/3/8 20:15", "59.90", "0.00", "P003", "食品", "已取消"],
    ["SO1106", "CU006", "2024/3/9 11:30", "25600.00", "25000.00", "P002", "办公用品", "已完成"],
    ["SO1107", "CU007", "2024/3/10 8:45", "1299.00", "1199.00", "P006", "数码", "已付款"],
    ["SO1108", "CU008", "2024/3/11 13:00", "2598.00", "2598.00", "P006", "数码", "已退款"],
    ["SO1109", "CU010", "2024/3/12 21:30", "89.00", "79.00", "P004", "服饰", "已完成"],
    ["SO1110", "CU012", "2024/3/13 12:00", "9600.00", "9600.00", "P007", "食品", "已付款"],
]


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    def cell(v: str) -> str:
        if any(c in v for c in (delimiter, '"', "\n", "\r")):
            return '"' + v.replace('"', '""') + '"'
        return v

    return "".join(delimiter.join(cell(v) for v in row) + newline for row in rows)


def normalise_xlsx(data: bytes) -> bytes:
    """Re-zip with fixed timestamps and fixed creation/modification dates."""
    out = io.BytesIO()
    stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode()
                for tag in ("dcterms:created", "dcterms:modified"):
                    text = re.sub(f"(<{tag}[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{stamp}\g<2>", text)
                body = text.encode()
            zi = zipfile.ZipInfo(info.filename, ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def save_openpyxl(wb: openpyxl.Workbook, name: str) -> None:
    wb.properties.creator = "tierwise corpus"
    wb.properties.created = FIXED
    wb.properties.modified = FIXED
    buf = io.BytesIO()
    wb.save(buf)
    write(name, normalise_xlsx(buf.getvalue()))


def customers_sheet_rows() -> list[list[object]]:
    return [
        ["客户编号", "客户名称", "手机", "省份", "行业"],
        ["CU601", "钱多多", 13800136601, "上海", "金融"],
        ["CU602", "孙小美", 13800136602, "浙江", "零售"],
        ["CU603", "阿土伯", 13800136603, "台湾", "农业"],
        ["CU604", "金贝贝", 13800136604, "广东", "教育"],
        ["CU605", "大老千", 13800136605, "澳门", "娱乐"],
    ]


def main() -> None:
    # 08: UTF-8 with BOM, Chinese headers, CRLF (Excel "CSV UTF-8")
    rows08 = [
        ["客户编号", "客户名称", "手机", "邮箱", "省份", "城市", "行业"],
        ["CU701", "林晓", "13811117701", "linxiao@example.com", "福建", "福州", "教育"],
        ["CU702", "郭靖", "13811117702", "guojing@example.com", "内蒙古", "呼和浩特", "畜牧业"],
        ["CU703", "黄蓉", "13811117703", "", "浙江", "舟山", "渔业"],
        ["CU704", "欧阳锋", "13811117704", "ouyang@example.com", "新疆", "乌鲁木齐", "医药"],
        ["CU705", "洪七公", "13811117705", "hong7@example.com", "江苏", "扬州", "餐饮"],
        ["CU706", "周伯通", "13811117706", "zhoubt@example.com", "浙江", "温州", ""],
        ["CU707", "段誉", "13811117707", "duanyu@example.com", "云南", "大理", "旅游"],
        ["CU708", "王语嫣", "13811117708", "wangyy@example.com", "江苏", "苏州", "文化"],
    ]
    write("08_customers_utf8_bom_chinese_headers.csv", csv_text(rows08).encode("utf-8-sig"))

    # 09: GBK (what Excel "CSV (逗号分隔)" writes on a Chinese Windows)
    write("09_orders_gbk_chinese_headers.csv", csv_text([ORDERS_ZH, *ORDER_ROWS_ZH]).encode("gbk"))

    # 10: GB18030 with characters outside GBK (U+20000 𠀀, U+3400 㐀, U+4DB5 䶵)
    rows10 = [
        ["客户编号", "客户名称", "手机", "省份"],
        ["CU801", "王𠀀", "13811118801", "广东"],
        ["CU802", "陈㐀明", "13811118802", "广东"],
        ["CU803", "李䶵", "13811118803", "福建"],
        ["CU804", "张三", "13811118804", "湖南"],
        ["CU805", "赵𠀁华", "13811118805", "江西"],
        ["CU806", "刘一", "13811118806", "湖北"],
    ]
    write("10_customers_gb18030_rare_chars.csv", csv_text(rows10).encode("gb18030"))

    # 11: UTF-16 LE with BOM, tab-delimited (Excel "Unicode Text (*.txt)")
    rows11 = [r[:4] + r[7:] for r in [ORDERS_ZH, *ORDER_ROWS_ZH[:8]]]
    rows11[3][4] = "已发货\t待签收"  # a tab inside a field: quoted by Excel
    write(
        "11_orders_utf16le_bom_tab.txt",
        b"\xff\xfe" + csv_text(rows11, "\t").encode("utf-16-le"),
    )

    # 27: empty file; 29: only blank lines
    write("27_empty.csv", b"")
    write("29_only_blank_lines.csv", b"\r\n\r\n   \r\n\t\r\n\r\n")

    # 30: a real .xlsx named .csv
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    for row in customers_sheet_rows():
        ws.append(row)
    save_openpyxl(wb, "30_customers_xlsx_renamed.csv")

    # 31: two sheets with different columns (customers and orders)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    for row in customers_sheet_rows():
        ws.append(row)
    ws2 = wb.create_sheet("订单")
    ws2.append(["订单编号", "客户编号", "下单时间", "订单金额", "订单状态"])
    for i in range(8):
        when = dt.datetime(2024, 4, 1 + i, 9 + i, 30)
        ws2.append([f"SO12{i + 1:02d}", f"CU60{i % 5 + 1}", when, 100.0 + i * 10.5, "已付款"])
    save_openpyxl(wb, "31_customers_and_orders_two_sheets.xlsx")

    # 32: one sheet per year with the same columns, an empty notes sheet, a blank row,
    # formatted empty rows and columns at the end
    wb = openpyxl.Workbook()
    header = ["order_id", "customer_id", "ordered_at", "amount", "status"]
    fill = PatternFill("solid", fgColor="FFFF00")
    for year, count in ((2023, 5), (2024, 6)):
        ws = wb.active if year == 2023 else wb.create_sheet(str(year))
        ws.title = str(year)
        ws.append(header)
        for i in range(count):
            if year == 2024 and i == 3:
                ws.append([])  # a blank row inside the data
            ws.append(
                [
                    f"SO{year}{i + 1:03d}",
                    f"CU00{i + 1}",
                    dt.date(year, 5, i + 1),
                    50.5 * (i + 1),
                    "paid",
                ]
            )
        if year == 2024:
            for r in range(12, 16):
                for c in range(1, 8):
                    ws.cell(row=r, column=c).fill = fill
    wb.create_sheet("备注")
    save_openpyxl(wb, "32_orders_by_year_sheets.xlsx")

    # 33: phones stored as numbers, real Excel dates and datetimes, ints and floats
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["customer_id", "name", "phone", "birthday", "created_at", "company_size", "tags"])
    ws.append(
        [
            "CU901",
            "Li Lei",
            13800139901,
            dt.date(1990, 1, 31),
            dt.datetime(2023, 5, 1, 9, 30),
            12,
            "vip",
        ]
    )
    ws.append(
        [
            "CU902",
            "Han Meimei",
            13800139902.0,
            dt.date(1992, 2, 29),
            dt.datetime(2023, 5, 2),
            0.5,
            None,
        ]
    )
    ws.append(
        [
            901903,
            "Wang Wu",
            13800139903,
            dt.datetime(1985, 6, 15),
            dt.datetime(2023, 5, 3, 23, 59, 59),
            1e-05,
            True,
        ]
    )
    ws.append(
        ["CU904", "Zhao Liu", "013800139904", None, dt.datetime(2023, 5, 4, 0, 0), 1234.5, False]
    )
    ws.append(
        ["CU905", "Sun Qi", 8613800139905, dt.date(2000, 12, 31), dt.time(8, 15), 3.14159, "a, b"]
    )
    ws["E3"].number_format = "yyyy-mm-dd hh:mm:ss"  # a datetime at midnight shown with its time
    ws["E5"].number_format = "yyyy-mm-dd"  # a date-only cell
    save_openpyxl(wb, "33_customers_numeric_phones_real_dates.xlsx")

    # 34: formulas with cached values (as Excel saves them), an error cell, a total row
    buf = io.BytesIO()
    xw = xlsxwriter.Workbook(buf, {"in_memory": True})
    xw.set_properties({"created": FIXED, "author": "tierwise corpus"})
    sh = xw.add_worksheet("订单")
    sh.write_row(
        0, 0, ["order_id", "customer_id", "ordered_at", "unit_price", "quantity", "amount"]
    )
    items = [(99.5, 2), (59.9, 3), (320.0, 15), (199.0, 1), (89.0, 4), (35.0, 0)]
    date_fmt = xw.add_format({"num_format": "yyyy-mm-dd"})
    for i, (price, qty) in enumerate(items, start=1):
        sh.write_string(i, 0, f"SO94{i:02d}")
        sh.write_string(i, 1, f"CU00{i}")
        sh.write_datetime(i, 2, dt.datetime(2024, 9, i), date_fmt)
        sh.write_number(i, 3, price)
        sh.write_number(i, 4, qty)
        sh.write_formula(i, 5, f"=D{i + 1}*E{i + 1}", None, round(price * qty, 2))
    sh.write_formula(6, 5, "=D7/E7", None, "#DIV/0!")
    total = round(sum(p * q for p, q in items), 2)
    sh.write_string(7, 0, "合计")
    sh.write_formula(7, 5, "=SUM(F2:F7)", None, total)
    xw.close()
    write("34_orders_formulas.xlsx", normalise_xlsx(buf.getvalue()))

    # 36: one field of 200,000 characters (over csv's default 131,072 limit)
    rows36 = [
        ["customer_id", "occurred_at", "kind", "direction", "by_user", "duration_min", "note"],
        ["CU001", "2024-10-01 10:00:00", "call", "outbound", "li.na", "5", "short note"],
        [
            "CU002",
            "2024-10-02 10:00:00",
            "email",
            "inbound",
            "li.na",
            "",
            "pasted mail thread:\n" + "x" * 200_000,
        ],
        [
            "CU003",
            "2024-10-03 10:00:00",
            "visit",
            "outbound",
            "zhao.lei",
            "60",
            "after the long one",
        ],
        ["CU004", "2024-10-04 10:00:00", "wechat", "inbound", "zhao.lei", "2", "ok"],
        ["CU005", "2024-10-05 10:00:00", "call", "outbound", "li.na", "7", "last"],
    ]
    write("36_interactions_huge_field.csv", csv_text(rows36, newline="\n").encode())

    # 38: a trailing empty column on every line, CRLF (Excel exports of formatted sheets)
    rows38 = [
        ["customer_id", "name", "phone", "province", ""],
        ["CU951", "曹操", "13811119951", "河南", ""],
        ["CU952", "刘备", "13811119952", "四川", ""],
        ["CU953", "孙权", "13811119953", "江苏", ""],
        ["CU954", "诸葛亮", "13811119954", "山东", ""],
        ["CU955", "司马懿", "13811119955", "河南", ""],
        ["CU956", "周瑜", "13811119956", "安徽", ""],
    ]
    write("38_customers_trailing_empty_column.csv", csv_text(rows38).encode())

    # 40: the first bytes of an old Excel 97-2003 workbook (OLE2 compound file)
    write("40_old_excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)

    # 42: Parquet with native types
    table = pa.table(
        {
            "order_id": [f"SO95{i:02d}" for i in range(1, 9)],
            "customer_id": [f"CU00{i}" for i in range(1, 9)],
            "ordered_at": [dt.datetime(2024, 11, i, 10, 0) for i in range(1, 9)],
            "amount": [99.5, 59.9, 3200.0, 199.0, 89.0, 6400.0, 35.0, 1299.0],
            "quantity": pa.array([1, 1, 10, 1, 1, 20, 1, 1], type=pa.int64()),
            "paid": [True, True, True, False, True, True, True, True],
        }
    )
    pq.write_table(table, HERE / "42_orders.parquet", row_group_size=3)


if __name__ == "__main__":
    main()
