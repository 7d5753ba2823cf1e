"""Follow-up tasks from the playbooks: generated, re-planned, listed (My work), done, snoozed.

Generation is set-based (one ``INSERT … SELECT`` per tier, never a loop over customers) and
idempotent: every generated task has a ``dedupe_key`` and, while open, an ``open_key``
(``follow_up:<customer>``) that is unique, so generating twice inserts nothing new and a
customer never has two open follow-ups.

The due date of a follow-up is the customer's last contact (a call, visit or message in
``interactions``) plus the tier's ``cadence_days``; a customer never contacted is due at once.
Completing a task logs the contact in ``interactions`` and plans the next one; snoozing and
skipping need a reason. Re-planning compares each open follow-up's ``playbook_tier`` with the
customer's tier now: a follow-up whose tier changed takes the new cadence and channel (or is
cancelled when the new tier has no proactive contact), and the owner gets a notice saying why.

Functions take the connection first and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from tierwise.access._principal import ForbiddenError, Principal, scope_clause, team_ids
from tierwise.act._playbooks import ActiveBooks, active_playbooks, tier_of
from tierwise.act._sql import (
    CONTACT_KINDS,
    day_text,
    insert_ignore,
    inserted,
    json_object,
    last_contact,
    naive_utc,
    plus,
    text,
)
from tierwise.errors import DataError, NotFoundError
from tierwise.evaluate._holdout import holdout_clause
from tierwise.scheme._playbook import Playbook
from tierwise.store import audit
from tierwise.store.bulk import bulk_session
from tierwise.store.tables import (
    customer_owners,
    customers,
    interactions,
    label_changes,
    labels,
    tasks,
)

OPEN: Final = ("open", "snoozed")
#: kinds done for a customer by its owner: they follow the owner when it changes
CUSTOMER_KINDS: Final = ("follow_up", "win_back", "care")
SYSTEM: Final = "system"
MAX_REASON: Final = 500


@dataclass(frozen=True)
class PlanResult:
    created: int = 0
    replanned: int = 0
    cancelled: int = 0
    notices: int = 0
    reassigned: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "replanned": self.replanned,
            "cancelled": self.cancelled,
            "notices": self.notices,
            "reassigned": self.reassigned,
        }


def _owner(pk: sa.ColumnElement[int]) -> sa.ScalarSelect[Any]:
    return (
        sa.select(customer_owners.c.user_id)
        .where(customer_owners.c.customer_pk == pk)
        .scalar_subquery()
    )


def _has_open(kind: str, pk: sa.ColumnElement[int]) -> sa.Exists:
    return sa.exists().where(
        tasks.c.customer_pk == pk, tasks.c.kind == kind, tasks.c.status.in_(OPEN)
    )


def _key(*parts: Any) -> sa.ColumnElement[str]:
    """``a:b:c`` from literals and columns (an idempotency key built in SQL)."""
    out: sa.ColumnElement[str] | None = None
    for i, part in enumerate(parts):
        piece = text(part) if isinstance(part, sa.ColumnElement) else sa.literal(str(part))
        if i:
            piece = sa.literal(":") + piece
        out = piece if out is None else out + piece
    assert out is not None
    return out


def _by_tier(
    tier: sa.ColumnElement[Any], values: dict[str, Any], type_: Any
) -> sa.ColumnElement[Any]:
    """``CASE tier WHEN 'A' THEN … END``: one statement for every tier's playbook, typed (a bare
    parameter's type cannot be inferred by PostgreSQL inside ``json_build_object``)."""
    return sa.cast(sa.case(values, value=tier), type_)


def _candidates(books: ActiveBooks, tiers: dict[str, Playbook]) -> list[sa.ColumnElement[bool]]:
    """Labels of ``tiers`` in the latest snapshot whose customer has no open follow-up and is
    not in the tier's holdout."""
    pk = labels.c.customer_pk
    held = [
        sa.and_(labels.c.label == tier, holdout_clause(pk, tier, book.holdout_share))
        for tier, book in tiers.items()
        if book.holdout_share
    ]
    return [
        books.held,
        labels.c.dimension == books.dimension,
        labels.c.label.in_(list(tiers)),
        ~_has_open("follow_up", pk),
        # the tier's holdout gets no proactive contact (evaluation measures the uplift)
        *([~sa.or_(*held)] if held else []),
    ]


