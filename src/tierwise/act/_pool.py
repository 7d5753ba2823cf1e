"""Owners and the public pool (公海): assignment by rule within caps, claims, recycling.

- **Caps** (most customers, most total value = revenue of the last 365 days) come from the
  rep's row in ``rep_caps``, else from the scheme's ``playbooks.pool``. Every way a customer
  reaches a rep (assignment, claim) checks them while holding a lock on the rep's user row, so
  concurrent claims cannot push a rep over a cap on PostgreSQL either (SQLite serialises
  writers already: its transactions begin IMMEDIATE).
- **Claims** are limited per rep and UTC day, and an ex-owner waits ``cooldown_days`` before
  claiming a customer back (both counted from ``pool_events``). Two reps claiming one customer
  race on the ``customer_owners`` primary key: exactly one insert wins.
- **Recycling**: an owned customer of a tier with ``recycle_days`` whom nobody contacted for
  that long goes back to the pool — only after the owner was warned ``warn_days`` before and
  did nothing since. Warnings and recycles are set-based statements over every customer.

Every change writes a pool event and an audit entry in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from tierwise.access._customers import changed, scoped_pk
from tierwise.access._principal import ForbiddenError, Principal, team_ids
from tierwise.act._playbooks import ActiveBooks, active_playbooks, tier_column
from tierwise.act._sql import (
    insert_ignore,
    last_contact,
    naive_utc,
)
from tierwise.act._tasks import CUSTOMER_KINDS, OPEN
from tierwise.errors import DataError, NotFoundError
from tierwise.scheme._playbook import PoolRules
from tierwise.store import audit
from tierwise.store.tables import (
    customer_owners,
    customers,
    orders,
    pool_events,
    rep_caps,
    tasks,
    users,
)

SYSTEM: Final = "system"
CHUNK: Final = 500


@dataclass(frozen=True)
class Caps:
    max_customers: int | None
    max_value: float | None


def pool_rules(books: ActiveBooks | None) -> PoolRules:
    return books.books.pool if books is not None else PoolRules()


def caps_of(conn: sa.Connection, *, user_id: int, rules: PoolRules) -> Caps:
    """The rep's own caps where set, else the scheme's."""
    row = conn.execute(sa.select(rep_caps).where(rep_caps.c.user_id == user_id)).first()
    return Caps(
        row.max_customers if row is not None and row.max_customers is not None
        else rules.max_customers,
        row.max_value if row is not None and row.max_value is not None else rules.max_value,
    )  # fmt: skip


def _value(pk: sa.ColumnElement[int], now: datetime) -> sa.ScalarSelect[Any]:
    """A customer's value: revenue of the 365 days before ``now``."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(orders.c.amount), 0.0))
        .where(orders.c.customer_pk == pk, orders.c.ordered_at >= now - timedelta(days=365))
        .scalar_subquery()
    )


def load_of(conn: sa.Connection, *, user_id: int, now: datetime) -> tuple[int, float]:
    """How many customers a rep owns and their total value."""
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(_value(customer_owners.c.customer_pk, now)), 0.0),
        ).where(customer_owners.c.user_id == user_id)
    ).one()
    return int(row[0]), float(row[1])


def value_of(conn: sa.Connection, *, customer_pk: int, now: datetime) -> float:
    return float(conn.scalar(sa.select(_value(sa.literal(customer_pk), now))) or 0.0)


def _lock_rep(conn: sa.Connection, user_id: int) -> None:
    """Serialise everything that adds customers to one rep (caps are checked under it)."""
    conn.execute(sa.select(users.c.id).where(users.c.id == user_id).with_for_update())


def _over_cap(caps: Caps, count: int, value: float, extra: float) -> str | None:
    if caps.max_customers is not None and count + 1 > caps.max_customers:
        return "count"
    if caps.max_value is not None and value + extra > caps.max_value:
        return "value"
    return None


def _event(
    conn: sa.Connection,
    *,
    kind: str,
    customer_pk: int,
    user_id: int | None,
    actor: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        pool_events.insert().values(
            customer_pk=customer_pk, kind=kind, user_id=user_id, actor=actor, at=now,
            detail=detail,
        )
    )  # fmt: skip


