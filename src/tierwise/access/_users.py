"""User administration: create users, change roles and managers, deactivate, audit log.

Only admins. A role change or deactivation ends the user's sessions, so it takes effect on the
very next request; every change writes an audit entry in the same transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tierwise.access._auth import end_user_sessions
from tierwise.access._principal import Principal
from tierwise.errors import DataError, NotFoundError
from tierwise.store import audit
from tierwise.store.tables import ROLES, customer_owners, users
from tierwise.store.users import create_user, generate_password, get_user, set_password

_PUBLIC = ("id", "username", "display_name", "email", "role", "manager_id", "is_active",
           "created_at", "last_login_at")  # fmt: skip


def list_users(conn: sa.Connection, *, principal: Principal) -> list[dict[str, Any]]:
    principal.require("admin")
    owned = (
        sa.select(customer_owners.c.user_id, sa.func.count().label("customers"))
        .group_by(customer_owners.c.user_id)
        .subquery()
    )
    query = (
        sa.select(
            *(users.c[c] for c in _PUBLIC),
            sa.func.coalesce(owned.c.customers, 0).label("customers"),
        )
        .outerjoin(owned, owned.c.user_id == users.c.id)
        .order_by(users.c.username)
    )
    return [audit.jsonable(dict(r)) for r in conn.execute(query).mappings()]


def add_user(
    conn: sa.Connection,
    *,
    principal: Principal,
    username: str,
    role: str,
    display_name: str | None = None,
    email: str | None = None,
    manager_id: int | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """Create a user; without ``password`` one is generated and returned (shown once)."""
    principal.require("admin")
    secret = password or generate_password()
    user_id = create_user(
        conn, username=username, password=secret, role=role, display_name=display_name or None,
        email=email or None, manager_id=manager_id,
    )  # fmt: skip
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="user.create",
        entity="user", entity_id=user_id, after={"username": username, "role": role,
                                                 "manager_id": manager_id},
    )  # fmt: skip
    return {"id": user_id, "password": None if password else secret}


def update_user(
    conn: sa.Connection,
    *,
    principal: Principal,
    user_id: int,
    role: str | None = None,
    manager_id: int | str | None = "keep",
    is_active: bool | None = None,
    display_name: str | None = None,
) -> dict[str, Any]:
    """Change role, manager (``None`` clears it), active flag or display name."""
    principal.require("admin")
    before = get_user(conn, user_id=user_id)
    values: dict[str, Any] = {}
    if role is not None and role != before.role:
        if role not in ROLES:
            raise DataError(
                f"Role {role!r} does not exist; use one of {', '.join(ROLES)}.",
                key="err.unknown_role",
                value=role,
                known=", ".join(ROLES),
            )
        values["role"] = role
    if manager_id != "keep" and manager_id != before.manager_id:
        if manager_id is not None:
            if int(manager_id) == user_id:
                raise DataError("A user cannot be their own manager.", key="err.own_manager")
            get_user(conn, user_id=int(manager_id))
        values["manager_id"] = manager_id
    if is_active is not None and is_active != before.is_active:
        if not is_active and user_id == principal.user_id:
            raise DataError(
                "You cannot deactivate yourself; ask another administrator.",
                key="err.deactivate_self",
            )
        values["is_active"] = is_active
    if display_name is not None and display_name != (before.display_name or ""):
        values["display_name"] = display_name or None
    if not values:
        return {"changed": []}
    if before.role == "admin" and (
        values.get("role", "admin") != "admin" or values.get("is_active") is False
    ):
        admins = conn.scalar(
            sa.select(sa.func.count())
            .select_from(users)
            .where(users.c.role == "admin", users.c.is_active.is_(True))
        )
        if (admins or 0) <= 1:
            raise DataError(
                "This is the last active administrator; make another one first.",
                key="err.last_admin",
            )
    conn.execute(users.update().where(users.c.id == user_id).values(**values))
    if {"role", "is_active"} & values.keys():
        end_user_sessions(conn, user_id=user_id)
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="user.update",
        entity="user", entity_id=user_id,
        before={k: getattr(before, k) for k in values}, after=values,
    )  # fmt: skip
    return {"changed": sorted(values)}


def reset_password(conn: sa.Connection, *, principal: Principal, user_id: int) -> str:
    """A new generated password for a user (shown once); their sessions end."""
    principal.require("admin")
    try:
        get_user(conn, user_id=user_id)
    except NotFoundError:
        raise
    secret = generate_password()
    set_password(conn, user_id=user_id, password=secret)
    end_user_sessions(conn, user_id=user_id)
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="user.password",
        entity="user", entity_id=user_id,
    )  # fmt: skip
    return secret


def audit_entries(
    conn: sa.Connection, *, principal: Principal, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    principal.require("admin")
    from tierwise.store.tables import audit_log

    query = (
        sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(min(limit, 1000)).offset(offset)
    )
    return [audit.jsonable(dict(r)) for r in conn.execute(query).mappings()]


__all__ = ["add_user", "audit_entries", "list_users", "reset_password", "update_user"]
