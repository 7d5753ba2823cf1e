"""The importer end to end on SQLite and PostgreSQL: counts, rules, idempotence, dry run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from tierwise.errors import DataError
from tierwise.ingest import ImportOptions, UserMapping, import_file
from tierwise.store import tables


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _rows(engine: sa.Engine, table: str, *cols: str) -> list[tuple[object, ...]]:
    t = tables.metadata.tables[table]
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(*[t.c[c] for c in cols]).order_by(*[t.c[c] for c in cols])
            )
        ]


CUSTOMERS = """客户编号,客户名称,手机,邮箱,省份,行业,会员等级
C001,张伟,+86 138-0013-8000,ZW@Example.com,浙江,零售,金卡
C002,Acme Ltd,13900139000,,上海,制造,银卡
C003,李娜,138 0013 8000,li@example.com,广东,,
"""

ORDERS = """Order ID,Customer ID,Order Date,单价,数量,Status
O1,C001,2024/3/1,"¥1,234.50",2,已付款
O2,C002,2024年3月5日,100,1,
O3,C009,2024-03-07 10:00,50,-1,
O4,C001,03/04/2024,10,1,
O5,C001,2024-02-30,10,1,
O1,C001,2024/3/1,"¥1,234.50",2,已付款
O6,C003,2024-03-09,"(20)",1,
"""


def test_customers_then_orders(engine: sa.Engine, tmp_path: Path) -> None:
    cust = import_file(_write(tmp_path / "customers.csv", CUSTOMERS), engine=engine)
    assert (cust.kind, cust.rows_in, cust.inserted, cust.updated, cust.rejected) == (
        "customers",
        3,
        2,
        1,
        0,
    )
    # C003 has C001's phone: merged into C001, not a new customer
    assert cust.merged == 1 and cust.merges[0]["customer_id"] == "C003"
    assert cust.merges[0]["matched_on"] == "phone"
    assert cust.unmapped_columns == ["会员等级"]
    assert _rows(engine, "customers", "customer_id", "phone", "email") == [
        ("C001", "13800138000", "zw@example.com"),
        ("C002", "13900139000", None),
    ]

    orders = import_file(_write(tmp_path / "orders.csv", ORDERS), engine=engine)
    assert orders.conserved
    assert (orders.rows_in, orders.inserted, orders.skipped, orders.rejected) == (7, 4, 1, 2)
    assert orders.skipped_detail == {"duplicate_row": 1}
    assert orders.customers_created == 1  # C009
    codes = {(e.line, e.code) for e in orders.errors}
    assert codes == {(5, "ambiguous_date"), (6, "bad_date")}
    got = _rows(engine, "orders", "order_id", "amount", "status")
    assert got == [
        ("O1", 2469.0, "paid"),
        ("O2", 100.0, "paid"),
        ("O3", -50.0, "refunded"),
        ("O6", -20.0, "refunded"),
    ]
    # the order of merged customer C003 belongs to C001
    o = tables.metadata.tables["orders"]
    c = tables.metadata.tables["customers"]
    with engine.connect() as conn:
        owner = conn.execute(
            sa.select(c.c.customer_id)
            .join(o, o.c.customer_pk == c.c.id)
            .where(o.c.order_id == "O6")
        ).scalar_one()
        created = conn.execute(
            sa.select(c.c.created_from).where(c.c.customer_id == "C009")
        ).scalar_one()
    assert owner == "C001" and created == "orders"


def test_reimport_changes_nothing_and_dry_run_writes_nothing(
    engine: sa.Engine, tmp_path: Path
) -> None:
    path = _write(tmp_path / "orders.csv", ORDERS)
    dry = import_file(path, engine=engine, options=ImportOptions(dry_run=True))
    assert _rows(engine, "orders", "order_id") == []
    assert _rows(engine, "customers", "customer_id") == []
    assert _rows(engine, "import_batches", "id") == []
    first = import_file(path, engine=engine)
    for name in ("rows_in", "inserted", "updated", "skipped", "rejected", "customers_created"):
        assert getattr(dry, name) == getattr(first, name), name
    assert [(e.line, e.code) for e in dry.errors] == [(e.line, e.code) for e in first.errors]
    before = _rows(engine, "orders", "order_id", "line_id", "amount", "ordered_at", "status")
    second = import_file(path, engine=engine)
    assert (second.inserted, second.updated, second.customers_created) == (0, 0, 0)
    assert second.skipped == first.inserted + first.skipped
    assert second.rejected == first.rejected
    assert (
        _rows(engine, "orders", "order_id", "line_id", "amount", "ordered_at", "status") == before
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("update", (0, 1, 1, 0)), ("skip", (0, 0, 2, 0)), ("error", (0, 0, 1, 1))],
)
def test_on_duplicate(
    engine: sa.Engine, tmp_path: Path, policy: str, expected: tuple[int, int, int, int]
) -> None:
    import_file(
        _write(
            tmp_path / "a.csv",
            "order_id,customer_id,ordered_at,amount\nA,C1,2024-01-01,10\nB,C1,2024-01-02,20\n",
        ),
        engine=engine,
    )
    changed = _write(
        tmp_path / "b.csv",
        "order_id,customer_id,ordered_at,amount\nA,C1,2024-01-01,10\nB,C1,2024-01-02,25\n",
    )
    report = import_file(changed, engine=engine, options=ImportOptions(on_duplicate=policy))  # type: ignore[arg-type]
    assert (report.inserted, report.updated, report.skipped, report.rejected) == expected
    amount = dict(_rows(engine, "orders", "order_id", "amount"))["B"]
    assert amount == (25.0 if policy == "update" else 20.0)
    if policy == "error":
        assert [(e.line, e.code) for e in report.errors] == [(3, "duplicate_key")]


def test_strict_rejects_unknown_customers(engine: sa.Engine, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "orders.csv", "order_id,customer_id,ordered_at,amount\nA,NOPE,2024-01-01,10\n"
    )
    report = import_file(path, engine=engine, options=ImportOptions(strict=True))
    assert (report.rejected, report.customers_created) == (1, 0)
    assert report.errors[0].code == "unknown_customer" and report.errors[0].line == 2
    assert "NOPE" in report.errors[0].message


def test_missing_required_column_rejects_every_row_loudly(
    engine: sa.Engine, tmp_path: Path
) -> None:
    path = _write(tmp_path / "orders.csv", "order_id,customer_id,amount\nA,C1,1\nB,C1,2\n")
    report = import_file(path, engine=engine, options=ImportOptions(kind="orders"))
    assert report.status == "failed" and report.rejected == report.rows_in == 2
    assert report.errors[0].code == "missing_column" and "ordered_at" in report.errors[0].message


def test_mapping_file_and_date_format(engine: sa.Engine, tmp_path: Path) -> None:
    mapping = _write(
        tmp_path / "m.yaml",
        "kind: orders\ndate_format: '%d/%m/%Y'\ncolumns:\n"
        "  单据: order_id\n  会员卡号: customer_id\n  消费日期: ordered_at\n"
        "  消费额: amount\n  备注: null\n",
    )
    path = _write(
        tmp_path / "x.csv", "单据,会员卡号,消费日期,消费额,备注\nX1,M1,03/04/2024,9.5,hi\n"
    )
    report = import_file(
        path, engine=engine, options=ImportOptions(mapping=UserMapping.load(mapping))
    )
    assert report.inserted == 1 and report.unmapped_columns == ["备注"]
    assert str(_rows(engine, "orders", "ordered_at")[0][0])[:10] == "2024-04-03"


def test_interactions_without_ids_are_idempotent(engine: sa.Engine, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "interactions.csv",
        "客户编号,跟进时间,跟进方式,备注\n"
        "C1,2024-01-01 10:00,电话,报价\nC1,2024-01-02 10:00,拜访,\n",
    )
    first = import_file(path, engine=engine)
    second = import_file(path, engine=engine)
    assert (first.kind, first.inserted) == ("interactions", 2)
    assert (second.inserted, second.skipped) == (0, 2)
    assert _rows(engine, "interactions", "kind") == [("call",), ("visit",)]


def test_unknown_kind_is_a_clear_error(engine: sa.Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "foo,bar\n1,2\n")
    with pytest.raises(DataError, match="--kind"):
        import_file(path, engine=engine)


def test_batch_boundaries_do_not_change_the_result(engine: sa.Engine, tmp_path: Path) -> None:
    lines = ["order_id,customer_id,ordered_at,amount"]
    for i in range(230):
        lines.append(f"O{i % 97},C{i % 13},2024-01-{1 + i % 28:02d},{i}")
    path = _write(tmp_path / "orders.csv", "\n".join(lines) + "\n")
    small = import_file(path, engine=engine, options=replace(ImportOptions(), batch_size=100))
    assert small.conserved
    # each key counts once; its earlier versions in the file are superseded by the last one
    assert (small.inserted, small.updated, small.skipped_detail) == (97, 0, {"superseded": 133})
    assert len(_rows(engine, "orders", "order_id")) == 97
    # last occurrence wins, whatever the batch size
    assert dict(_rows(engine, "orders", "order_id", "amount"))["O0"] == 194.0
    again = import_file(path, engine=engine, options=replace(ImportOptions(), batch_size=50_000))
    assert (again.inserted, again.updated) == (0, 0)
    assert again.skipped_detail == {"superseded": 133, "unchanged": 97}
    assert dict(_rows(engine, "orders", "order_id", "amount"))["O0"] == 194.0
