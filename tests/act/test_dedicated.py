"""A customer entering a dedicated-account-manager tier without an owner gets one at once:
by the pool's rule, within every rep's caps, told why; at cap they stay in the pool, reported."""

from __future__ import annotations

import sqlalchemy as sa
from act_world import NOW, World, count, publish_default

from tierwise.act import after_classification, list_tasks, set_caps
from tierwise.act._text import say
from tierwise.store.tables import audit_log, customer_owners, pool_events, tasks


def _owners(world: World) -> dict[str, str | None]:
    with world.engine.connect() as conn:
        rows = dict(conn.execute(sa.select(customer_owners.c.customer_pk,
                                           customer_owners.c.user_id)).all())  # fmt: skip
    names = {p.user_id: n for n, p in world.people.items()}
    return {cid: names.get(rows.get(pk)) for cid, pk in world.pks.items()}  # type: ignore[arg-type]


def test_entering_the_dedicated_tier_gives_an_owner_by_round_robin_and_says_why(
    world: World,
) -> None:
    with world.engine.begin() as conn:
        for cid in ("A1", "A2", "A3", "B1", "O1"):
            world.customer(conn, cid)
        world.own(conn, "O1", "wang")
        world.classify(conn, {"A1": "B", "A2": "B", "A3": "B", "B1": "B", "O1": "B"})
        after_classification(conn, now=NOW)
        world.classify(conn, {"A1": "A", "A2": "A", "A3": "A", "B1": "B", "O1": "A"})
        result = after_classification(conn, now=NOW)["owners"]
    # li, wang, zhao in turn (ids in order); O1 keeps its owner, B1 (standard) stays in the pool
    assert result == {
        "assigned": 3, "unowned": 0, "unowned_customers": [],
        "by_rep": {world.user("li").user_id: 1, world.user("wang").user_id: 1,
                   world.user("zhao").user_id: 1},
    }  # fmt: skip
    assert _owners(world) == {"A1": "li", "A2": "wang", "A3": "zhao", "B1": None, "O1": "wang"}
    with world.engine.connect() as conn:
        notes = list_tasks(conn, principal=world.user("li"), now=NOW, due="all", kind="notice",
                           lang="zh")  # fmt: skip
        [row] = conn.execute(
            sa.select(tasks.c.reason_key, tasks.c.reason_params).where(
                tasks.c.dedupe_key == f"notice:assigned:{world.snapshot_id}:{world.pks['A1']}"
            )
        ).all()
        # the follow-up planned before the owner was found went to the new owner
        follow = conn.scalar(sa.select(tasks.c.user_id).where(
            tasks.c.customer_pk == world.pks["A1"], tasks.c.kind == "follow_up"))  # fmt: skip
        events = count(conn, pool_events, pool_events.c.kind == "assigned")
    assert follow == world.user("li").user_id
    assert events == 3
    assert [n["reason"] for n in notes] == [
        "Name A1 进入 A 级（专属客户经理），已按轮流规则分配给你负责"
    ]
    assert say(row.reason_key, "en", row.reason_params) == (
        "Name A1 entered tier A (dedicated account manager) and was assigned to you by the "
        "round-robin rule"
    )
    with world.engine.begin() as conn:  # idempotent
        again = after_classification(conn, now=NOW)["owners"]
        assert again["assigned"] == 0 and again["unowned"] == 0
        assert count(conn, tasks, tasks.c.reason_key == "task.assigned_dedicated") == 3


def test_a_first_classification_into_the_tier_counts_as_entering(world: World) -> None:
    with world.engine.begin() as conn:
        world.customer(conn, "A1")
        world.classify(conn, {"A1": "A"})
        assert after_classification(conn, now=NOW)["owners"]["assigned"] == 1
    assert _owners(world)["A1"] == "li"


def test_caps_are_never_passed_and_the_customers_left_are_reported(world: World) -> None:
    admin = world.user("admin")
    with world.engine.begin() as conn:
        for cid in ("L1", "W1", "A1", "A2", "A3"):
            world.customer(conn, cid)
        world.own(conn, "L1", "li")
        world.own(conn, "W1", "wang")
        # li and wang are full (1 customer each); zhao may take one
        for name, cap in (("li", 1), ("wang", 1), ("zhao", 1)):
            set_caps(conn, principal=admin, user_id=world.user(name).user_id, max_customers=cap)
        world.classify(conn, {"L1": "B", "W1": "B", "A1": "A", "A2": "A", "A3": "A"})
        result = after_classification(conn, now=NOW)["owners"]
        assert result["assigned"] == 1 and result["by_rep"] == {world.user("zhao").user_id: 1}
        assert (result["unowned"], result["unowned_customers"]) == (2, ["A2", "A3"])
        again = after_classification(conn, now=NOW)["owners"]
        assert (again["assigned"], again["unowned"]) == (0, 2)
        reports = conn.execute(
            sa.select(audit_log.c.after).where(audit_log.c.action == "pool.unowned")
        ).scalars().all()  # fmt: skip
    assert _owners(world) == {"L1": "li", "W1": "wang", "A1": "zhao", "A2": None, "A3": None}
    assert len(reports) == 1  # reported once per snapshot
    assert reports[0]["unowned"] == 2 and reports[0]["reason"] == "every rep at a cap"


