"""My work: a user's tasks due today and overdue, with why and how (talking points).

One page of tasks at a time: the talking points (recent orders, open complaints, what may be
recommended) are read for that page's customers only, in a few ``IN`` queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from tierwise.access._principal import Principal
from tierwise.act._playbooks import ActiveBooks, active_playbooks, tier_column
from tierwise.act._sql import naive_utc
from tierwise.act._tasks import OPEN, _visible
from tierwise.act._text import channel_text, say
from tierwise.errors import DataError
from tierwise.store.tables import customers, feedback, orders, tasks, users

Due = Literal["today", "overdue", "upcoming", "all"]


def _window(due: Due, now: datetime) -> list[sa.ColumnElement[bool]]:
    start = datetime(now.year, now.month, now.day)
    end = start + timedelta(days=1)
    if due == "today":
        return [tasks.c.status.in_(OPEN), tasks.c.due_at < end]
    if due == "overdue":
        return [tasks.c.status.in_(OPEN), tasks.c.due_at < start]
    if due == "upcoming":
        return [tasks.c.status.in_(OPEN), tasks.c.due_at >= end]
    return []


def list_tasks(
    conn: sa.Connection,
    *,
    principal: Principal,
    now: datetime,
    due: Due = "today",
    user_id: int | None = None,
    kind: str | None = None,
    limit: int = 100,
    lang: str = "en",
    talking_points: bool = True,
    everyone: bool = False,
) -> list[dict[str, Any]]:
    """My work: tasks due today and overdue (``due="today"``), with the customer's tier, why
    the contact is due, the suggested channel and talking points. The highest tier comes
    first (the order of ``playbooks.tiers``; tasks of no tier last), then the oldest: a
    page of ``limit`` tasks never hides a key account's follow-up behind long-neglected
    small customers.

    ``user_id`` (default: the caller) lets a manager look at a rep of their team;
    ``everyone`` lists every task the caller may see (a manager's team, all for admins).
    """
    now = naive_utc(now)
    if not 1 <= limit <= 1000:
        raise DataError(f"limit {limit} must be between 1 and 1000.")
    who = principal.user_id if user_id is None else user_id
    where = [_visible(principal), *_window(due, now)]
    if not everyone:
        where.append(tasks.c.user_id == who)
    if kind is not None:
        where.append(tasks.c.kind == kind)
    books = active_playbooks(conn)
    tier = tier_column(books, tasks.c.customer_pk) if books else sa.null()
    # the tier the task was planned for (re-planning keeps it the latest snapshot's), else the
    # latest snapshot's: a win-back task has none of its own. COALESCE stops at the first
    # value, so the lookup runs for those tasks only, not for every task of a long list.
    rank = (
        sa.case({t: i for i, t in enumerate(books.tiers)},
                value=sa.func.coalesce(tasks.c.playbook_tier, tier), else_=len(books.tiers))
        if books and books.tiers else sa.literal(0)
    )  # fmt: skip
    rows = conn.execute(
        sa.select(
            tasks,
            customers.c.customer_id,
            customers.c.name.label("customer_name"),
            tier.label("tier"),
            users.c.username.label("assignee"),
        )
        .join(customers, customers.c.id == tasks.c.customer_pk)
        .outerjoin(users, users.c.id == tasks.c.user_id)
        .where(*where)
        .order_by(rank, tasks.c.due_at, tasks.c.id)
        .limit(limit)
    ).mappings()
    out = [_task_dict(dict(r), now=now, lang=lang, books=books) for r in rows]
    if talking_points and out:
        _add_talking_points(conn, out, books=books, now=now)
    return out


def _task_dict(
    row: dict[str, Any], *, now: datetime, lang: str, books: ActiveBooks | None
) -> dict[str, Any]:
    params = dict(row.get("reason_params") or {})
    if "detail_key" in params:
        detail = {"key": params.pop("detail_key"), "params": dict(params)}
        params["detail"] = detail
    due_at: datetime = row["due_at"]
    tier = row.get("tier")
    return {
        "id": int(row["id"]),
        "kind": row["kind"],
        "status": row["status"],
        "customer_id": row["customer_id"],
        "customer_name": row["customer_name"],
        "tier": tier,
        "tier_text": books.label_text(tier, lang) if books else tier,
        "assignee": row.get("assignee"),
        "due_at": due_at.isoformat(sep=" ", timespec="minutes"),
        "overdue_days": max((now.date() - due_at.date()).days, 0),
        "channel": row["channel"],
        "channel_text": channel_text(row["channel"], lang) if row["channel"] else "",
        "reason": say(row["reason_key"], lang, params),
        "reason_key": row["reason_key"],
        "reason_params": row.get("reason_params") or {},
        "note": row.get("note"),
        "outcome": row.get("outcome"),
        "_pk": int(row["customer_pk"]),
        "_tier": tier,
    }


def _add_talking_points(
    conn: sa.Connection, out: list[dict[str, Any]], *, books: ActiveBooks | None, now: datetime
) -> None:
    """Recent orders, open complaints and what may be recommended, for one page of tasks."""
    pks = sorted({t["_pk"] for t in out})
    ranked = (
        sa.select(
            orders.c.customer_pk,
            orders.c.ordered_at,
            orders.c.amount,
            sa.func.coalesce(orders.c.product_name, orders.c.category).label("item"),
            sa.func.row_number()
            .over(
                partition_by=orders.c.customer_pk,
                order_by=(orders.c.ordered_at.desc(), orders.c.id.desc()),
            )
            .label("n"),
        )
        .where(orders.c.customer_pk.in_(pks))
        .subquery()
    )
    recent: dict[int, list[dict[str, Any]]] = {}
    for r in conn.execute(sa.select(ranked).where(ranked.c.n <= 3).order_by(ranked.c.n)):
        recent.setdefault(int(r.customer_pk), []).append(
            {"at": r.ordered_at.date().isoformat(), "amount": r.amount, "item": r.item}
        )
    complaints: dict[int, list[str]] = {}
    for r in conn.execute(
        sa.select(feedback.c.customer_pk, feedback.c.text, feedback.c.category)
        .where(
            feedback.c.customer_pk.in_(pks),
            feedback.c.kind == "complaint",
            feedback.c.resolved_at.is_(None),
            sa.or_(feedback.c.status.is_(None), feedback.c.status != "resolved"),
        )
        .order_by(feedback.c.received_at.desc())
    ):
        complaints.setdefault(int(r.customer_pk), []).append(str(r.text or r.category or "")[:120])
    bought: dict[int, set[str]] = {}
    for r in conn.execute(
        sa.select(orders.c.customer_pk, orders.c.category)
        .where(orders.c.customer_pk.in_(pks), orders.c.category.is_not(None))
        .distinct()
    ):
        bought.setdefault(int(r.customer_pk), set()).add(str(r.category))
    top = (
        sa.select(orders.c.category)
        .where(orders.c.category.is_not(None), orders.c.ordered_at >= now - timedelta(days=90))
        .group_by(orders.c.category)
        .order_by(sa.func.count().desc(), orders.c.category)
        .limit(10)
    )
    found: list[Any] = list(conn.execute(top).scalars())
    popular = [str(c) for c in found]
    for task in out:
        pk = task.pop("_pk")
        tier = task.pop("_tier")
        book = books.playbook(tier) if books else None
        allowed = book.recommendations if book else []
        pool = popular if "*" in allowed else [c for c in popular if c in allowed]
        task["talking_points"] = {
            "recent_orders": recent.get(pk, []),
            "open_complaints": complaints.get(pk, []),
            "recommendations": [c for c in pool if c not in bought.get(pk, set())][:3],
            "discount_max_percent": book.discount.max_percent if book else 0.0,
        }


__all__ = ["Due", "list_tasks"]