#: the customers who need a follow-up, gathered before any is inserted (see `generate`)
_NEEDED = sa.Table(
    "tw_follow_ups_needed",
    sa.MetaData(),
    sa.Column("customer_pk", sa.BigInteger(), primary_key=True),
    sa.Column("tier", sa.String(64), nullable=False),
    prefixes=["TEMPORARY"],
)


def generate(conn: sa.Connection, *, now: datetime, books: ActiveBooks | None = None) -> PlanResult:
    """Create the follow-ups that are missing: one per customer of a tier with a cadence.

    Set-based in three statements for every tier at once. (1) The customers of a tier with a
    cadence and no open follow-up are written to a temporary table first: an ``INSERT … SELECT``
    that reads ``tasks`` while it writes it lets PostgreSQL re-scan the rows it is adding once
    per customer (quadratic when the table looks empty to the planner, as it does right after
    the first classification). (2) Their last contacts are one grouped read of their
    interactions (none on a run after the first, when everyone has a follow-up already), joined
    once — not a correlated subquery, which PostgreSQL runs again for every reference to it.
    (3) The insert. Running it twice creates nothing new. Also hands open customer tasks to the
    customer's current owner (an owner changed elsewhere).
    """
    books = books or active_playbooks(conn)
    if books is None:
        return PlanResult()
    now = naive_utc(now)
    tiers = {t: b for t, b in books.books.tiers.items() if b.cadence_days is not None}
    created = 0
    if tiers:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {_NEEDED.name}"))
        _NEEDED.create(conn)
        conn.execute(_NEEDED.insert().from_select(
            ["customer_pk", "tier"],
            sa.select(labels.c.customer_pk, labels.c.label).where(*_candidates(books, tiers)),
        ))  # fmt: skip
        created = _insert_follow_ups(conn, books=books, tiers=tiers, now=now)
        _NEEDED.drop(conn)
    reassigned = _follow_owners(conn)
    return PlanResult(created=created, reassigned=reassigned)


def _insert_follow_ups(
    conn: sa.Connection, *, books: ActiveBooks, tiers: dict[str, Playbook], now: datetime
) -> int:
    need = _NEEDED
    kind = interactions.c.kind
    contacts = (
        sa.select(interactions.c.customer_pk,
                  sa.func.max(interactions.c.occurred_at).label("last"))
        .where(interactions.c.customer_pk.in_(sa.select(need.c.customer_pk)),
               sa.or_(kind.is_(None), kind.in_(CONTACT_KINDS)))
        .group_by(interactions.c.customer_pk)
        .subquery("contacts")
    )  # fmt: skip
    co = customer_owners
    base = (
        sa.select(need.c.customer_pk.label("pk"), need.c.tier, co.c.user_id.label("owner"),
                  contacts.c.last)
        .select_from(need.outerjoin(contacts, contacts.c.customer_pk == need.c.customer_pk)
                     .outerjoin(co, co.c.customer_pk == need.c.customer_pk))
        .subquery("base")
    )  # fmt: skip
    days = _by_tier(base.c.tier, {t: b.cadence_days for t, b in tiers.items()}, sa.Integer)
    channel = _by_tier(base.c.tier, {t: b.channel for t, b in tiers.items()}, sa.String)
    never = base.c.last.is_(None)
    last_day = day_text(conn, base.c.last)
    select = sa.select(
        base.c.pk,
        base.c.owner,
        sa.literal("follow_up"),
        sa.literal("open"),
        sa.case(
            (never, sa.literal(now, tasks.c.due_at.type)),
            else_=plus(conn, base.c.last, days=days),
        ),
        channel,
        base.c.tier,
        sa.literal(books.snapshot_id),
        sa.case((never, "task.cadence.never"), else_="task.cadence"),
        json_object(conn, tier=base.c.tier, days=days, channel=channel,
                    last=sa.func.coalesce(last_day, "-")),
        _key("follow_up", base.c.pk, books.snapshot_id, sa.func.coalesce(last_day, "never")),
        _key("follow_up", base.c.pk),
        sa.literal(now, tasks.c.created_at.type),
    ).where(sa.true())  # fmt: skip
    columns = [
        "customer_pk", "user_id", "kind", "status", "due_at", "channel", "playbook_tier",
        "snapshot_id", "reason_key", "reason_params", "dedupe_key", "open_key", "created_at",
    ]  # fmt: skip
    return inserted(conn, insert_ignore(conn, tasks).from_select(columns, select), key=tasks.c.id)


