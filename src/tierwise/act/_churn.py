"""Churn warnings and win-back: customers entering a churn label get a win-back task.

``playbooks.win_back`` names the churn dimension and labels (``churn_risk: [high]``). A
customer who moves into one of them in the latest snapshot (not a first classification) gets
one win-back task (due ``due_days`` later, through ``channel``), and a ``churn_warning``
webhook event is queued. The task's outcome (``won_back``, ``lost``, …, set when it is done)
is what `win_back_results` counts: whether the win-back playbook works.

Each warning says why, in zh and en: the largest parts of the churn score (P(alive), days since
the last order against the customer's own rhythm, complaints and negative feedback, falling
spend) as `tierwise explain` words them (`tierwise.models._explain.churn_reasons`), from the
snapshot's features file. Only the customers who entered a churn label are read from it (a
Parquet filter on ``customer_pk``), never the whole base.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl
import sqlalchemy as sa

from tierwise.access._principal import Principal
from tierwise.act._outbox import EVENT_TEXT, enqueue_rows
from tierwise.act._playbooks import ActiveBooks, active_playbooks
from tierwise.act._sql import insert_ignore, naive_utc
from tierwise.act._tasks import MOVES, _visible
from tierwise.act._text import MESSAGES
from tierwise.act._work import list_tasks
from tierwise.store.tables import customer_owners, customers, label_changes, tasks

#: the features `churn_reasons` reads (a snapshot may lack some: no models, no feedback)
REASON_FEATURES: Final = (
    "frequency", "purchase_days", "p_alive", "recency_days", "rhythm_ratio", "median_gap_days",
    "complaints_open", "negative_share", "spend_trend",
)  # fmt: skip
#: rows per multi-row INSERT (SQLite allows 32,766 parameters per statement)
CHUNK: Final = 500

MESSAGES.update({
    "task.win_back.reasons": (
        "流失预警：{dimension} 由 {old} 变为 {new}（{reasons_zh}），请在 {days} 天内{channel}挽回",
        "Churn warning: {dimension} went from {old} to {new} ({reasons_en}); win back by "
        "{channel} within {days} days",
    ),
})  # fmt: skip
EVENT_TEXT["event.churn_warning.reasons"] = (
    "{customer} 流失预警：{dimension} 由 {old} 变为 {new}；主要原因：{reasons_zh}",
    "{customer} churn warning: {dimension} went from {old} to {new}; main reasons: {reasons_en}",
)
MESSAGES.update(EVENT_TEXT)


def _entered(books: ActiveBooks) -> list[sa.ColumnElement[bool]]:
    wb = books.books.win_back
    assert wb is not None
    lc = label_changes
    return [
        lc.c.snapshot_id == books.snapshot_id,
        lc.c.kind.in_(MOVES),  # not a first classification; the (snapshot_id, kind) index
        lc.c.dimension == wb.dimension,
        lc.c.new_label.in_(wb.labels),
        customers.c.id == lc.c.customer_pk,
    ]


def warning_reasons(
    data_dir: Path | None, snapshot_id: int, pks: Sequence[int]
) -> dict[int, dict[str, list[str]]]:
    """customer_pk → ``{"zh": [...], "en": [...]}``: the churn score's largest parts in words,
    read from the snapshot's features for ``pks`` only. Empty without the features file."""
    from tierwise.classify._store import snapshot_dir
    from tierwise.models._explain import churn_reasons

    if data_dir is None or not pks:
        return {}
    path = snapshot_dir(data_dir, snapshot_id) / "features.parquet"
    if not path.exists():
        return {}
    frame = pl.scan_parquet(path)
    have = set(frame.collect_schema().names())
    if "customer_pk" not in have:
        return {}
    wanted = ["customer_pk", *(c for c in REASON_FEATURES if c in have)]
    rows = frame.select(wanted).filter(pl.col("customer_pk").is_in(list(pks))).collect()
    out: dict[int, dict[str, list[str]]] = {}
    for row in rows.iter_rows(named=True):
        # as `tierwise explain` does: no churn reasons for a customer who never bought
        if "purchase_days" in row and not (row["purchase_days"] or 0) > 0:
            continue
        zh, en = churn_reasons(row, lang="zh"), churn_reasons(row, lang="en")
        if zh:
            out[int(row["customer_pk"])] = {"zh": zh, "en": en}
    return out


