"""Assignment by rule: pool customers handed to reps within their caps.

Rules: ``region`` and ``industry`` (a rep's ``rep_caps`` lists what they cover; a customer no
rep covers goes by load), ``round_robin`` (after the last rep given a customer) and ``load``
(the rep with the fewest customers, then the least value). Highest tier first; a customer no
rep has room for stays in the pool. The reps' rows are locked first, so caps hold against
concurrent claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import cycle, islice
from typing import Any, Final

import sqlalchemy as sa

from tierwise.access._customers import changed
from tierwise.access._principal import Principal, team_ids
from tierwise.act._playbooks import ActiveBooks, active_playbooks, tier_column
from tierwise.act._pool import (
    SYSTEM,
    Caps,
    _give_many,
    _lock_rep,
    _over_cap,
    _value,
    caps_of,
    load_of,
    pool_rules,
)
from tierwise.act._sql import insert_ignore, naive_utc, text
from tierwise.act._text import MESSAGES
from tierwise.errors import DataError
from tierwise.scheme._playbook import PoolRules
from tierwise.store import audit
from tierwise.store.tables import (
    customer_owners,
    customers,
    label_changes,
    labels,
    pool_events,
    rep_caps,
    tasks,
    users,
)


def _match_key(books: ActiveBooks | None, dimension: str, pk: sa.ColumnElement[int]) -> Any:
    if books is None or dimension not in books.scheme.dimensions:
        return sa.null()
    return (
        sa.select(labels.c.label)
        .where(
            books.held,
            labels.c.dimension == dimension,
            labels.c.customer_pk == pk,
        )
        .scalar_subquery()
    )


def _reps(conn: sa.Connection, principal: Principal | None) -> list[int]:
    """Active reps, by id; a manager's: their team's."""
    query = sa.select(users.c.id).where(users.c.role == "rep", users.c.is_active.is_(True))
    if principal is not None and principal.role == "manager":
        query = query.where(users.c.id.in_(team_ids(principal)))
    found: list[Any] = list(conn.execute(query.order_by(users.c.id)).scalars())
    return [int(r) for r in found]


@dataclass
class _Desk:
    """The reps' state while customers are handed out: load, caps, coverage, whose turn."""

    reps: list[int]
    how: str
    state: dict[int, list[Any]]
    caps: dict[int, Caps]
    cover: dict[int, set[str]]
    turn: Any

    @classmethod
    def open(cls, conn: sa.Connection, reps: list[int], *, how: str, rules: PoolRules,
             now: datetime) -> _Desk:  # fmt: skip
        for rep in reps:
            _lock_rep(conn, rep)
        state = {rep: list(load_of(conn, user_id=rep, now=now)) for rep in reps}
        caps = {rep: caps_of(conn, user_id=rep, rules=rules) for rep in reps}
        cover: dict[int, set[str]] = {rep: set() for rep in reps}
        if how in ("region", "industry"):
            column = rep_caps.c.regions if how == "region" else rep_caps.c.industries
            for row in conn.execute(
                sa.select(rep_caps.c.user_id, column).where(rep_caps.c.user_id.in_(reps))
            ):
                cover[int(row[0])] = {str(v).casefold() for v in (row[1] or [])}
        last = conn.scalar(
            sa.select(pool_events.c.user_id)
            .where(pool_events.c.kind == "assigned", pool_events.c.user_id.in_(reps))
            .order_by(pool_events.c.id.desc())
            .limit(1)
        )
        start = reps.index(int(last)) + 1 if last is not None and int(last) in reps else 0
        return cls(reps, how, state, caps, cover, cycle(reps[start:] + reps[:start]))

    def full(self) -> bool:
        """Every rep at their customer cap: nobody can take one more customer."""
        return all(
            self.caps[r].max_customers is not None
            and self.state[r][0] >= (self.caps[r].max_customers or 0)
            for r in self.reps
        )

    def choose(self, row: sa.Row[Any]) -> tuple[int | None, str]:
        """The rep for ``row`` within their caps (None: nobody has room), and the rule used."""
        value = float(row.value or 0.0)
        fits = [r for r in self.reps
                if _over_cap(self.caps[r], self.state[r][0], self.state[r][1], value) is None]  # fmt: skip
        how = self.how
        if not fits:
            return None, how
        if how in ("region", "industry"):
            keys = {str(v).casefold() for v in (row.key, row.raw) if v}
            covering = [r for r in fits if self.cover[r] & keys]
            if covering:
                fits = covering
            else:
                how = "load"  # nobody covers it: the least loaded rep
            return min(fits, key=lambda r: (self.state[r][0], self.state[r][1], r)), how
        if how == "round_robin":
            return next((r for r in islice(self.turn, len(self.reps)) if r in fits), None), how
        return min(fits, key=lambda r: (self.state[r][0], self.state[r][1], r)), how

    def took(self, rep: int, row: sa.Row[Any]) -> None:
        self.state[rep][0] += 1
        self.state[rep][1] += float(row.value or 0.0)

    def hand_out(self, rows: Sequence[sa.Row[Any]]) -> tuple[list[tuple[int, str, int, str]], int]:
        """A rep for each of ``rows`` in order, counted as taken: ``(pk, customer_id, rep,
        rule used)`` for those someone has room for, and how many nobody has."""
        chosen: list[tuple[int, str, int, str]] = []
        for row in rows:
            rep, used = self.choose(row)
            if rep is not None:
                self.took(rep, row)
                chosen.append((int(row.id), str(row.customer_id), rep, used))
        return chosen, len(rows) - len(chosen)


