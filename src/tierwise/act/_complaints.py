"""Complaint routing: a queue ordered by tier priority, then SLA deadline; escalation on breach.

Every open complaint (``feedback.kind = 'complaint'``, not resolved) gets a ``complaint_sla``
row: its tier, the tier's priority (0 = the first tier of ``playbooks.tiers``) and its
deadline, ``received_at + complaint_sla_hours``. When the customer changes tier, unanswered
complaints take the new tier's SLA. A complaint unanswered past its deadline is escalated
once: to the owner's manager (or, without one, to the administrators), with a task, and an
``sla_breached`` webhook event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from tierwise.access._principal import Principal, scope_clause
from tierwise.act._outbox import enqueue
from tierwise.act._playbooks import ActiveBooks, active_playbooks, tier_column
from tierwise.act._sql import insert_ignore, inserted, naive_utc, plus
from tierwise.errors import DataError, NotFoundError
from tierwise.store import audit
from tierwise.store.tables import (
    complaint_sla,
    customer_owners,
    customers,
    feedback,
    tasks,
    users,
)

#: the SLA of a complaint whose customer has no playbook
DEFAULT_SLA_HOURS: Final = 48
SYSTEM: Final = "system"


def _open_complaint() -> list[sa.ColumnElement[bool]]:
    return [
        feedback.c.kind == "complaint",
        feedback.c.resolved_at.is_(None),
        sa.or_(feedback.c.status.is_(None), feedback.c.status != "resolved"),
    ]


def _sla_case(books: ActiveBooks, tier: Any) -> tuple[Any, Any]:
    hours = sa.case(
        *((tier == k, b.complaint_sla_hours) for k, b in books.books.tiers.items()),
        else_=DEFAULT_SLA_HOURS,
    )
    rank = sa.case(*((tier == k, i) for i, k in enumerate(books.tiers)), else_=len(books.tiers))
    return hours, rank


def track(conn: sa.Connection, *, now: datetime) -> dict[str, int]:
    """Start the SLA clock of new complaints, re-tier unanswered ones, and stop the clock of
    complaints resolved in the data. Set-based; run after classification and on the schedule."""
    now = naive_utc(now)
    books = active_playbooks(conn)
    if books is None:  # no classification yet: the default SLA, no tier (set by the first one)
        tier: Any = sa.cast(sa.null(), sa.String)
        hours: Any = sa.literal(DEFAULT_SLA_HOURS)
        rank: Any = sa.literal(0)
    else:
        tier = tier_column(books, feedback.c.customer_pk)
        hours, rank = _sla_case(books, tier)
    select = sa.select(
        feedback.c.id, feedback.c.customer_pk, tier, rank, hours, feedback.c.received_at,
        plus(conn, feedback.c.received_at, hours=hours),
    ).where(
        *_open_complaint(),
        ~sa.exists().where(complaint_sla.c.feedback_pk == feedback.c.id),
    )  # fmt: skip
    columns = ["feedback_pk", "customer_pk", "tier", "priority", "sla_hours", "received_at",
               "deadline_at"]  # fmt: skip
    tracked = inserted(
        conn, insert_ignore(conn, complaint_sla).from_select(columns, select),
        key=complaint_sla.c.feedback_pk,
    )  # fmt: skip
    resolved = _resolved_in_data(conn)
    if books is None:
        return {"tracked": tracked, "retiered": 0, "resolved": resolved}
    now_tier = tier_column(books, complaint_sla.c.customer_pk)
    new_hours, new_rank = _sla_case(books, now_tier)
    retiered = conn.execute(
        complaint_sla.update()
        .where(
            complaint_sla.c.first_response_at.is_(None),
            complaint_sla.c.tier.is_distinct_from(now_tier),
        )
        .values(
            tier=now_tier,
            priority=new_rank,
            sla_hours=new_hours,
            deadline_at=plus(conn, complaint_sla.c.received_at, hours=new_hours),
        )
    )
    return {"tracked": tracked, "retiered": max(retiered.rowcount, 0), "resolved": resolved}


def _resolved_in_data(conn: sa.Connection) -> int:
    """Stop the clock of complaints the data says were resolved."""
    resolved_at = (
        sa.select(feedback.c.resolved_at)
        .where(feedback.c.id == complaint_sla.c.feedback_pk)
        .scalar_subquery()
    )
    resolved = conn.execute(
        complaint_sla.update()
        .where(complaint_sla.c.first_response_at.is_(None), resolved_at.is_not(None))
        .values(first_response_at=resolved_at, responded_by="import")
    )
    return max(resolved.rowcount, 0)


def complaint_queue(
    conn: sa.Connection,
    *,
    principal: Principal,
    now: datetime,
    limit: int = 100,
    lang: str = "en",
) -> list[dict[str, Any]]:
    """Unanswered complaints in the caller's scope: highest tier first, then the nearest
    deadline (breached ones are the nearest)."""
    principal.require("read")
    now = naive_utc(now)
    if not 1 <= limit <= 1000:
        raise DataError(f"limit {limit} must be between 1 and 1000.")
    books = active_playbooks(conn)
    cs = complaint_sla
    rows = conn.execute(
        sa.select(cs, feedback.c.feedback_id, feedback.c.text, feedback.c.category,
                  customers.c.customer_id, customers.c.name)
        .join(feedback, feedback.c.id == cs.c.feedback_pk)
        .join(customers, customers.c.id == cs.c.customer_pk)
        .where(cs.c.first_response_at.is_(None), scope_clause(principal, cs.c.customer_pk))
        .order_by(cs.c.priority, cs.c.deadline_at, cs.c.feedback_pk)
        .limit(limit)
    ).mappings()  # fmt: skip
    return [
        {
            "feedback_id": r["feedback_id"],
            "customer_id": r["customer_id"],
            "customer_name": r["name"],
            "tier": r["tier"],
            "tier_text": books.label_text(r["tier"], lang) if books else r["tier"],
            "text": (r["text"] or r["category"] or "")[:200],
            "received_at": r["received_at"].isoformat(sep=" ", timespec="minutes"),
            "deadline_at": r["deadline_at"].isoformat(sep=" ", timespec="minutes"),
            "sla_hours": r["sla_hours"],
            "hours_left": round((r["deadline_at"] - now).total_seconds() / 3600, 1),
            "breached": r["deadline_at"] < now,
            "escalated": r["escalated_at"] is not None,
        }
        for r in rows
    ]


def respond(
    conn: sa.Connection,
    *,
    principal: Principal,
    feedback_id: str,
    now: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    """Record the first response to a complaint: the SLA clock stops."""
    if principal.role == "analyst":
        raise NotFoundError(f'Complaint "{feedback_id}" does not exist.')
    now = naive_utc(now)
    row = conn.execute(
        sa.select(complaint_sla.c.feedback_pk, complaint_sla.c.first_response_at)
        .join(feedback, feedback.c.id == complaint_sla.c.feedback_pk)
        .where(
            feedback.c.feedback_id == feedback_id,
            scope_clause(principal, complaint_sla.c.customer_pk),
        )
        .with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(
            f'Complaint "{feedback_id}" does not exist.', key="err.complaint_missing",
            id=feedback_id,
        )  # fmt: skip
    if row.first_response_at is not None:
        raise DataError(f'Complaint "{feedback_id}" was answered already.',
                        key="err.complaint_answered", id=feedback_id)  # fmt: skip
    conn.execute(
        complaint_sla.update()
        .where(complaint_sla.c.feedback_pk == row.feedback_pk)
        .values(first_response_at=now, responded_by=principal.username)
    )
    conn.execute(
        tasks.update()
        .where(tasks.c.feedback_pk == row.feedback_pk, tasks.c.status.in_(("open", "snoozed")))
        .values(status="done", open_key=None, completed_at=now, completed_by=principal.username,
                outcome="responded")
    )  # fmt: skip
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="complaint.respond",
        entity="feedback", entity_id=feedback_id, before=None,
        after={"first_response_at": now, "note": note},
    )  # fmt: skip
    return {"feedback_id": feedback_id, "first_response_at": now.isoformat(sep=" ")}


def escalate(conn: sa.Connection, *, now: datetime) -> dict[str, int]:
    """Escalate every unanswered complaint past its deadline, once: the owner's manager (or
    the administrators) gets a task, and an ``sla_breached`` event is queued."""
    now = naive_utc(now)
    cs = complaint_sla
    owner = users.alias("owner")
    breached = conn.execute(
        sa.select(cs.c.feedback_pk, cs.c.customer_pk, cs.c.tier, cs.c.sla_hours,
                  cs.c.deadline_at, customer_owners.c.user_id.label("owner"),
                  owner.c.manager_id.label("manager"), feedback.c.feedback_id,
                  customers.c.customer_id, customers.c.name)
        .join(feedback, feedback.c.id == cs.c.feedback_pk)
        .join(customers, customers.c.id == cs.c.customer_pk)
        .outerjoin(customer_owners, customer_owners.c.customer_pk == cs.c.customer_pk)
        .outerjoin(owner, owner.c.id == customer_owners.c.user_id)
        .where(cs.c.first_response_at.is_(None), cs.c.escalated_at.is_(None),
               cs.c.deadline_at < now)
        .order_by(cs.c.priority, cs.c.deadline_at)
    ).all()  # fmt: skip
    if not breached:
        return {"escalated": 0}
    admin = conn.scalar(
        sa.select(users.c.id)
        .where(users.c.role == "admin", users.c.is_active.is_(True))
        .order_by(users.c.id)
        .limit(1)
    )
    for r in breached:
        to = r.manager if r.manager is not None else admin
        conn.execute(
            cs.update().where(cs.c.feedback_pk == r.feedback_pk)
            .values(escalated_at=now, escalated_to=to)
        )  # fmt: skip
        params = {"feedback": r.feedback_id, "hours": r.sla_hours, "tier": r.tier or "-",
                  "customer": r.name or r.customer_id}  # fmt: skip
        conn.execute(
            insert_ignore(conn, tasks).values(
                customer_pk=r.customer_pk, user_id=to, kind="complaint", status="open",
                due_at=now, channel="call", playbook_tier=r.tier, feedback_pk=r.feedback_pk,
                reason_key="task.complaint_escalated", reason_params=params,
                dedupe_key=f"complaint:escalated:{r.feedback_pk}",
                open_key=f"complaint:{r.feedback_pk}", created_at=now,
            )
        )  # fmt: skip
        enqueue(
            conn,
            kind="sla_breached",
            key=f"sla_breached:{r.feedback_pk}",
            customer_id=r.customer_id,
            customer_name=r.name or r.customer_id,
            summary_key="event.sla_breached",
            params=params,
            now=now,
        )
        audit.record(
            conn, actor=SYSTEM, action="complaint.escalate", entity="feedback",
            entity_id=r.feedback_id, before={"deadline_at": r.deadline_at},
            after={"escalated_to": to, "owner": r.owner},
        )  # fmt: skip
    return {"escalated": len(breached)}


__all__ = ["DEFAULT_SLA_HOURS", "complaint_queue", "escalate", "respond", "track"]