#: the fingerprint's modulus (a prime; keeps its sums inside 64 bits at any size)
_MOD: Final = 1_000_000_007


def _owners_fingerprint(conn: sa.Connection) -> str:
    """Changes whenever an owner is added, removed or replaced: the count, two checksums (one
    of them not additive, so two customers swapping owners show too) and the latest
    assignment. One aggregate over the owners, where the sweep probes every open task."""
    co = customer_owners
    row = conn.execute(sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum((co.c.customer_pk * 31 + co.c.user_id) % _MOD), 0),
        sa.func.coalesce(sa.func.sum((co.c.customer_pk * co.c.user_id) % _MOD), 0),
        sa.func.max(co.c.assigned_at),
    )).one()  # fmt: skip
    stamp = "-" if row[3] is None else row[3].isoformat()
    return f"{int(row[0])}:{int(row[1])}:{int(row[2])}:{stamp}"


def _follow_owners(conn: sa.Connection) -> int:
    """Open customer tasks go to the customer's owner (NULL: the pool), in one pass — when
    the owners changed since the last pass (every way Tierwise creates or moves a customer
    task gives it the owner already; the pass catches owners changed around it)."""
    mark = _owners_fingerprint(conn)
    if audit.last_entity_id(conn, action="tasks.follow_owners", entity="owners") == mark:
        return 0
    moved = _sweep_owners(conn)
    audit.record(conn, actor=SYSTEM, action="tasks.follow_owners", entity="owners",
                 entity_id=mark, after={"reassigned": moved})  # fmt: skip
    return moved


def _sweep_owners(conn: sa.Connection) -> int:
    owner = _owner(tasks.c.customer_pk)
    result = conn.execute(
        tasks.update()
        .where(
            tasks.c.status.in_(OPEN),
            tasks.c.kind.in_(CUSTOMER_KINDS),
            tasks.c.user_id.is_distinct_from(owner),
        )
        .values(user_id=owner)
    )
    return max(result.rowcount, 0)


def replan(conn: sa.Connection, *, now: datetime, books: ActiveBooks | None = None) -> PlanResult:
    """Open follow-ups whose customer changed tier follow the new tier's playbook.

    A follow-up planned for another tier is re-dated (last contact + the new cadence) with
    the new channel, or cancelled when the new tier has no proactive contact (or no
    playbook). Owners get a notice per customer that changed tier in the latest snapshot.
    Each is one statement for every tier, joined with the snapshot's labels.
    """
    books = books or active_playbooks(conn)
    if books is None:
        return PlanResult()
    now = naive_utc(now)
    tiers = {t: b for t, b in books.books.tiers.items() if b.cadence_days is not None}
    done = _replan_mark(books, tiers)
    if audit.recorded(conn, action="tasks.replan", entity="snapshot", entity_id=done):
        # every follow-up since was planned by this snapshot's labels and these cadences
        return PlanResult(notices=_tier_notices(conn, books=books, now=now))
    replanned, cancelled = _replan_all(conn, books=books, tiers=tiers, now=now)
    audit.record(conn, actor=SYSTEM, action="tasks.replan", entity="snapshot", entity_id=done,
                 after={"replanned": replanned, "cancelled": cancelled})  # fmt: skip
    notices = _tier_notices(conn, books=books, now=now)
    return PlanResult(replanned=replanned, cancelled=cancelled, notices=notices)


def _replan_mark(books: ActiveBooks, tiers: dict[str, Playbook]) -> str:
    """``snapshot:digest`` of what re-planning reads: the snapshot, its dimension and each
    tier's cadence and channel. Once re-planned, nothing makes a follow-up stale until one of
    them changes: every follow-up is created by the latest snapshot's tier and cadence."""
    what = repr((books.dimension, sorted((t, b.cadence_days, b.channel) for t, b in tiers.items())))
    return f"{books.snapshot_id}:{hashlib.sha256(what.encode()).hexdigest()[:16]}"