def _candidates(books: ActiveBooks | None, how: str, now: datetime) -> sa.Select[Any]:
    """Pool customers with what assignment needs, highest tier first; add the ``where``."""
    pk = customers.c.id
    tier = tier_column(books, pk) if books else sa.null()
    rank = sa.case(
        *((tier == t, i) for i, t in enumerate(books.tiers if books else [])),
        else_=len(books.tiers) if books else 0,
    ) if books else sa.literal(0)  # fmt: skip
    attr = customers.c.province if how == "region" else customers.c.industry
    return (
        sa.select(
            pk, customers.c.customer_id, customers.c.name, _value(pk, now).label("value"),
            _match_key(books, how, pk).label("key"), attr.label("raw"), tier.label("tier"),
        )
        .where(~sa.exists().where(customer_owners.c.customer_pk == pk))
        .order_by(rank, pk)
    )  # fmt: skip


def _check_rule(how: str) -> None:
    if how not in ("region", "industry", "round_robin", "load"):
        raise DataError(f"Assignment rule {how!r} is not region, industry, round_robin or load.")


def assign(
    conn: sa.Connection,
    *,
    principal: Principal,
    now: datetime,
    limit: int = 500,
    rule: str | None = None,
) -> dict[str, Any]:
    """Hand pool customers (highest tier first) to reps by the pool's rule — ``region``,
    ``industry`` (a rep's ``rep_caps`` lists theirs; customers no rep covers go by load),
    ``round_robin`` or ``load`` — never above a rep's caps. At most ``limit`` customers per
    call: assignment is a batch a manager starts, not a scan of every customer."""
    principal.require("write")
    now = naive_utc(now)
    if not 1 <= limit <= 10_000:
        raise DataError(f"limit {limit} must be between 1 and 10000.")
    books = active_playbooks(conn)
    rules = pool_rules(books)
    how = rule or rules.assign_by
    _check_rule(how)
    reps = _reps(conn, principal)
    if not reps:
        return {"assigned": 0, "left_in_pool": 0, "rule": how, "by_rep": {}}
    desk = _Desk.open(conn, reps, how=how, rules=rules, now=now)
    pool = conn.execute(_candidates(books, how, now).limit(limit)).all()
    chosen, _ = desk.hand_out(pool)
    won = _give_many(conn, [(pk, cid, rep) for pk, cid, rep, _ in chosen], principal=principal,
                     kind="assigned", now=now)  # fmt: skip
    by_rep: dict[int, int] = {}
    for pk, _, rep, _ in chosen:
        if pk in won:
            by_rep[rep] = by_rep.get(rep, 0) + 1
    if by_rep:
        changed()
    return {"assigned": sum(by_rep.values()), "left_in_pool": len(pool) - len(chosen),
            "rule": how, "by_rep": by_rep}  # fmt: skip


# --- an owner for every customer entering a dedicated tier -----------------------------------

RULE_TEXT: Final[dict[str, tuple[str, str]]] = {
    "region": ("地区", "region"),
    "industry": ("行业", "industry"),
    "round_robin": ("轮流", "round-robin"),
    "load": ("负载最低", "lowest-load"),
}
MESSAGES.update({
    "task.assigned_dedicated": (
        "{customer} 进入 {tier} 级（{service}），已按{rule_zh}规则分配给你负责",
        "{customer} entered tier {tier} ({service}) and was assigned to you by the {rule_en} "
        "rule",
    ),
})  # fmt: skip
#: the customers an `assign_dedicated` report names (the count is always exact)
SHOWN: Final = 20
#: candidates read per query (an IN list); owners, events, tasks and audit entries are written in chunks
FETCH: Final = 2000


