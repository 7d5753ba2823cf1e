"""Changes to customers: owners (and the public pool) and profile fields, audited."""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa

from tierwise.access._customers import changed, scoped_pk
from tierwise.access._principal import Principal, team_ids
from tierwise.errors import DataError, NotFoundError
from tierwise.store import audit
from tierwise.store.tables import (
    customer_owners,
    customers,
    users,
    utcnow,
)


def assign_owner(
    conn: sa.Connection,
    *,
    principal: Principal,
    customer_ids: list[str],
    owner_id: int | None,
) -> dict[str, Any]:
    """Give customers to a user (or back to the public pool with ``owner_id=None``).

    Admins assign anyone to anyone; a manager only within their team. Audited per customer.
    """
    principal.require("write")
    if owner_id is not None:
        target = conn.execute(
            sa.select(users.c.id, users.c.role, users.c.is_active).where(users.c.id == owner_id)
        ).first()
        if target is None or not target.is_active or target.role == "analyst":
            raise DataError(f"User {owner_id} cannot own customers (missing, inactive or analyst).")
        if principal.role == "manager" and owner_id not in {
            int(row[0]) for row in conn.execute(team_ids(principal))
        }:
            raise NotFoundError(f"User {owner_id} does not exist.")
    moved = 0
    now = utcnow()
    for customer_id in customer_ids:
        pk = scoped_pk(conn, principal=principal, customer_id=customer_id)
        before = conn.scalar(
            sa.select(customer_owners.c.user_id).where(customer_owners.c.customer_pk == pk)
        )
        if before == owner_id:
            continue
        conn.execute(customer_owners.delete().where(customer_owners.c.customer_pk == pk))
        if owner_id is not None:
            conn.execute(
                customer_owners.insert().values(
                    customer_pk=pk,
                    user_id=owner_id,
                    assigned_at=now,
                    assigned_by=principal.username,
                )
            )
        audit.record(
            conn,
            actor=principal.username,
            actor_id=principal.user_id,
            action="customer.owner",
            entity="customer",
            entity_id=customer_id,
            before={"owner_id": before},
            after={"owner_id": owner_id},
        )
        moved += 1
    if moved:
        changed()
    return {"changed": moved, "owner_id": owner_id}


EDITABLE: Final = ("name", "phone", "email", "province", "city", "industry", "tags")


def update_customer(
    conn: sa.Connection, *, principal: Principal, customer_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Edit profile fields (only `EDITABLE` ones: never owner, labels or keys). Audited."""
    principal.require("write")
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise DataError(f"Field(s) {', '.join(unknown)} cannot be edited here.")
    pk = scoped_pk(conn, principal=principal, customer_id=customer_id)
    if values:
        before = (
            conn.execute(sa.select(*(customers.c[k] for k in values)).where(customers.c.id == pk))
            .mappings()
            .one()
        )
        conn.execute(
            customers.update().where(customers.c.id == pk).values(**values, updated_at=utcnow())
        )
        audit.record(
            conn, actor=principal.username, actor_id=principal.user_id, action="customer.update",
            entity="customer", entity_id=customer_id, before=dict(before), after=values,
        )  # fmt: skip
        changed()
    return {"customer_id": customer_id, "changed": sorted(values)}


__all__ = ["EDITABLE", "assign_owner", "update_customer"]
