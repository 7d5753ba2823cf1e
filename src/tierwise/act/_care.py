"""The care calendar against the store: each tier's care events for the customers in scope.

The calendar itself (`tierwise.act._calendar.care_events`: solar and lunar holidays,
birthdays, anniversaries, quiet hours, the frequency cap) is stateless; this module feeds it
the customers' tiers, birthdays and first order days, counts what was sent already
(``care_sends``) against the cap, and with ``plan`` turns the touches into care tasks for the
owners — once per customer, event and day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from tierwise.access._principal import Principal, scope_clause
from tierwise.act._calendar import EVENT_KEYS, CareCap, CareRule, QuietHours, care_events
from tierwise.act._playbooks import active_playbooks
from tierwise.act._sql import insert_ignore, naive_utc
from tierwise.act._text import channel_text
from tierwise.errors import DataError
from tierwise.scheme._playbook import PERSONAL_CHANNELS
from tierwise.store.tables import care_sends, customer_owners, customers, labels, orders, tasks


def care_calendar(
    conn: sa.Connection,
    *,
    principal: Principal,
    now: datetime,
    days: int = 30,
    lang: str = "en",
    plan: bool = False,
) -> list[dict[str, Any]]:
    """Care touches of the next ``days`` days for customers in scope, by their tier's
    playbook; ``plan`` creates the owners' care tasks (needs the write permission)."""
    principal.require("read")
    if plan:
        principal.require("write")
    if not 1 <= days <= 366:
        raise DataError(f"--days {days} must be between 1 and 366.")
    now = naive_utc(now)
    books = active_playbooks(conn)
    if books is None:
        return []
    rules = {
        tier: CareRule(
            events=tuple(e for e in book.care if e in EVENT_KEYS),
            channel=book.channel if book.channel in PERSONAL_CHANNELS else "wechat",
        )
        for tier, book in books.books.tiers.items()
        if any(e in EVENT_KEYS for e in book.care)
    }
    if not rules:
        return []
    first_order = (
        sa.select(sa.func.min(orders.c.ordered_at))
        .where(orders.c.customer_pk == labels.c.customer_pk)
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(labels.c.customer_pk, labels.c.label.label("tier"), customers.c.customer_id,
                  customers.c.name, customers.c.birthday, first_order.label("first_order"))
        .join(customers, customers.c.id == labels.c.customer_pk)
        .where(books.held, labels.c.dimension == books.dimension,
               labels.c.label.in_(list(rules)), scope_clause(principal, labels.c.customer_pk))
    ).all()  # fmt: skip
    if not rows:
        return []
    frame = pl.DataFrame(
        {
            "customer_pk": [int(r.customer_pk) for r in rows],
            "tier": [str(r.tier) for r in rows],
            "birthday": [r.birthday for r in rows],
            "first_order_day": [r.first_order.date() if r.first_order else None for r in rows],
        },
        schema={"customer_pk": pl.Int64, "tier": pl.String, "birthday": pl.Date,
                "first_order_day": pl.Date},
    )  # fmt: skip
    start = now.date()
    sent = conn.execute(
        sa.select(care_sends.c.customer_pk, care_sends.c.occasion).where(
            care_sends.c.occasion >= start - timedelta(days=CareCap().days)
        )
    ).all()
    already = pl.DataFrame(
        {"customer_pk": [int(s[0]) for s in sent], "day": [s[1] for s in sent]},
        schema={"customer_pk": pl.Int64, "day": pl.Date},
    )
    events = care_events(
        frame, start=start, end=start + timedelta(days=days), rules=rules,
        quiet_hours=QuietHours(), cap_per_customer=CareCap(), already_sent=already,
    )  # fmt: skip
    names = {int(r.customer_pk): (r.customer_id, r.name, str(r.tier)) for r in rows}
    out = [
        {
            "customer_id": names[e["customer_pk"]][0],
            "customer_name": names[e["customer_pk"]][1],
            "tier": names[e["customer_pk"]][2],
            "event": e["event_key"],
            "day": e["day"].isoformat(),
            "send_at": e["send_at"],
            "channel": e["channel"],
            "channel_text": channel_text(e["channel"], lang),
            "reason": e["reason_zh"] if lang == "zh" else e["reason_en"],
            "_pk": e["customer_pk"],
        }
        for e in events.iter_rows(named=True)
    ]
    out.sort(key=lambda r: (r["day"], str(r["customer_id"]), r["event"]))
    if plan:
        _plan(conn, out, now=now)
    for row in out:
        row.pop("_pk")
    return out


def _plan(conn: sa.Connection, rows: list[dict[str, Any]], *, now: datetime) -> None:
    if not rows:
        return
    owners: dict[Any, Any] = dict(
        conn.execute(
            sa.select(customer_owners.c.customer_pk, customer_owners.c.user_id).where(
                customer_owners.c.customer_pk.in_(sorted({r["_pk"] for r in rows}))
            )
        ).all()
    )
    for row in rows:
        day = date.fromisoformat(row["day"])
        due = (
            row["send_at"].replace(tzinfo=None)
            if row["send_at"]
            else datetime(day.year, day.month, day.day)
        )
        task_id = conn.execute(
            insert_ignore(conn, tasks)
            .values(customer_pk=row["_pk"], user_id=owners.get(row["_pk"]), kind="care",
                    status="open", due_at=due, channel=row["channel"], playbook_tier=row["tier"],
                    reason_key="task.care", reason_params={"event": row["reason"]},
                    dedupe_key=f"care:{row['_pk']}:{row['event']}:{row['day']}", created_at=now)
            .returning(tasks.c.id)
        ).scalar()  # fmt: skip
        conn.execute(
            insert_ignore(conn, care_sends).values(
                customer_pk=row["_pk"], event=row["event"], occasion=day, channel=row["channel"],
                task_id=task_id, sent_at=now,
            )
        )  # fmt: skip


__all__ = ["care_calendar"]
