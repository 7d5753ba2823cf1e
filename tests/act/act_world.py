"""Helpers of the act tests: a small world: users, customers, a published snapshot with tiers.

Snapshots are written straight into the store (no classification run): the act stage reads
only the latest published snapshot's labels and changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tierwise.access import Principal
from tierwise.store import tables
from tierwise.store.tables import (
    customer_owners,
    customers,
    interactions,
    label_changes,
    labels,
    snapshots,
)

NOW = datetime(2026, 12, 2, 9, 0)


@dataclass
class World:
    engine: sa.Engine
    people: dict[str, Principal] = field(default_factory=dict)
    pks: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, str] = field(default_factory=dict)
    snapshot_id: int = 0

    def user(self, name: str) -> Principal:
        return self.people[name]

    def customer(self, conn: sa.Connection, customer_id: str, **values: Any) -> int:
        pk = conn.scalar(
            customers.insert()
            .values(
                customer_id=customer_id, name=f"Name {customer_id}", row_hash="0" * 32, **values
            )
            .returning(customers.c.id)
        )
        assert pk is not None
        self.pks[customer_id] = int(pk)
        return int(pk)

    def own(self, conn: sa.Connection, customer_id: str, owner: str | None) -> None:
        pk = self.pks[customer_id]
        conn.execute(customer_owners.delete().where(customer_owners.c.customer_pk == pk))
        if owner is not None:
            conn.execute(
                customer_owners.insert().values(
                    customer_pk=pk,
                    user_id=self.people[owner].user_id,
                    assigned_at=datetime(2026, 1, 1),
                    assigned_by="test",
                )
            )

    def contact(
        self, conn: sa.Connection, customer_id: str, at: datetime, kind: str = "call"
    ) -> None:
        iid = f"I-{customer_id}-{at.isoformat()}-{kind}"
        conn.execute(
            interactions.insert().values(
                interaction_id=iid,
                customer_pk=self.pks[customer_id],
                customer_id=customer_id,
                occurred_at=at,
                kind=kind,
                row_hash="0" * 32,
            )
        )

    def classify(
        self,
        conn: sa.Connection,
        tiers: dict[str, str],
        *,
        dimension: str = "value_tier",
        extra: dict[str, dict[str, str]] | None = None,
        as_of: date = date(2026, 12, 1),
    ) -> int:
        """Publish a snapshot where customer → tier (and other dimensions' labels)."""
        sid = conn.scalar(
            snapshots.insert()
            .values(
                as_of=as_of,
                scheme_version=0,
                scheme_hash="0" * 64,
                engine="duckdb",
                state="published",
                published_at=NOW,
                created_at=NOW,
            )
            .returning(snapshots.c.id)
        )
        assert sid is not None
        dims = {dimension: tiers, **(extra or {})}
        # the new snapshot holds exactly these rows: every earlier version ends here
        conn.execute(
            labels.update().where(labels.c.to_snapshot_id.is_(None)).values(to_snapshot_id=sid)
        )
        for dim, mapping in dims.items():
            old = self.tiers if dim == dimension else {}
            for cid, label in mapping.items():
                pk = self.pks[cid]
                conn.execute(
                    labels.insert().values(
                        from_snapshot_id=sid, dimension=dim, customer_pk=pk, label=label,
                        source="rule", since=as_of,
                    )
                )  # fmt: skip
                before = old.get(cid) if dim == dimension else None
                if dim == dimension and before == label:
                    continue
                kind = "new" if before is None and dim == dimension else "change"
                if dim != dimension:
                    kind = "change"
                conn.execute(
                    label_changes.insert().values(
                        snapshot_id=sid, customer_pk=pk, dimension=dim, as_of=as_of,
                        old_label=before if dim == dimension else "low", new_label=label,
                        kind=kind, source="rule", scheme_version=0,
                    )
                )  # fmt: skip
        self.tiers = dict(tiers)
        self.snapshot_id = int(sid)
        return int(sid)


def principal_for(
    conn: sa.Connection, name: str, role: str, manager: int | None = None
) -> Principal:
    # straight into the table: hashing a password per user would slow every test
    uid = conn.scalar(
        tables.users.insert()
        .values(username=name, password_hash="-", role=role, manager_id=manager)
        .returning(tables.users.c.id)
    )
    assert uid is not None
    return Principal(user_id=int(uid), username=name, role=role)  # type: ignore[arg-type]


def count(conn: sa.Connection, table: sa.Table, *where: Any) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0)


__all__ = ["NOW", "World", "count", "principal_for", "tables"]


def publish_default(conn: sa.Connection, **replace: str) -> None:
    """Publish the shipped default scheme with some text replaced (``old=new`` pairs)."""
    from tierwise.classify._store import publish_scheme
    from tierwise.scheme import default_scheme_text, load_scheme

    text = default_scheme_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    publish_scheme(conn, scheme=load_scheme(text), actor="test")


def complain(
    conn: sa.Connection, world: World, feedback_id: str, customer_id: str, at: datetime
) -> None:
    conn.execute(
        tables.feedback.insert().values(
            feedback_id=feedback_id, customer_pk=world.pks[customer_id], customer_id=customer_id,
            received_at=at, kind="complaint", status="open", text=f"complaint {feedback_id}",
            row_hash="0" * 32,
        )
    )  # fmt: skip