def _give(
    conn: sa.Connection,
    *,
    customer_pk: int,
    customer_id: str,
    user_id: int,
    principal: Principal | None,
    kind: str,
    now: datetime,
) -> bool:
    """Make ``user_id`` the owner of a pool customer; False if someone else was faster."""
    won = _give_many(
        conn, [(customer_pk, customer_id, user_id)], principal=principal, kind=kind, now=now
    )
    return bool(won)


def _give_many(
    conn: sa.Connection,
    given: list[tuple[int, str, int]],
    *,
    principal: Principal | None,
    kind: str,
    now: datetime,
) -> set[int]:
    """Make each ``(customer_pk, customer_id, user_id)`` of ``given`` the owner of a pool
    customer, a chunk per statement; returns the customers won (one someone else was faster
    to stays theirs). Pool events, the customers' open tasks and audit entries follow."""
    actor = principal.username if principal else SYSTEM
    action = f"pool.{kind[:-2] if kind.endswith('ed') else kind}"
    won: set[int] = set()
    for i in range(0, len(given), CHUNK):
        chunk = given[i : i + CHUNK]
        rows = [{"customer_pk": pk, "user_id": user, "assigned_at": now, "assigned_by": actor}
                for pk, _, user in chunk]  # fmt: skip
        got: set[int] = set(conn.execute(
            insert_ignore(conn, customer_owners).values(rows)
            .returning(customer_owners.c.customer_pk)
        ).scalars())  # fmt: skip
        mine = [(pk, cid, user) for pk, cid, user in chunk if pk in got]
        if not mine:
            continue
        won |= got
        conn.execute(pool_events.insert(), [
            {"customer_pk": pk, "kind": kind, "user_id": user, "actor": actor, "at": now,
             "detail": None} for pk, _, user in mine
        ])  # fmt: skip
        per_rep: dict[int, list[int]] = {}
        for pk, _, user in mine:
            per_rep.setdefault(user, []).append(pk)
        for user, pks in per_rep.items():
            _move_tasks(conn, pks, user)
        audit.record_many(
            conn, actor=actor, actor_id=principal.user_id if principal else None,
            action=action, entity="customer",
            entries=[(cid, {"owner_id": None}, {"owner_id": user}) for _, cid, user in mine],
        )  # fmt: skip
    return won


def give_owners(
    conn: sa.Connection, given: list[tuple[int, str, int]], *, now: datetime
) -> set[int]:
    """Owners set by the system rather than by a pool rule (the demo's imported owners): each
    ``(customer_pk, customer_id, user_id)`` whose customer has no owner yet. As with any
    assignment, the customers' open tasks go to the new owner, with a pool event and an audit
    entry each; returns the customers given (one that already had an owner keeps it)."""
    won = _give_many(conn, given, principal=None, kind="assigned", now=naive_utc(now))
    if won:
        changed()
    return won


def _move_tasks(conn: sa.Connection, pks: list[int], user_id: int | None) -> None:
    for i in range(0, len(pks), CHUNK):
        conn.execute(
            tasks.update()
            .where(
                tasks.c.customer_pk.in_(pks[i : i + CHUNK]),
                tasks.c.status.in_(OPEN),
                tasks.c.kind.in_(CUSTOMER_KINDS),
            )
            .values(user_id=user_id)
        )


def _day_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day)


