"""The audit log: one entry per change, written in the same transaction as the change.

Because `record` uses the caller's connection, a change that rolls back takes its audit entry
with it, and a committed change always has one (RELIABILITY.md, "Audit and personal data").

Example::

    with engine.begin() as conn:
        conn.execute(customers.update().where(...).values(owner="li.lei"))
        record(conn, actor="wang.fang", actor_id=3, action="customer.update",
               entity="customer", entity_id="C001",
               before={"owner": "zhang.san"}, after={"owner": "li.lei"}, ip="10.0.0.5")
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from tierwise.errors import DataError
from tierwise.store.tables import KEY_LENGTH, audit_log, utcnow


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime  # UTC
    actor_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any
    ip: str | None


def jsonable(value: Any) -> Any:
    """A JSON-serialisable copy of ``value``: datetimes → ISO strings, sets → sorted lists,
    Decimals → strings (exact), NaN/inf → strings, unknown objects → ``str(value)``.

    >>> jsonable({"at": datetime(2024, 3, 1, 9, 30), "n": {1, 2}, "x": float("nan")})
    {'at': '2024-03-01T09:30:00', 'n': [1, 2], 'x': 'nan'}
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal | UUID | PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        items = [jsonable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def record(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    before: Any = None,
    after: Any = None,
    actor_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Write one audit entry on ``conn``, inside the caller's transaction.

    ``actor`` is a username or a tag such as ``cli:root``; ``action`` a dotted verb such as
    ``customer.update`` or ``login.failed``; ``before``/``after`` any JSON-like values.
    """
    record_many(
        conn, actor=actor, action=action, entity=entity, actor_id=actor_id, ip=ip,
        entries=[(entity_id, before, after)],
    )  # fmt: skip


def record_many(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entries: Sequence[tuple[str | int | None, Any, Any]],
    actor_id: int | None = None,
    ip: str | None = None,
) -> None:
    """One audit entry per ``(entity_id, before, after)`` of ``entries``, all by one actor
    doing one action, in a single statement (how a batch of thousands stays fast)."""
    if not actor or not action or not entity:
        raise DataError("An audit entry needs an actor, an action and an entity.")
    for name, value in (("action", action), ("entity", entity)):
        if len(value) > 64:
            raise DataError(f"Audit {name} {value[:40]!r}... is longer than 64 characters.")
    at = utcnow()
    rows = []
    for entity_id, before, after in entries:
        key = None if entity_id is None else str(entity_id)
        if key is not None and len(key) > KEY_LENGTH:
            raise DataError(
                f"Audit entity_id {key[:40]!r}... is longer than {KEY_LENGTH} characters."
            )
        rows.append({
            "at": at, "actor_id": actor_id, "actor": actor[:KEY_LENGTH], "action": action,
            "entity": entity, "entity_id": key, "before": jsonable(before),
            "after": jsonable(after), "ip": ip,
        })  # fmt: skip
    if rows:
        conn.execute(audit_log.insert(), rows)


def recorded(conn: sa.Connection, *, action: str, entity: str, entity_id: str) -> bool:
    """Whether ``action`` on ``entity_id`` was recorded (work done once per snapshot marks
    itself so)."""
    return bool(conn.scalar(sa.select(sa.exists().where(
        audit_log.c.entity == entity, audit_log.c.entity_id == entity_id,
        audit_log.c.action == action,
    ))))  # fmt: skip


def last_entity_id(conn: sa.Connection, *, action: str, entity: str) -> str | None:
    """The ``entity_id`` of the newest ``action`` on ``entity`` (None: never recorded)."""
    found = conn.scalar(
        sa.select(audit_log.c.entity_id)
        .where(audit_log.c.entity == entity, audit_log.c.action == action)
        .order_by(audit_log.c.id.desc())
        .limit(1)
    )
    return None if found is None else str(found)


def list_entries(
    conn: sa.Connection,
    *,
    limit: int = 100,
    entity: str | None = None,
    entity_id: str | int | None = None,
) -> list[AuditEntry]:
    """The newest entries first, optionally for one entity (and one record of it)."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(audit_log.c.entity == entity)
    if entity_id is not None:
        query = query.where(audit_log.c.entity_id == str(entity_id))
    return [
        AuditEntry(**{name: m[name] for name in AuditEntry.__dataclass_fields__})
        for m in conn.execute(query).mappings()
    ]


__all__ = [
    "AuditEntry",
    "jsonable",
    "last_entity_id",
    "list_entries",
    "record",
    "record_many",
    "recorded",
]
