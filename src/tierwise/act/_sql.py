"""The few SQL pieces that differ between SQLite and PostgreSQL, for set-based act statements.

Task generation, re-planning and recycling run as ``INSERT … SELECT`` and ``UPDATE`` over every
customer of a tier at once (never a Python loop over customers), so date arithmetic and
"insert unless it exists" must be written in SQL for both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tierwise.errors import ConfigError, DataError
from tierwise.store.tables import JSON, TS, interactions

#: interaction kinds that are a contact with the customer (not a web visit or an email opened)
CONTACT_KINDS = ("visit", "call", "email", "sms", "wechat", "meeting", "other")


def naive_utc(moment: datetime) -> datetime:
    """``moment`` as the naive UTC datetime the store keeps (aware values are converted)."""
    if moment.tzinfo is not None:
        try:
            return moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise DataError(
                f"The time {moment.isoformat()} is out of range.", key="err.time_range",
                value=moment.isoformat(),
            ) from None  # fmt: skip
    return moment


def plus(
    conn: sa.Connection,
    moment: sa.ColumnElement[Any],
    *,
    days: int | sa.ColumnElement[Any] = 0,
    hours: int | sa.ColumnElement[Any] = 0,
) -> sa.ColumnElement[datetime]:
    """``moment`` plus whole days and hours, as a timestamp."""
    if conn.dialect.name == "sqlite":
        total = sa.cast(days, sa.Integer) * 24 + sa.cast(hours, sa.Integer)
        shift = sa.literal("+") + sa.cast(total, sa.String) + sa.literal(" hours")
        return sa.func.datetime(moment, shift, type_=TS)
    return sa.cast(moment, TS) + sa.func.make_interval(0, 0, 0, days, hours)


def day_text(conn: sa.Connection, moment: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """``YYYY-MM-DD`` of a timestamp (for idempotency keys)."""
    if conn.dialect.name == "sqlite":
        return sa.func.date(moment, type_=sa.String)
    return sa.func.to_char(moment, "YYYY-MM-DD", type_=sa.String)


def latest(
    conn: sa.Connection, a: sa.ColumnElement[Any], b: sa.ColumnElement[Any]
) -> sa.ColumnElement[Any]:
    """The later of two timestamps, either of which may be NULL."""
    x, y = sa.func.coalesce(a, b), sa.func.coalesce(b, a)
    if conn.dialect.name == "sqlite":
        return sa.func.max(x, y, type_=TS)
    return sa.func.greatest(x, y, type_=TS)


def text(value: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    return sa.cast(value, sa.String)


def json_object(conn: sa.Connection, **values: Any) -> sa.ColumnElement[Any]:
    """A JSON object built in SQL from columns and literals (``json_object`` /
    ``json_build_object``)."""
    # typed casts: PostgreSQL cannot infer the type of a bare parameter of json_build_object
    args: list[Any] = []
    for key, value in values.items():
        args.append(sa.cast(sa.literal(key), sa.String))
        if isinstance(value, sa.ColumnElement):
            args.append(value)
        elif isinstance(value, bool | int):
            args.append(sa.cast(sa.literal(int(value)), sa.Integer))
        elif isinstance(value, float):
            args.append(sa.cast(sa.literal(value), sa.Float))
        else:
            args.append(sa.cast(sa.literal(str(value)), sa.String))
    if conn.dialect.name == "sqlite":
        return sa.func.json_object(*args, type_=JSON)
    return sa.func.json_build_object(*args, type_=JSON)


def insert_ignore(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` on ``table``: a row whose unique key exists already
    is skipped (how generating twice creates nothing new, and how two claims race safely)."""
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    raise ConfigError(
        f"Tierwise's store runs on SQLite or PostgreSQL, not {conn.dialect.name}: set "
        "TIERWISE_DATABASE_URL to a sqlite:/// or postgresql+psycopg:// URL."
    )


def inserted(conn: sa.Connection, statement: Any, *, key: sa.ColumnElement[Any]) -> int:
    """Run an ``INSERT … SELECT`` (``insert_ignore(...).from_select``) and count the rows it
    inserted. SQLite reports the count; psycopg reports 0 for an ``INSERT … SELECT … ON
    CONFLICT``, so PostgreSQL counts them through a data-modifying CTE."""
    if conn.dialect.name == "sqlite":
        return max(conn.execute(statement).rowcount, 0)
    ins = statement.returning(key).cte("ins")
    return int(conn.scalar(sa.select(sa.func.count()).select_from(ins)) or 0)


def last_contact(pk: sa.ColumnElement[int]) -> sa.ScalarSelect[Any]:
    """The time of customer ``pk``'s latest contact (calls, visits, messages…), correlated:
    it reads one customer's interactions through their index, for the customers a statement
    touches only."""
    kind = interactions.c.kind
    return (
        sa.select(sa.func.max(interactions.c.occurred_at))
        .where(
            interactions.c.customer_pk == pk,
            sa.or_(kind.is_(None), kind.in_(CONTACT_KINDS)),
        )
        .scalar_subquery()
    )


__all__ = [
    "CONTACT_KINDS",
    "day_text",
    "insert_ignore",
    "inserted",
    "json_object",
    "last_contact",
    "latest",
    "naive_utc",
    "plus",
    "text",
]