def claim(
    conn: sa.Connection, *, principal: Principal, customer_id: str, now: datetime
) -> dict[str, Any]:
    """A rep (or manager) takes a customer from the pool, within the daily limit, the
    ex-owner cool-down and their caps. Exactly one of two concurrent claims wins."""
    now = naive_utc(now)
    if principal.role not in ("rep", "manager"):
        raise ForbiddenError(
            f"Only reps and managers claim customers from the pool ({principal.username!r} is "
            f"{principal.role}).",
            key="err.claim_role",
            role=principal.role,
        )
    pk = scoped_pk(conn, principal=principal, customer_id=customer_id)
    rules = pool_rules(active_playbooks(conn))
    _lock_rep(conn, principal.user_id)
    owner = conn.scalar(
        sa.select(customer_owners.c.user_id).where(customer_owners.c.customer_pk == pk)
    )
    if owner is not None:
        raise DataError(
            f'Customer "{customer_id}" is not in the pool (it has an owner).',
            key="err.claim_owned",
            customer=customer_id,
        )
    today = conn.scalar(
        sa.select(sa.func.count()).where(
            pool_events.c.user_id == principal.user_id,
            pool_events.c.kind == "claimed",
            pool_events.c.at >= _day_start(now),
        )
    )
    if int(today or 0) >= rules.claim_daily_limit:
        raise DataError(
            f"Daily claim limit reached: {principal.username} claimed {today} customers today "
            f"(limit {rules.claim_daily_limit}); try again tomorrow.",
            key="err.claim_limit",
            count=today,
            limit=rules.claim_daily_limit,
        )
    left = conn.scalar(
        sa.select(sa.func.max(pool_events.c.at)).where(
            pool_events.c.customer_pk == pk,
            pool_events.c.user_id == principal.user_id,
            pool_events.c.kind.in_(("released", "recycled")),
        )
    )
    if left is not None and left > now - timedelta(days=rules.cooldown_days):
        until = left + timedelta(days=rules.cooldown_days)
        raise DataError(
            f'You owned "{customer_id}" until {left:%Y-%m-%d}; ex-owners may claim it back '
            f"after {rules.cooldown_days} days, from {until:%Y-%m-%d %H:%M} (UTC).",
            key="err.claim_cooldown",
            customer=customer_id,
            days=rules.cooldown_days,
            until=f"{until:%Y-%m-%d %H:%M}",
        )
    caps = caps_of(conn, user_id=principal.user_id, rules=rules)
    count, value = load_of(conn, user_id=principal.user_id, now=now)
    extra = value_of(conn, customer_pk=pk, now=now)
    if (over := _over_cap(caps, count, value, extra)) is not None:
        raise _cap_error("claim", principal.username, over, caps, count, value, extra)
    if not _give(conn, customer_pk=pk, customer_id=customer_id, user_id=principal.user_id,
                 principal=principal, kind="claimed", now=now):  # fmt: skip
        raise DataError(
            f'Customer "{customer_id}" was just claimed by someone else.',
            key="err.claim_owned",
            customer=customer_id,
        )
    changed()
    return {
        "customer_id": customer_id,
        "owner_id": principal.user_id,
        "claimed_today": int(today or 0) + 1,
    }


def _cap_message(who: str, over: str, caps: Caps, count: int, value: float, extra: float) -> str:
    if over == "count":
        return f"{who} owns {count} customers; the cap is {caps.max_customers}."
    return (
        f"{who}'s customers are worth {value:,.2f}; with this one ({extra:,.2f}) that passes "
        f"the cap of {caps.max_value:,.2f}."
    )


def _cap_error(
    how: str, who: str, over: str, caps: Caps, count: int, value: float, extra: float
) -> DataError:
    """The cap a claim (``how="claim"``) or an assignment would pass, with the numbers."""
    if over == "count":
        return DataError(_cap_message(who, over, caps, count, value, extra),
                         key=f"err.{how}_cap_count", user=who, count=count,
                         limit=caps.max_customers)  # fmt: skip
    return DataError(_cap_message(who, over, caps, count, value, extra),
                     key=f"err.{how}_cap_value", user=who, value=f"{value:,.2f}",
                     extra=f"{extra:,.2f}", limit=f"{caps.max_value or 0:,.2f}")  # fmt: skip


def release(
    conn: sa.Connection,
    *,
    principal: Principal,
    customer_id: str,
    now: datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """Return a customer to the pool: its owner, their manager or an admin."""
    now = naive_utc(now)
    pk = scoped_pk(conn, principal=principal, customer_id=customer_id)
    owner = conn.scalar(
        sa.select(customer_owners.c.user_id).where(customer_owners.c.customer_pk == pk)
    )
    if owner is None:
        raise DataError(f'Customer "{customer_id}" is in the pool already.',
                        key="err.release_pool", customer=customer_id)  # fmt: skip
    if (principal.role == "rep" and owner != principal.user_id) or principal.role == "analyst":
        raise NotFoundError(f'Customer "{customer_id}" does not exist.')
    conn.execute(customer_owners.delete().where(customer_owners.c.customer_pk == pk))
    _event(conn, kind="released", customer_pk=pk, user_id=int(owner), actor=principal.username,
           now=now, detail={"reason": reason} if reason else None)  # fmt: skip
    _move_tasks(conn, [pk], None)
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="pool.release",
        entity="customer", entity_id=customer_id, before={"owner_id": owner},
        after={"owner_id": None, "reason": reason},
    )  # fmt: skip
    changed()
    return {"customer_id": customer_id, "owner_id": None}


