"""Managers' decisions: manual overrides (with reason and expiry) and downgrade approvals.

Each takes effect at the next classification and is kept in the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from tierwise.classify import _store
from tierwise.errors import DataError, NotFoundError
from tierwise.scheme._model import INSUFFICIENT, RulesDimension
from tierwise.store import audit
from tierwise.store.tables import customers, label_overrides, pending_changes, utcnow


def set_override(
    conn: sa.Connection,
    *,
    customer_id: str,
    dimension: str,
    label: str,
    reason: str,
    actor: str,
    expires_at: date | None = None,
) -> int:
    """Fix one customer's label in one dimension until ``expires_at`` (or until revoked)."""
    if not reason.strip():
        raise DataError("An override needs a reason (shown in the customer's history).")
    if expires_at is not None and expires_at <= date.today():
        raise DataError(f"--expires {expires_at} is not in the future.")
    scheme = _store.current_scheme(conn).scheme
    dim = scheme.dimensions.get(dimension)
    if dim is None:
        raise DataError(
            f'Dimension "{dimension}" is not in the published scheme (one of: '
            f"{', '.join(scheme.dimensions)})."
        )
    multi = isinstance(dim, RulesDimension) and dim.multi
    keys = dim.keys()
    parts = label.split("+") if multi else [label]
    if label == INSUFFICIENT or any(p not in keys for p in parts):
        raise DataError(
            f'Label "{label}" is not a label of {dimension} (one of: {", ".join(keys)}).'
        )
    pk = _store.customer_pk(conn, customer_id=customer_id)
    now = utcnow()
    previous = conn.execute(
        sa.select(label_overrides.c.id, label_overrides.c.label).where(
            label_overrides.c.customer_pk == pk,
            label_overrides.c.dimension == dimension,
            label_overrides.c.revoked_at.is_(None),
        )
    ).all()
    if previous:
        conn.execute(
            label_overrides.update()
            .where(label_overrides.c.id.in_([r.id for r in previous]))
            .values(revoked_at=now, revoked_by=actor)
        )
    new_id = conn.scalar(
        label_overrides.insert()
        .values(
            customer_pk=pk,
            dimension=dimension,
            label=label,
            reason=reason.strip(),
            actor=actor,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(label_overrides.c.id)
    )
    assert new_id is not None
    audit.record(
        conn,
        actor=actor,
        action="label.override",
        entity="customer",
        entity_id=customer_id,
        before={"overrides": [r.label for r in previous]},
        after={"dimension": dimension, "label": label, "reason": reason, "expires_at": expires_at},
    )
    return int(new_id)


def revoke_override(conn: sa.Connection, *, customer_id: str, dimension: str, actor: str) -> int:
    pk = _store.customer_pk(conn, customer_id=customer_id)
    done = conn.execute(
        label_overrides.update()
        .where(
            label_overrides.c.customer_pk == pk,
            label_overrides.c.dimension == dimension,
            label_overrides.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), revoked_by=actor)
    )
    if not done.rowcount:
        raise NotFoundError(f'Customer "{customer_id}" has no override of {dimension}.')
    audit.record(
        conn,
        actor=actor,
        action="label.override.revoke",
        entity="customer",
        entity_id=customer_id,
        after={"dimension": dimension},
    )
    return int(done.rowcount)


def list_overrides(conn: sa.Connection) -> list[dict[str, Any]]:
    q = (
        sa.select(
            customers.c.customer_id,
            label_overrides.c.dimension,
            label_overrides.c.label,
            label_overrides.c.reason,
            label_overrides.c.actor,
            label_overrides.c.created_at,
            label_overrides.c.expires_at,
        )
        .join(customers, customers.c.id == label_overrides.c.customer_pk)
        .where(label_overrides.c.revoked_at.is_(None))
        .order_by(label_overrides.c.id)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def list_pending(conn: sa.Connection, *, state: str = "pending") -> list[dict[str, Any]]:
    q = (
        sa.select(
            pending_changes.c.id,
            customers.c.customer_id,
            customers.c.name,
            pending_changes.c.dimension,
            pending_changes.c.from_label,
            pending_changes.c.to_label,
            pending_changes.c.state,
            pending_changes.c.created_at,
        )
        .join(customers, customers.c.id == pending_changes.c.customer_pk)
        .where(pending_changes.c.state == state)
        .order_by(pending_changes.c.id)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def decide_pending(
    conn: sa.Connection, *, pending_id: int, approve: bool, actor: str, note: str | None = None
) -> None:
    """Approve (the downgrade happens at the next classification) or reject (the label stays)."""
    row = conn.execute(sa.select(pending_changes).where(pending_changes.c.id == pending_id)).first()
    if row is None:
        raise NotFoundError(f"Approval request {pending_id} does not exist.")
    if row.state != "pending":
        raise DataError(f"Approval request {pending_id} is already {row.state}.")
    state = "approved" if approve else "rejected"
    conn.execute(
        pending_changes.update()
        .where(pending_changes.c.id == pending_id)
        .values(state=state, decided_by=actor, decided_at=utcnow(), note=note)
    )
    audit.record(
        conn,
        actor=actor,
        action=f"label.downgrade.{state}",
        entity="pending_change",
        entity_id=pending_id,
        before={"state": "pending"},
        after={
            "state": state,
            "dimension": row.dimension,
            "from": row.from_label,
            "to": row.to_label,
            "note": note,
        },
    )


__all__ = ["decide_pending", "list_overrides", "list_pending", "revoke_override", "set_override"]
