"""Audit: one entry per change, in the change's transaction, with JSON-safe before/after."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from tierwise.errors import DataError
from tierwise.store import jsonable, list_entries, record, tables, utcnow

AddCustomer = Callable[[sa.Connection, str], int]


def test_entry_is_written_with_every_field(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        record(
            conn,
            actor="wang.fang",
            actor_id=None,
            action="customer.update",
            entity="customer",
            entity_id=42,
            before={"owner": "zhang.san", "birthday": date(1990, 1, 2)},
            after={"owner": "li.lei", "score": Decimal("1.10"), "tags": {"vip"}},
            ip="10.0.0.5",
        )
    with engine.connect() as conn:
        (entry,) = list_entries(conn)
    assert (entry.actor, entry.action, entry.entity, entry.entity_id, entry.ip) == (
        "wang.fang",
        "customer.update",
        "customer",
        "42",
        "10.0.0.5",
    )
    assert entry.before == {"owner": "zhang.san", "birthday": "1990-01-02"}
    assert entry.after == {"owner": "li.lei", "score": "1.10", "tags": ["vip"]}
    assert entry.at.tzinfo is None and abs(entry.at - utcnow()) < timedelta(minutes=1)


def test_entry_and_change_roll_back_together(engine: sa.Engine, add_customer: AddCustomer) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        add_customer(conn, "C1")
        record(conn, actor="cli:root", action="customer.create", entity="customer", entity_id="C1")
        raise RuntimeError("the request failed after the change")
    with engine.connect() as conn:
        assert list_entries(conn) == []
        assert conn.scalar(sa.select(sa.func.count()).select_from(tables.customers)) == 0

    with engine.begin() as conn:
        add_customer(conn, "C1")
        record(conn, actor="cli:root", action="customer.create", entity="customer", entity_id="C1")
    with engine.connect() as conn:
        assert [e.entity_id for e in list_entries(conn)] == ["C1"]


def test_entries_are_listed_newest_first_and_filtered(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for i in range(5):
            entity = "customer" if i % 2 == 0 else "user"
            record(conn, actor="a", action="x.update", entity=entity, entity_id=i)
    with engine.connect() as conn:
        assert [e.entity_id for e in list_entries(conn)] == ["4", "3", "2", "1", "0"]
        assert [e.entity_id for e in list_entries(conn, limit=2)] == ["4", "3"]
        assert [e.entity_id for e in list_entries(conn, entity="customer")] == ["4", "2", "0"]
        assert [e.entity_id for e in list_entries(conn, entity="user", entity_id=1)] == ["1"]


def test_bad_entries_are_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(DataError, match="actor, an action and an entity"):
            record(conn, actor="", action="x", entity="y")
        with pytest.raises(DataError, match="longer than 64"):
            record(conn, actor="a", action="x" * 65, entity="y")


def test_jsonable_examples() -> None:
    value = {
        1: datetime(2024, 3, 1, 9, 30),
        "n": (1, 2.5, float("inf")),
        "nested": [{"d": date(2024, 1, 1), "t": timedelta(minutes=1)}],
    }
    assert jsonable(value) == {
        "1": "2024-03-01T09:30:00",
        "n": [1, 2.5, "inf"],
        "nested": [{"d": "2024-01-01", "t": 60.0}],
    }


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.datetimes()
    | st.dates()
    | st.decimals(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text() | st.integers(), children, max_size=4)
        | st.frozensets(st.integers(), max_size=4)
    ),
    max_leaves=20,
)


@given(json_like)
def test_jsonable_output_is_strict_json_and_stable(value: Any) -> None:
    converted = jsonable(value)
    text = json.dumps(converted, allow_nan=False)  # no NaN or infinity left
    assert jsonable(converted) == converted
    assert json.loads(text) == converted