def set_caps(
    conn: sa.Connection,
    *,
    principal: Principal,
    user_id: int,
    max_customers: int | None = None,
    max_value: float | None = None,
    regions: list[str] | None = None,
    industries: list[str] | None = None,
) -> dict[str, Any]:
    """A rep's own caps and the regions/industries assignment gives them (manager, admin)."""
    principal.require("write")
    _check_rep(conn, principal, user_id)
    if (max_customers is not None and max_customers < 0) or (
        max_value is not None and max_value < 0
    ):
        raise DataError(f"Caps must not be negative (got {max_customers}, {max_value}).",
                        key="err.caps_negative", customers=max_customers, value=max_value)  # fmt: skip
    before = conn.execute(sa.select(rep_caps).where(rep_caps.c.user_id == user_id)).mappings()
    old = before.first()
    values = {"max_customers": max_customers, "max_value": max_value, "regions": regions,
              "industries": industries, "updated_at": naive_utc(datetime.now()),
              "updated_by": principal.username}  # fmt: skip
    conn.execute(rep_caps.delete().where(rep_caps.c.user_id == user_id))
    conn.execute(rep_caps.insert().values(user_id=user_id, **values))
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="pool.caps",
        entity="user", entity_id=user_id, before=dict(old) if old else None, after=values,
    )  # fmt: skip
    return {"user_id": user_id, **values}


def _check_rep(conn: sa.Connection, principal: Principal, user_id: int) -> str:
    """The username of ``user_id``, an active rep or manager the caller may manage (a manager:
    their team); `NotFoundError` for anyone else, `DataError` for another role."""
    row = conn.execute(
        sa.select(users.c.username, users.c.role).where(
            users.c.id == user_id, users.c.is_active.is_(True)
        )
    ).first()
    if row is None or (
        principal.role == "manager"
        and user_id not in {int(r[0]) for r in conn.execute(team_ids(principal))}
    ):
        raise NotFoundError(f"User {user_id} does not exist.")
    if row.role not in ("rep", "manager"):
        raise DataError(
            f"{row.username} is {row.role}: customers go to reps and managers only.",
            key="err.assign_role", user=row.username, role=row.role,
        )  # fmt: skip
    return str(row.username)


def give(
    conn: sa.Connection, *, principal: Principal, customer_id: str, user_id: int, now: datetime
) -> dict[str, Any]:
    """A manager (their team) or an administrator hands one pool customer to a rep, within
    the rep's caps: the pool's way of assigning by hand (``assign`` does it by rule)."""
    principal.require("write")
    now = naive_utc(now)
    pk = scoped_pk(conn, principal=principal, customer_id=customer_id)
    who = _check_rep(conn, principal, user_id)
    _lock_rep(conn, user_id)
    owner = conn.scalar(
        sa.select(customer_owners.c.user_id).where(customer_owners.c.customer_pk == pk)
    )
    if owner is not None:
        raise DataError(
            f'Customer "{customer_id}" is not in the pool (it has an owner).',
            key="err.claim_owned",
            customer=customer_id,
        )
    caps = caps_of(conn, user_id=user_id, rules=pool_rules(active_playbooks(conn)))
    count, value = load_of(conn, user_id=user_id, now=now)
    extra = value_of(conn, customer_pk=pk, now=now)
    if (over := _over_cap(caps, count, value, extra)) is not None:
        raise _cap_error("assign", who, over, caps, count, value, extra)
    if not _give(conn, customer_pk=pk, customer_id=customer_id, user_id=user_id,
                 principal=principal, kind="assigned", now=now):  # fmt: skip
        raise DataError(
            f'Customer "{customer_id}" was just claimed by someone else.',
            key="err.claim_owned",
            customer=customer_id,
        )
    changed()
    return {"customer_id": customer_id, "owner_id": user_id, "owner": who}


