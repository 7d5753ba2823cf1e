"""Demo users: a manager and one rep per owner name in the demo customers, owning them.

So that the demo shows row-level scope at once: sign in as a rep and see only your customers
and the public pool. Demo mode only; every demo user shares one generated password.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from tierwise.act import give_owners
from tierwise.store import audit
from tierwise.store.tables import customer_owners, customers, users, utcnow
from tierwise.store.users import create_user, generate_password, get_user_by_username, set_password


@dataclass(frozen=True)
class DemoUsers:
    manager: str
    reps: list[str]
    password: str


def create_demo_users(conn: sa.Connection, *, manager: str = "manager") -> DemoUsers:
    """Create (or reset) the demo manager and reps and give each rep the customers whose
    imported owner is the rep's name. Idempotent; returns the shared password."""
    password = generate_password()
    names: list[str] = [
        str(row[0])
        for row in conn.execute(
            sa.select(customers.c.owner)
            .where(customers.c.owner.is_not(None))
            .group_by(customers.c.owner)
            .order_by(customers.c.owner)
        )
    ]

    def ensure(username: str, role: str, display: str, manager_id: int | None) -> int:
        existing = get_user_by_username(conn, username=username)
        if existing is not None:
            set_password(conn, user_id=existing.id, password=password)
            return existing.id
        return create_user(
            conn, username=username, password=password, role=role, display_name=display,
            manager_id=manager_id,
        )  # fmt: skip

    boss = ensure(manager, "manager", "Demo manager / 演示经理", None)
    ensure("analyst", "analyst", "Demo analyst / 演示分析师", None)
    reps = []
    for i, name in enumerate(names, start=1):
        username = f"rep{i:02d}"
        rep_id = ensure(username, "rep", name, boss)
        reps.append(username)
        owned = sa.select(customers.c.id, customers.c.customer_id).where(
            customers.c.owner == name,
            ~sa.exists().where(customer_owners.c.customer_pk == customers.c.id),
        )
        given = [(int(row.id), str(row.customer_id), rep_id) for row in conn.execute(owned)]
        # through act: the open tasks of a classification that ran before go to the owner too
        give_owners(conn, given, now=utcnow())
    audit.record(conn, actor="demo", action="demo.users", entity="user",
                 after={"manager": manager, "reps": len(reps)})  # fmt: skip
    assert conn.scalar(sa.select(sa.func.count()).select_from(users)) is not None
    return DemoUsers(manager=manager, reps=reps, password=password)


__all__ = ["DemoUsers", "create_demo_users"]
