"""The act stage's two entry points: after a classification, and on a schedule.

- `after_classification` runs in one transaction right after a snapshot is published:
  re-plan and generate tasks, an owner for every customer entering a dedicated tier, churn
  warnings with their reasons, tier-change events, complaint SLAs.
- `run_schedule` is the periodic work (``tierwise schedule``, cron, the web worker): the same
  planning, overdue events, pool warnings and recycling, SLA escalation, and then — outside
  the transaction, so a slow receiver holds no lock — the outbox's due deliveries and, when
  SMTP is configured, each person's daily email digest of due and overdue work.

Both are idempotent: running them twice does nothing more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from tierwise.act._assign import assign_dedicated
from tierwise.act._churn import raise_warnings
from tierwise.act._complaints import escalate, track
from tierwise.act._digest import send_digests
from tierwise.act._mail import SmtpSettings
from tierwise.act._outbox import deliver_due, enqueue_select, event_rows
from tierwise.act._playbooks import ActiveBooks, active_playbooks
from tierwise.act._recycle import recycle
from tierwise.act._sql import day_text, naive_utc, text
from tierwise.act._tasks import MOVES, plan
from tierwise.store.tables import customers, label_changes, tasks

#: a task is reported overdue (webhook) once it is this late
OVERDUE_AFTER: Final = timedelta(days=1)


def _tier_events(conn: sa.Connection, *, books: ActiveBooks, now: datetime) -> int:
    lc = label_changes
    return enqueue_select(
        conn,
        kind="tier_changed",
        select=event_rows(
            conn,
            key=sa.literal(f"tier_changed:{books.snapshot_id}:") + text(lc.c.customer_pk),
            summary_key="event.tier_changed",
            now=now,
            old=sa.func.coalesce(lc.c.old_label, "-"),
            new=lc.c.new_label,
            direction=lc.c.kind,
        ).where(
            lc.c.snapshot_id == books.snapshot_id,
            lc.c.kind.in_(MOVES),
            lc.c.dimension == books.dimension,
            customers.c.id == lc.c.customer_pk,
        ),
        now=now,
    )


def _overdue_events(conn: sa.Connection, *, now: datetime) -> int:
    return enqueue_select(
        conn,
        kind="task_overdue",
        select=event_rows(
            conn,
            key=sa.literal("task_overdue:") + text(tasks.c.id),
            summary_key="event.task_overdue",
            now=now,
            due=day_text(conn, tasks.c.due_at),
            task=tasks.c.id,
        ).where(
            tasks.c.status == "open",
            tasks.c.kind.in_(("follow_up", "win_back")),
            tasks.c.due_at < now - OVERDUE_AFTER,
            customers.c.id == tasks.c.customer_pk,
        ),
        now=now,
    )


def after_classification(
    conn: sa.Connection, *, now: datetime, data_dir: Path | None = None
) -> dict[str, Any]:
    """Turn the newly published snapshot into work; the caller owns the transaction.
    ``data_dir`` (the settings' data directory) holds the snapshot's features, from which
    churn warnings take their reasons; without it they name the label change only."""
    now = naive_utc(now)
    books = active_playbooks(conn)
    if books is None:
        return {"playbooks": False}
    tasks_planned = plan(conn, now=now).as_dict()
    # after planning: the new owner's notice says why, and their tasks follow them
    owners = assign_dedicated(conn, now=now, books=books)
    return {
        "playbooks": True,
        "tasks": tasks_planned,
        "owners": owners,
        "churn": raise_warnings(conn, now=now, data_dir=data_dir),
        "tier_events": _tier_events(conn, books=books, now=now),
        "complaints": track(conn, now=now),
    }


def after_snapshot(
    engine: sa.Engine, *, now: datetime, data_dir: Path | None = None
) -> dict[str, Any]:
    """`after_classification` in its own transaction (the hook after publishing a snapshot)."""
    with engine.begin() as conn:
        return after_classification(conn, now=now, data_dir=data_dir)


def after_import(engine: sa.Engine, *, kind: str | None, changed: int, now: datetime) -> int:
    """The act work an import starts at once: complaints imported (feedback rows inserted or
    changed) join the complaint queue with their SLA clock, without waiting for the next
    classification or schedule run. Returns how many complaints started their clock."""
    if kind != "feedback" or changed <= 0:
        return 0
    with engine.begin() as conn:
        return track(conn, now=naive_utc(now))["tracked"]


def run_schedule(
    engine: sa.Engine,
    *,
    now: datetime,
    client: Any = None,
    deliver: bool = True,
    smtp: SmtpSettings | None = None,
    lang: str = "zh",
    secret_key: str | None = None,
) -> dict[str, Any]:
    """The periodic work: planning, overdue events, recycling, escalation, then webhooks
    (secrets decrypted with ``secret_key``, default the settings') and, with ``smtp``, the
    daily digests in ``lang`` (at most one per person and day)."""
    now = naive_utc(now)
    with engine.begin() as conn:
        out: dict[str, Any] = {
            "tasks": plan(conn, now=now).as_dict(),
            "overdue_events": _overdue_events(conn, now=now),
            "pool": recycle(conn, now=now),
            "complaints": track(conn, now=now) | escalate(conn, now=now),
        }
    if deliver:
        out["webhooks"] = deliver_due(engine, now=now, client=client, secret_key=secret_key)
    if smtp is not None:
        out["digests"] = send_digests(engine, now=now, smtp=smtp, lang=lang)
    return out


__all__ = [
    "OVERDUE_AFTER",
    "after_classification",
    "after_import",
    "after_snapshot",
    "run_schedule",
]
