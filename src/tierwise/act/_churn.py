"""Churn warnings and win-back: customers entering a churn label get a win-back task.

``playbooks.win_back`` names the churn dimension and labels (``churn_risk: [high]``). A
customer who moves into one of them in the latest snapshot (not a first classification) gets
one win-back task (due ``due_days`` later, through ``channel``), and a ``churn_warning``
webhook event is queued. The task's outcome (``won_back``, ``lost``, …, set when it is done)
is what `win_back_results` counts: whether the win-back playbook works.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tierwise.access._principal import Principal
from tierwise.act._outbox import enqueue_select, event_rows
from tierwise.act._playbooks import ActiveBooks, active_playbooks
from tierwise.act._sql import insert_ignore, inserted, json_object, naive_utc, text
from tierwise.act._tasks import _visible
from tierwise.act._work import list_tasks
from tierwise.store.tables import customer_owners, customers, label_changes, tasks


def _entered(books: ActiveBooks) -> list[sa.ColumnElement[bool]]:
    wb = books.books.win_back
    assert wb is not None
    lc = label_changes
    return [
        lc.c.snapshot_id == books.snapshot_id,
        lc.c.dimension == wb.dimension,
        lc.c.new_label.in_(wb.labels),
        lc.c.kind != "new",
        customers.c.id == lc.c.customer_pk,
    ]


def raise_warnings(conn: sa.Connection, *, now: datetime) -> dict[str, int]:
    """Win-back tasks and churn-warning events for the latest snapshot's entries into a churn
    label. Idempotent (keyed by snapshot and customer)."""
    now = naive_utc(now)
    books = active_playbooks(conn)
    if books is None or books.books.win_back is None:
        return {"warnings": 0, "events": 0}
    wb = books.books.win_back
    lc = label_changes
    owner = (
        sa.select(customer_owners.c.user_id)
        .where(customer_owners.c.customer_pk == lc.c.customer_pk)
        .scalar_subquery()
    )
    params = json_object(
        conn,
        dimension=wb.dimension,
        old=sa.func.coalesce(lc.c.old_label, "-"),
        new=lc.c.new_label,
        days=wb.due_days,
        channel=wb.channel,
    )
    select = sa.select(
        lc.c.customer_pk, owner, sa.literal("win_back"), sa.literal("open"),
        sa.literal(now + timedelta(days=wb.due_days), tasks.c.due_at.type),
        sa.literal(wb.channel), sa.literal(books.snapshot_id), sa.literal("task.win_back"),
        params,
        sa.literal(f"win_back:{books.snapshot_id}:") + text(lc.c.customer_pk),
        sa.literal("win_back:") + text(lc.c.customer_pk),
        sa.literal(now, tasks.c.created_at.type),
    ).where(*_entered(books))  # fmt: skip
    columns = ["customer_pk", "user_id", "kind", "status", "due_at", "channel", "snapshot_id",
               "reason_key", "reason_params", "dedupe_key", "open_key", "created_at"]  # fmt: skip
    made = inserted(conn, insert_ignore(conn, tasks).from_select(columns, select),
                    key=tasks.c.id)  # fmt: skip
    events = enqueue_select(
        conn,
        kind="churn_warning",
        select=event_rows(
            conn,
            key=sa.literal(f"churn_warning:{books.snapshot_id}:") + text(lc.c.customer_pk),
            summary_key="event.churn_warning",
            now=now,
            dimension=wb.dimension,
            old=sa.func.coalesce(lc.c.old_label, "-"),
            new=lc.c.new_label,
        ).where(*_entered(books)),
        now=now,
    )
    return {"warnings": made, "events": events}


def churn_warnings(
    conn: sa.Connection,
    *,
    principal: Principal,
    now: datetime,
    lang: str = "en",
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Open win-back tasks the caller may see, with why each customer is at risk."""
    return list_tasks(conn, principal=principal, now=now, due="all", kind="win_back", lang=lang,
                      limit=limit, everyone=principal.role in ("admin", "manager"))  # fmt: skip


def win_back_results(conn: sa.Connection, *, principal: Principal) -> dict[str, int]:
    """Win-back tasks by outcome (open ones as ``open``): does the win-back playbook work?"""
    rows = conn.execute(
        sa.select(
            sa.case((tasks.c.status.in_(("open", "snoozed")), "open"),
                    else_=sa.func.coalesce(tasks.c.outcome, tasks.c.status)),
            sa.func.count(),
        )
        .where(tasks.c.kind == "win_back", _visible(principal))
        .group_by(sa.text("1"))
    ).all()  # fmt: skip
    found: list[Any] = list(rows)
    return {str(r[0]): int(r[1]) for r in found}


__all__ = ["churn_warnings", "raise_warnings", "win_back_results"]
