"""Who is asking, what they may do, and which customers they may see.

Scope is enforced here, in the service layer, for lists, counts, charts, exports, history and
single records alike: every query over customers goes through `scope_clause`. A customer outside
the caller's scope is reported exactly like one that does not exist (`NotFoundError`).

- admin: everything;
- manager: their team's customers (their own and their reps') and the public pool;
- rep: their own customers and the public pool;
- analyst: every customer, read-only, phone and email masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import sqlalchemy as sa

from tierwise.errors import NotFoundError, TierwiseError
from tierwise.store.tables import customer_owners, customers, users

Role = Literal["admin", "manager", "rep", "analyst"]
Action = Literal[
    "read",
    "export",
    "write",  # overrides, approvals, owner assignment within scope
    "classify",
    "preview",  # compute a draft scheme's effect (names customers beyond a rep's own)
    "publish",  # publish a classification scheme
    "import",
    "admin",  # users, roles, audit log
]

# deny by default: an action is allowed only where it is listed
CAPABILITIES: Final[dict[str, frozenset[str]]] = {
    "admin": frozenset(
        {"read", "export", "write", "classify", "preview", "publish", "import", "admin"}
    ),
    "manager": frozenset({"read", "export", "write", "classify", "preview", "publish"}),
    "rep": frozenset({"read", "export"}),
    "analyst": frozenset({"read", "export", "preview"}),
}


class ForbiddenError(TierwiseError, PermissionError):
    """The caller's role does not allow this action."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user as loaded for this request (a role change shows on the next one)."""

    user_id: int
    username: str
    role: Role
    display_name: str | None = None

    def can(self, action: Action) -> bool:
        return action in CAPABILITIES.get(self.role, frozenset())

    def require(self, action: Action) -> None:
        if not self.can(action):
            raise ForbiddenError(
                f"The role {self.role!r} of user {self.username!r} may not {action}; "
                "ask an administrator."
            )

    @property
    def masks_contacts(self) -> bool:
        return self.role == "analyst"

    @property
    def label(self) -> str:
        return self.display_name or self.username


def load_principal(conn: sa.Connection, *, user_id: int) -> Principal:
    """The active user ``user_id``; `NotFoundError` if gone or deactivated."""
    row = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.role, users.c.display_name).where(
            users.c.id == user_id, users.c.is_active.is_(True)
        )
    ).first()
    if row is None:
        raise NotFoundError(f"User {user_id} does not exist or is deactivated.")
    return Principal(
        user_id=int(row.id), username=row.username, role=row.role, display_name=row.display_name
    )


def _owner_of(pk: sa.ColumnElement[int]) -> sa.ScalarSelect[int]:
    return (
        sa.select(customer_owners.c.user_id)
        .where(customer_owners.c.customer_pk == pk)
        .scalar_subquery()
    )


def team_ids(principal: Principal) -> sa.Select[Any]:
    """The users whose customers a manager sees: the manager and their reps."""
    return sa.select(users.c.id).where(
        sa.or_(users.c.id == principal.user_id, users.c.manager_id == principal.user_id)
    )


def scope_clause(
    principal: Principal, pk: sa.ColumnElement[int] | None = None
) -> sa.ColumnElement[bool]:
    """A condition on a customer primary key column (default ``customers.id``): true where the
    customer is in ``principal``'s scope. Unowned customers (the public pool) count as the
    caller's own for reps and managers."""
    column = customers.c.id if pk is None else pk
    if principal.role in ("admin", "analyst"):
        return sa.true()
    owner = sa.func.coalesce(_owner_of(column), principal.user_id)
    if principal.role == "rep":
        return owner == principal.user_id
    if principal.role == "manager":
        return owner.in_(team_ids(principal))
    return sa.false()


def mask_phone(value: str | None) -> str | None:
    """``13800138000`` → ``138****8000``: enough to recognise, not to call."""
    if not value:
        return value
    if len(value) <= 4:
        return "*" * len(value)
    keep = 3 if len(value) >= 8 else 1
    return value[:keep] + "*" * max(len(value) - keep - 4, 2) + value[-4:]


def mask_email(value: str | None) -> str | None:
    """``alice@example.com`` → ``a***@example.com``."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    if not at:
        return mask_phone(value)
    return f"{local[:1]}***@{domain}"


__all__ = [
    "CAPABILITIES",
    "Action",
    "ForbiddenError",
    "Principal",
    "Role",
    "load_principal",
    "mask_email",
    "mask_phone",
    "scope_clause",
    "team_ids",
]