def rep_loads(
    conn: sa.Connection, *, principal: Principal, now: datetime, user_id: int | None = None
) -> list[dict[str, Any]]:
    """The reps (and managers) the caller manages — a rep: themselves — with their caps, how
    many customers they own and their value, and today's claims against the daily limit.
    ``user_id`` picks one (`NotFoundError` if the caller may not see them). Analysts: none of
    their business (`ForbiddenError`)."""
    if principal.role == "analyst":
        raise ForbiddenError(
            f"The role 'analyst' of user {principal.username!r} may not see reps' caps.",
            key="err.caps_forbidden",
        )
    now = naive_utc(now)
    query = sa.select(users.c.id, users.c.username, users.c.display_name, users.c.role).where(
        users.c.is_active.is_(True), users.c.role.in_(("rep", "manager"))
    )
    if principal.role == "rep":
        query = query.where(users.c.id == principal.user_id)
    elif principal.role == "manager":
        query = query.where(users.c.id.in_(team_ids(principal)))
    if user_id is not None:
        query = query.where(users.c.id == user_id)
    people = conn.execute(query.order_by(users.c.username)).all()
    if user_id is not None and not people:
        raise NotFoundError(f"User {user_id} does not exist.")
    rules = pool_rules(active_playbooks(conn))
    ids = [int(p.id) for p in people]
    own = {
        int(r.user_id): r
        for r in conn.execute(sa.select(rep_caps).where(rep_caps.c.user_id.in_(ids)))
    }
    claimed: dict[int, int] = {
        int(r[0]): int(r[1])
        for r in conn.execute(
            sa.select(pool_events.c.user_id, sa.func.count())
            .where(pool_events.c.user_id.in_(ids), pool_events.c.kind == "claimed",
                   pool_events.c.at >= _day_start(now))
            .group_by(pool_events.c.user_id)
        )
    }  # fmt: skip
    out = []
    for p in people:
        uid = int(p.id)
        caps = caps_of(conn, user_id=uid, rules=rules)
        count, value = load_of(conn, user_id=uid, now=now)
        row = own.get(uid)
        out.append({
            "user_id": uid, "username": p.username, "name": p.display_name or p.username,
            "role": p.role, "max_customers": caps.max_customers, "max_value": caps.max_value,
            "own_caps": row is not None, "regions": list(row.regions or []) if row else [],
            "industries": list(row.industries or []) if row else [],
            "customers": count, "value_365d": round(value, 2),
            "claimed_today": claimed.get(uid, 0), "claim_daily_limit": rules.claim_daily_limit,
        })  # fmt: skip
    return out


# --- the pool list --------------------------------------------------------------------------


def list_pool(
    conn: sa.Connection, *, principal: Principal, now: datetime, limit: int = 100, lang: str = "en"
) -> list[dict[str, Any]]:
    """Customers in the pool, highest tier first, with when each was last contacted."""
    principal.require("read")
    now = naive_utc(now)
    books = active_playbooks(conn)
    pk = customers.c.id
    tier = tier_column(books, pk) if books else sa.null()
    rank = sa.case(*((tier == t, i) for i, t in enumerate(books.tiers)), else_=len(books.tiers)) \
        if books else sa.literal(0)  # fmt: skip
    rows = conn.execute(
        sa.select(pk, customers.c.customer_id, customers.c.name, tier.label("tier"),
                  last_contact(pk).label("last_contact"), _value(pk, now).label("value"))
        .where(~sa.exists().where(customer_owners.c.customer_pk == pk))
        .order_by(rank, pk)
        .limit(limit)
    ).all()  # fmt: skip
    return [
        {
            "customer_id": r.customer_id,
            "name": r.name,
            "tier": r.tier,
            "tier_text": books.label_text(r.tier, lang) if books else r.tier,
            "last_contact": r.last_contact.isoformat(sep=" ", timespec="minutes")
            if r.last_contact
            else None,
            "value_365d": round(float(r.value or 0.0), 2),
        }
        for r in rows
    ]


__all__ = [
    "Caps",
    "caps_of",
    "claim",
    "give",
    "list_pool",
    "load_of",
    "pool_rules",
    "release",
    "rep_loads",
    "set_caps",
]