def _insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Multi-row ``INSERT … ON CONFLICT DO NOTHING``, chunked; returns the rows inserted."""
    made = 0
    for i in range(0, len(rows), CHUNK):
        statement = insert_ignore(conn, table).values(rows[i : i + CHUNK])
        made += len(conn.execute(statement.returning(table.c.id)).all())
    return made


def raise_warnings(
    conn: sa.Connection, *, now: datetime, data_dir: Path | None = None
) -> dict[str, int]:
    """Win-back tasks and churn-warning events for the latest snapshot's entries into a churn
    label, each with its reasons (from the features in ``data_dir``'s snapshot folder, when
    given). Idempotent (keyed by snapshot and customer)."""
    now = naive_utc(now)
    books = active_playbooks(conn)
    if books is None or books.books.win_back is None:
        return {"warnings": 0, "events": 0, "explained": 0}
    wb = books.books.win_back
    sid = books.snapshot_id
    lc = label_changes
    owner = (
        sa.select(customer_owners.c.user_id)
        .where(customer_owners.c.customer_pk == lc.c.customer_pk)
        .scalar_subquery()
    )
    entered = conn.execute(
        sa.select(lc.c.customer_pk, lc.c.old_label, lc.c.new_label, owner.label("owner"),
                  customers.c.customer_id, customers.c.name)
        .where(*_entered(books))
        .order_by(lc.c.customer_pk)
    ).all()  # fmt: skip
    if not entered:
        return {"warnings": 0, "events": 0, "explained": 0}
    why = warning_reasons(data_dir, sid, [int(r.customer_pk) for r in entered])
    due = now + timedelta(days=wb.due_days)
    task_rows: list[dict[str, Any]] = []
    events: list[tuple[str, dict[str, Any]]] = []
    for r in entered:
        pk = int(r.customer_pk)
        change = {"dimension": wb.dimension, "old": r.old_label or "-", "new": r.new_label}
        reasons = why.get(pk)
        said = {} if reasons is None else {
            "reasons": reasons, "reasons_zh": "；".join(reasons["zh"]),
            "reasons_en": "; ".join(reasons["en"]),
        }  # fmt: skip
        task_rows.append({
            "customer_pk": pk, "user_id": r.owner, "kind": "win_back", "status": "open",
            "due_at": due, "channel": wb.channel, "snapshot_id": sid,
            "reason_key": "task.win_back.reasons" if reasons else "task.win_back",
            "reason_params": change | {"days": wb.due_days, "channel": wb.channel} | said,
            "dedupe_key": f"win_back:{sid}:{pk}", "open_key": f"win_back:{pk}",
            "created_at": now,
        })  # fmt: skip
        events.append((f"churn_warning:{sid}:{pk}", {
            "customer_id": r.customer_id, "customer_name": r.name or r.customer_id,
            "summary_key": "event.churn_warning.reasons" if reasons else "event.churn_warning",
            "occurred_at": now.isoformat(), **change,
            **({"reasons": reasons} if reasons else {}),
        }))  # fmt: skip
    made = _insert_rows(conn, tasks, task_rows)
    queued = enqueue_rows(conn, kind="churn_warning", rows=events, now=now)
    return {"warnings": made, "events": queued, "explained": len(why)}


def churn_warnings(
    conn: sa.Connection,
    *,
    principal: Principal,
    now: datetime,
    lang: str = "en",
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Open win-back tasks the caller may see, with why each customer is at risk:
    ``reason`` (the sentence) and ``churn_reasons`` (the score's largest parts, in ``lang``)."""
    rows = list_tasks(conn, principal=principal, now=now, due="all", kind="win_back", lang=lang,
                      limit=limit, everyone=principal.role in ("admin", "manager"))  # fmt: skip
    for row in rows:
        reasons = (row.get("reason_params") or {}).get("reasons") or {}
        row["churn_reasons"] = list(reasons.get("zh" if lang == "zh" else "en") or [])
    return rows


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


__all__ = ["churn_warnings", "raise_warnings", "warning_reasons", "win_back_results"]