def _replan_all(
    conn: sa.Connection, *, books: ActiveBooks, tiers: dict[str, Playbook], now: datetime
) -> tuple[int, int]:
    """Re-date the open follow-ups planned for another tier; cancel those of a tier without
    proactive contact. Two statements over every open follow-up."""
    stale = [tasks.c.kind == "follow_up", tasks.c.status.in_(OPEN)]
    replanned = 0
    here = [
        books.held,
        labels.c.dimension == books.dimension,
        labels.c.customer_pk == tasks.c.customer_pk,
    ]
    if tiers:
        new = labels.c.label
        days = _by_tier(new, {t: b.cadence_days for t, b in tiers.items()}, sa.Integer)
        channel = _by_tier(new, {t: b.channel for t, b in tiers.items()}, sa.String)
        basis = sa.func.coalesce(last_contact(tasks.c.customer_pk), tasks.c.created_at)
        result = conn.execute(
            tasks.update()
            .where(*stale, *here, new.in_(list(tiers)), tasks.c.playbook_tier.is_distinct_from(new))
            .values(
                due_at=plus(conn, basis, days=days),
                status="open",
                snoozed_until=None,
                channel=channel,
                reason_key="task.replanned",
                reason_params=json_object(
                    conn, old=sa.func.coalesce(tasks.c.playbook_tier, "-"), new=new, days=days,
                    channel=channel,
                ),
                playbook_tier=new,
                snapshot_id=books.snapshot_id,
            )
        )  # fmt: skip
        replanned = max(result.rowcount, 0)
    proactive = sa.exists().where(*here, labels.c.label.in_(list(tiers)))
    result = conn.execute(
        tasks.update()
        .where(*stale, ~proactive)
        .values(status="cancelled", open_key=None, completed_at=now, completed_by=SYSTEM,
                outcome="replanned")
    )  # fmt: skip
    return replanned, max(result.rowcount, 0)


#: label changes that move a customer (a first classification is "new")
MOVES: Final = ("upgrade", "downgrade", "change")


def _tier_notices(conn: sa.Connection, *, books: ActiveBooks, now: datetime) -> int:
    """A notice to the owner of every customer whose tier changed in the latest snapshot."""
    lc = label_changes
    tiers = books.books.tiers
    new = lc.c.new_label
    owner = _owner(lc.c.customer_pk)
    detail = {t: "detail.playbook" if b.cadence_days is not None else "detail.no_contact"
              for t, b in tiers.items()}  # fmt: skip
    channel = _by_tier(new, {t: b.channel for t, b in tiers.items()}, sa.String)
    select = sa.select(
        lc.c.customer_pk,
        owner,
        sa.literal("notice"),
        sa.literal("open"),
        sa.literal(now, tasks.c.due_at.type),
        channel,
        new,
        sa.literal(books.snapshot_id),
        sa.literal("task.tier_changed"),
        json_object(
            conn,
            customer=sa.func.coalesce(customers.c.name, customers.c.customer_id),
            old=sa.func.coalesce(lc.c.old_label, "-"),
            new=new,
            detail_key=_by_tier(new, detail, sa.String),
            service=_by_tier(new, {t: b.service_level for t, b in tiers.items()}, sa.String),
            days=_by_tier(new, {t: b.cadence_days or 0 for t, b in tiers.items()}, sa.Integer),
            channel=channel,
            sla=_by_tier(new, {t: b.complaint_sla_hours for t, b in tiers.items()}, sa.Integer),
        ),
        _key("notice", "tier", books.snapshot_id, lc.c.customer_pk),
        sa.literal(now, tasks.c.created_at.type),
    ).where(
        lc.c.snapshot_id == books.snapshot_id,
        lc.c.kind.in_(MOVES),  # the (snapshot_id, kind) index, without the many "new" rows
        lc.c.dimension == books.dimension,
        new.in_(list(tiers)),
        customers.c.id == lc.c.customer_pk,
        owner.is_not(None),
    )
    columns = [
        "customer_pk", "user_id", "kind", "status", "due_at", "channel", "playbook_tier",
        "snapshot_id", "reason_key", "reason_params", "dedupe_key", "created_at",
    ]  # fmt: skip
    statement = insert_ignore(conn, tasks).from_select(columns, select)
    return inserted(conn, statement, key=tasks.c.id)


