"""Assignment by rule: pool customers handed to reps within their caps.

Rules: ``region`` and ``industry`` (a rep's ``rep_caps`` lists what they cover; a customer no
rep covers goes by load), ``round_robin`` (after the last rep given a customer) and ``load``
(the rep with the fewest customers, then the least value). Highest tier first; a customer no
rep has room for stays in the pool. The reps' rows are locked first, so caps hold against
concurrent claims.
"""

from __future__ import annotations

from datetime import datetime
from itertools import cycle, islice
from typing import Any

import sqlalchemy as sa

from tierwise.access._customers import changed
from tierwise.access._principal import Principal, team_ids
from tierwise.act._playbooks import ActiveBooks, active_playbooks, tier_column
from tierwise.act._pool import _give, _lock_rep, _over_cap, _value, caps_of, load_of, pool_rules
from tierwise.act._sql import naive_utc
from tierwise.errors import DataError
from tierwise.store.tables import customer_owners, customers, labels, pool_events, rep_caps, users


def _match_key(books: ActiveBooks | None, dimension: str, pk: sa.ColumnElement[int]) -> Any:
    if books is None or dimension not in books.scheme.dimensions:
        return sa.null()
    return (
        sa.select(labels.c.label)
        .where(
            labels.c.snapshot_id == books.snapshot_id,
            labels.c.dimension == dimension,
            labels.c.customer_pk == pk,
        )
        .scalar_subquery()
    )


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
    if how not in ("region", "industry", "round_robin", "load"):
        raise DataError(f"Assignment rule {how!r} is not region, industry, round_robin or load.")
    reps_q = sa.select(users.c.id).where(users.c.role == "rep", users.c.is_active.is_(True))
    if principal.role == "manager":
        reps_q = reps_q.where(users.c.id.in_(team_ids(principal)))
    found: list[Any] = list(conn.execute(reps_q.order_by(users.c.id)).scalars())
    reps = [int(r) for r in found]
    if not reps:
        return {"assigned": 0, "left_in_pool": 0, "rule": how, "by_rep": {}}
    for rep in reps:
        _lock_rep(conn, rep)
    state: dict[int, list[Any]] = {rep: list(load_of(conn, user_id=rep, now=now)) for rep in reps}
    caps = {rep: caps_of(conn, user_id=rep, rules=rules) for rep in reps}
    cover: dict[int, set[str]] = {rep: set() for rep in reps}
    if how in ("region", "industry"):
        column = rep_caps.c.regions if how == "region" else rep_caps.c.industries
        for row in conn.execute(
            sa.select(rep_caps.c.user_id, column).where(rep_caps.c.user_id.in_(reps))
        ):
            cover[int(row[0])] = {str(v).casefold() for v in (row[1] or [])}
    pk = customers.c.id
    tier = tier_column(books, pk) if books else sa.null()
    rank = sa.case(
        *((tier == t, i) for i, t in enumerate(books.tiers if books else [])),
        else_=len(books.tiers) if books else 0,
    ) if books else sa.literal(0)  # fmt: skip
    attr = customers.c.province if how == "region" else customers.c.industry
    pool = conn.execute(
        sa.select(
            pk, customers.c.customer_id, _value(pk, now).label("value"),
            _match_key(books, how, pk).label("key"), attr.label("raw"),
        )
        .where(~sa.exists().where(customer_owners.c.customer_pk == pk))
        .order_by(rank, pk)
        .limit(limit)
    ).all()  # fmt: skip
    last = conn.scalar(
        sa.select(pool_events.c.user_id)
        .where(pool_events.c.kind == "assigned", pool_events.c.user_id.in_(reps))
        .order_by(pool_events.c.id.desc())
        .limit(1)
    )
    start = reps.index(int(last)) + 1 if last is not None and int(last) in reps else 0
    turn = cycle(reps[start:] + reps[:start])
    by_rep: dict[int, int] = {}
    left = 0
    for row in pool:
        value = float(row.value or 0.0)
        fits = [r for r in reps if _over_cap(caps[r], state[r][0], state[r][1], value) is None]
        choice = _choose(how, row, fits, state, cover, turn, len(reps))
        if choice is None:
            left += 1
            continue
        if _give(conn, customer_pk=int(row.id), customer_id=row.customer_id, user_id=choice,
                 principal=principal, kind="assigned", now=now):  # fmt: skip
            state[choice][0] += 1
            state[choice][1] += value
            by_rep[choice] = by_rep.get(choice, 0) + 1
    if by_rep:
        changed()
    return {"assigned": sum(by_rep.values()), "left_in_pool": left, "rule": how,
            "by_rep": by_rep}  # fmt: skip


def _choose(
    how: str,
    row: sa.Row[Any],
    fits: list[int],
    state: dict[int, list[Any]],
    cover: dict[int, set[str]],
    turn: Any,
    n: int,
) -> int | None:
    if not fits:
        return None
    if how in ("region", "industry"):
        keys = {str(v).casefold() for v in (row.key, row.raw) if v}
        covering = [r for r in fits if cover[r] & keys]
        if covering:
            fits = covering
        how = "load"
    if how == "round_robin":
        return next((r for r in islice(turn, n) if r in fits), None)
    return min(fits, key=lambda r: (state[r][0], state[r][1], r))


__all__ = ["assign"]