def assign_dedicated(
    conn: sa.Connection, *, now: datetime, books: ActiveBooks | None = None
) -> dict[str, Any]:
    """Give an owner to every customer who entered a tier with a dedicated account manager
    (``service_level: dedicated``) in the latest snapshot and has none, by the pool's rule
    and within every rep's caps; the new owner gets a notice saying why. Customers nobody has
    room for stay in the pool, and the result counts and names them (``unowned``).

    Idempotent: a customer is handed out once per snapshot (a later release is respected)."""
    now = naive_utc(now)
    books = books or active_playbooks(conn)
    empty = {"assigned": 0, "unowned": 0, "unowned_customers": [], "by_rep": {}}
    if books is None:
        return empty
    dedicated = [t for t, b in books.books.tiers.items() if b.service_level == "dedicated"]
    if not dedicated:
        return empty
    rules = books.books.pool
    how = rules.assign_by
    sid = books.snapshot_id
    lc = label_changes
    pk = customers.c.id

    def entered(tiers: list[str]) -> sa.Select[Any]:
        # read once, uncorrelated: a correlated EXISTS would scan the snapshot's changes for
        # every customer (SQLite picks the (snapshot_id, kind) index without statistics)
        return sa.select(lc.c.customer_pk).where(
            lc.c.snapshot_id == sid, lc.c.dimension == books.dimension, lc.c.new_label.in_(tiers)
        )

    untold = ~sa.exists().where(
        tasks.c.dedupe_key == sa.literal(f"notice:assigned:{sid}:") + text(pk)
    )
    reps = _reps(conn, None)
    by_rep: dict[int, int] = {}
    desk = _Desk.open(conn, reps, how=how, rules=rules, now=now) if reps else None
    for tier in dedicated:  # highest tier first
        pending: list[int] = (
            sorted(conn.execute(entered([tier])).scalars()) if desk is not None else []
        )
        for i in range(0, len(pending), FETCH):
            if desk is None or desk.full():
                break
            batch = conn.execute(
                _candidates(books, how, now).where(pk.in_(pending[i : i + FETCH]), untold)
                .order_by(None).order_by(pk)
            ).all()  # fmt: skip
            chosen, _ = desk.hand_out(batch)
            won = _give_many(conn, [(pk_, cid, rep) for pk_, cid, rep, _ in chosen],
                             principal=None, kind="assigned", now=now)  # fmt: skip
            rows = {int(r.id): r for r in batch}
            told = [(rows[p], rep, used) for p, _, rep, used in chosen if p in won]
            for _, rep, _ in told:
                by_rep[rep] = by_rep.get(rep, 0) + 1
            _tell(conn, told, sid=sid, now=now)
    # who is left: entered, still without an owner (every rep at a cap, or no rep at all)
    rest = _candidates(books, how, now).where(pk.in_(entered(dedicated)), untold)
    shown: list[Any] = list(
        conn.execute(rest.with_only_columns(customers.c.customer_id).limit(SHOWN)).scalars()
    )
    left = int(
        conn.scalar(
            sa.select(sa.func.count()).select_from(
                rest.order_by(None).with_only_columns(pk).subquery()
            )
        )
        or 0
    )
    unowned = [str(c) for c in shown]
    if by_rep:
        changed()
    if left and not audit.recorded(conn, action="pool.unowned", entity="snapshot",
                                   entity_id=str(sid)):  # fmt: skip
        audit.record(
            conn, actor=SYSTEM, action="pool.unowned", entity="snapshot", entity_id=str(sid),
            after={"tiers": dedicated, "unowned": left, "customers": unowned,
                   "reason": "no active rep" if not reps else "every rep at a cap"},
        )  # fmt: skip
    return {"assigned": sum(by_rep.values()), "unowned": left, "unowned_customers": unowned,
            "by_rep": by_rep}  # fmt: skip


def _tell(
    conn: sa.Connection, told: list[tuple[sa.Row[Any], int, str]], *, sid: int, now: datetime
) -> None:
    """Each new owner's notice: which customer, which tier, and by which rule."""
    if not told:
        return
    rows = []
    for row, user_id, rule in told:
        zh, en = RULE_TEXT[rule]
        rows.append({
            "customer_pk": int(row.id), "user_id": user_id, "kind": "notice", "status": "open",
            "due_at": now, "channel": None, "playbook_tier": row.tier, "snapshot_id": sid,
            "reason_key": "task.assigned_dedicated",
            "reason_params": {"customer": row.name or row.customer_id, "tier": row.tier,
                              "service": "dedicated", "rule": rule, "rule_zh": zh,
                              "rule_en": en},
            "dedupe_key": f"notice:assigned:{sid}:{int(row.id)}", "created_at": now,
        })  # fmt: skip
    conn.execute(insert_ignore(conn, tasks), rows)


__all__ = ["assign", "assign_dedicated"]