def plan(conn: sa.Connection, *, now: datetime) -> PlanResult:
    """Re-plan, then generate: what runs after every classification and on the schedule."""
    books = active_playbooks(conn)
    if books is None:
        return PlanResult()
    # a sweep over every open task and customer: on SQLite the import's larger page cache
    # keeps the label and owner indexes in memory (1M customers: their probes missed the
    # default 2 MB cache and read the OS cache page by page)
    with bulk_session(conn):
        first = replan(conn, now=now, books=books)
        second = generate(conn, now=now, books=books)
    return PlanResult(
        created=second.created,
        replanned=first.replanned,
        cancelled=first.cancelled,
        notices=first.notices,
        reassigned=second.reassigned,
    )


# --- who sees which tasks ------------------------------------------------------------------


def _visible(principal: Principal) -> sa.ColumnElement[bool]:
    """Tasks the caller may see: their own; a manager's team's; everything for admins.

    Analysts see none: tasks are people's work, not data to analyse."""
    if principal.role == "admin":
        return sa.true()
    if principal.role == "manager":
        return sa.and_(
            sa.or_(tasks.c.user_id.in_(team_ids(principal)), tasks.c.user_id.is_(None)),
            scope_clause(principal, tasks.c.customer_pk),
        )
    if principal.role == "rep":
        return tasks.c.user_id == principal.user_id
    return sa.false()


# --- acting on a task -----------------------------------------------------------------------