def test_the_region_rule_prefers_the_rep_who_covers_the_region(world: World) -> None:
    admin = world.user("admin")
    with world.engine.begin() as conn:
        publish_default(conn, **{"assign_by: round_robin": "assign_by: region"})
        world.customer(conn, "ZJ", province="浙江")
        world.customer(conn, "GD", province="广东")
        world.customer(conn, "XX", province="西藏")  # nobody covers it: the least loaded rep
        world.customer(conn, "O1")
        world.own(conn, "O1", "li")
        set_caps(conn, principal=admin, user_id=world.user("wang").user_id, regions=["浙江"])
        set_caps(conn, principal=admin, user_id=world.user("li").user_id, regions=["广东"])
        world.classify(conn, {"ZJ": "A", "GD": "A", "XX": "A", "O1": "B"})
        result = after_classification(conn, now=NOW)["owners"]
        rules = dict(conn.execute(
            sa.select(tasks.c.customer_pk, tasks.c.reason_params)
            .where(tasks.c.reason_key == "task.assigned_dedicated")).all())  # fmt: skip
    assert result["assigned"] == 3
    owners = _owners(world)
    assert (owners["ZJ"], owners["GD"], owners["XX"]) == ("wang", "li", "zhao")
    assert rules[world.pks["ZJ"]]["rule"] == "region"
    assert rules[world.pks["XX"]]["rule"] == "load"


def test_without_reps_everyone_entering_stays_in_the_pool(world: World) -> None:
    with world.engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET is_active = false WHERE role = 'rep'"))
        world.customer(conn, "A1")
        world.classify(conn, {"A1": "A"})
        result = after_classification(conn, now=NOW)["owners"]
        reason = conn.scalar(
            sa.select(audit_log.c.after).where(audit_log.c.action == "pool.unowned")
        )
    assert (result["assigned"], result["unowned"], result["unowned_customers"]) == (0, 1, ["A1"])
    assert reason["reason"] == "no active rep"


def test_thousands_entering_at_once_are_handed_out_in_batches_each_told_once(
    world: World,
) -> None:
    """More customers than one read (2,000) and one write (500): every one given is one owner
    row, one pool event, one audit entry and one notice to that owner; caps still hold."""
    admin = world.user("admin")
    n = 2_500
    with world.engine.begin() as conn:
        for i in range(n):
            world.customer(conn, f"A{i:04d}")
        set_caps(conn, principal=admin, user_id=world.user("li").user_id, max_customers=2_000)
        world.classify(conn, {f"A{i:04d}": "A" for i in range(n)})
        result = after_classification(conn, now=NOW)["owners"]
        owners = dict(conn.execute(sa.select(customer_owners.c.customer_pk,
                                             customer_owners.c.user_id)).all())  # fmt: skip
        notices = dict(conn.execute(
            sa.select(tasks.c.customer_pk, tasks.c.user_id)
            .where(tasks.c.reason_key == "task.assigned_dedicated")).all())  # fmt: skip
        events = dict(conn.execute(
            sa.select(pool_events.c.customer_pk, pool_events.c.user_id)
            .where(pool_events.c.kind == "assigned")).all())  # fmt: skip
        audited = conn.execute(sa.select(audit_log.c.entity_id).where(
            audit_log.c.action == "pool.assign")).scalars().all()  # fmt: skip
        again = after_classification(conn, now=NOW)["owners"]
    li, wang, zhao = (world.user(name).user_id for name in ("li", "wang", "zhao"))
    # round robin until wang and zhao reach the scheme's cap of 300; li (2,000) takes the rest
    assert result["by_rep"] == {li: 1_900, wang: 300, zhao: 300}
    assert (result["assigned"], result["unowned"]) == (2_500, 0)
    assert notices == owners == events and len(owners) == n
    assert sorted(audited) == sorted(f"A{i:04d}" for i in range(n))
    assert (again["assigned"], again["unowned"]) == (0, 0)