def _task_for(conn: sa.Connection, principal: Principal, task_id: int) -> sa.RowMapping:
    """The task, if the caller may act on it: their own, or (managers, admins) in scope.
    Anything else answers like a task that does not exist."""
    if principal.role == "analyst":
        raise ForbiddenError(
            f"The role 'analyst' of user {principal.username!r} may not act on tasks.",
            key="err.task_forbidden",
        )
    mine = tasks.c.user_id == principal.user_id
    allowed = mine if principal.role == "rep" else sa.or_(mine, _visible(principal))
    row = (
        conn.execute(sa.select(tasks).where(tasks.c.id == task_id, allowed).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"Task {task_id} does not exist.", key="err.task_missing", id=task_id)
    if row["status"] not in OPEN:
        raise DataError(
            f"Task {task_id} is {row['status']} already; only open or snoozed tasks can change.",
            key="err.task_closed",
            id=task_id,
            status=row["status"],
        )
    return row


def _reason(reason: str | None, what: str) -> str:
    text_ = (reason or "").strip()
    if not text_:
        raise DataError(
            f'A reason is required to {what} a task (e.g. --reason "customer travelling").',
            key="err.task_reason",
            action=what,
        )
    if len(text_) > MAX_REASON:
        raise DataError(f"The reason is longer than {MAX_REASON} characters ({len(text_)}).")
    return text_


def _next_follow_up(
    conn: sa.Connection, *, row: sa.RowMapping, now: datetime, after: str
) -> int | None:
    """Plan the next follow-up after ``row`` by the customer's playbook now."""
    books = active_playbooks(conn)
    if books is None or row["kind"] != "follow_up":
        return None
    pk = int(row["customer_pk"])
    tier = tier_of(conn, books=books, customer_pk=pk)
    book = books.playbook(tier)
    if book is None or book.cadence_days is None:
        return None
    owner = conn.scalar(
        sa.select(customer_owners.c.user_id).where(customer_owners.c.customer_pk == pk)
    )
    result = conn.execute(
        insert_ignore(conn, tasks)
        .values(
            customer_pk=pk,
            user_id=owner,
            kind="follow_up",
            status="open",
            due_at=now + timedelta(days=book.cadence_days),
            channel=book.channel,
            playbook_tier=tier,
            snapshot_id=books.snapshot_id,
            reason_key="task.cadence",
            reason_params={"tier": tier, "days": book.cadence_days, "channel": book.channel,
                           "last": now.date().isoformat()},
            dedupe_key=f"follow_up:{pk}:{after}:{row['id']}",
            open_key=f"follow_up:{pk}",
            created_at=now,
        )
        .returning(tasks.c.id)
    )  # fmt: skip
    new_id = result.scalar()
    return None if new_id is None else int(new_id)


def _close(
    conn: sa.Connection,
    row: sa.RowMapping,
    *,
    principal: Principal,
    status: str,
    now: datetime,
    **values: Any,
) -> None:
    conn.execute(
        tasks.update()
        .where(tasks.c.id == row["id"])
        .values(status=status, open_key=None, completed_at=now, completed_by=principal.username,
                **values)
    )  # fmt: skip


def _audit(
    conn: sa.Connection, principal: Principal, action: str, row: sa.RowMapping, after: Any
) -> None:
    audit.record(
        conn,
        actor=principal.username,
        actor_id=principal.user_id,
        action=f"task.{action}",
        entity="task",
        entity_id=int(row["id"]),
        before={"status": row["status"], "due_at": row["due_at"]},
        after=after,
    )


def complete_task(
    conn: sa.Connection,
    *,
    principal: Principal,
    task_id: int,
    now: datetime,
    outcome: str = "done",
    note: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """Mark a task done: the contact is logged in ``interactions`` (so that the next due
    date counts from it) and, for a follow-up, the next one is planned."""
    now = naive_utc(now)
    row = _task_for(conn, principal, task_id)
    kind = channel or row["channel"]
    if kind in (None, "none"):
        kind = "other"
    customer_id = conn.scalar(
        sa.select(customers.c.customer_id).where(customers.c.id == row["customer_pk"])
    )
    interaction_id = f"task-{row['id']}"
    conn.execute(
        interactions.insert().values(
            interaction_id=interaction_id,
            customer_pk=row["customer_pk"],
            customer_id=customer_id,
            occurred_at=now,
            kind=kind,
            direction="out",
            by_user=principal.username,
            note=note,
            row_hash=hashlib.md5(interaction_id.encode()).hexdigest(),
            inserted_at=now,
            updated_at=now,
        )
    )
    _close(conn, row, principal=principal, status="done", now=now, outcome=outcome[:32],
           note=note)  # fmt: skip
    next_id = _next_follow_up(conn, row=row, now=now, after="done")
    _audit(conn, principal, "done", row, {"status": "done", "outcome": outcome, "next": next_id})
    return {"id": task_id, "status": "done", "interaction_id": interaction_id, "next_task": next_id}


def snooze_task(
    conn: sa.Connection,
    *,
    principal: Principal,
    task_id: int,
    until: datetime,
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """Put a task off until ``until`` (in the future); a reason is required."""
    now = naive_utc(now)
    until = naive_utc(until)
    why = _reason(reason, "snooze")
    if until <= now:
        raise DataError(
            f"Snooze until {until:%Y-%m-%d %H:%M} is not in the future.",
            key="err.snooze_past",
            until=until.isoformat(sep=" ", timespec="minutes"),
        )
    row = _task_for(conn, principal, task_id)
    conn.execute(
        tasks.update()
        .where(tasks.c.id == task_id)
        .values(status="snoozed", snoozed_until=until, due_at=until, note=why)
    )
    _audit(conn, principal, "snooze", row, {"status": "snoozed", "until": until, "reason": why})
    return {"id": task_id, "status": "snoozed", "due_at": until.isoformat(sep=" ")}


def skip_task(
    conn: sa.Connection, *, principal: Principal, task_id: int, reason: str, now: datetime
) -> dict[str, Any]:
    """Skip this contact (a reason is required); a follow-up's next one is planned."""
    now = naive_utc(now)
    why = _reason(reason, "skip")
    row = _task_for(conn, principal, task_id)
    _close(conn, row, principal=principal, status="skipped", now=now, note=why, outcome="skipped")
    next_id = _next_follow_up(conn, row=row, now=now, after="skipped")
    _audit(conn, principal, "skip", row, {"status": "skipped", "reason": why, "next": next_id})
    return {"id": task_id, "status": "skipped", "next_task": next_id}


__all__ = [
    "MOVES",
    "OPEN",
    "PlanResult",
    "complete_task",
    "generate",
    "plan",
    "replan",
    "skip_task",
    "snooze_task",
]
