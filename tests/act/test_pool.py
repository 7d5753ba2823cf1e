"""The public pool (公海): recycling after a warning, claim limits, cool-down, caps, races."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from act_world import NOW, World, count, publish_default
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.act import assign, claim, list_pool, load_of, recycle, release, set_caps
from tierwise.errors import DataError, NotFoundError
from tierwise.store.tables import audit_log, customer_owners, orders, pool_events, tasks


def _owner(world: World, cid: str) -> int | None:
    with world.engine.connect() as conn:
        value = conn.scalar(
            sa.select(customer_owners.c.user_id).where(
                customer_owners.c.customer_pk == world.pks[cid]
            )
        )
    return None if value is None else int(value)


def test_recycle_only_after_a_warning_and_the_warning_period(world: World) -> None:
    # A: recycled after 90 days without contact, the owner warned 7 days before
    with world.engine.begin() as conn:
        for cid in ("A1", "A2", "A3"):
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        world.contact(conn, "A1", datetime(2026, 8, 20, 10, 0))
        world.contact(conn, "A2", datetime(2026, 8, 20, 10, 0))
        world.contact(conn, "A3", datetime(2026, 11, 1, 10, 0))  # recent: nothing happens
        world.classify(conn, {"A1": "A", "A2": "A", "A3": "A"})
    with world.engine.begin() as conn:
        assert recycle(conn, now=NOW) == {"warned": 2, "recycled": 0}
        assert recycle(conn, now=NOW) == {"warned": 0, "recycled": 0}
        notices = (
            conn.execute(
                sa.select(tasks.c.reason_params).where(tasks.c.reason_key == "task.recycle_warning")
            )
            .scalars()
            .all()
        )
    assert sorted(n["customer"] for n in notices) == ["Name A1", "Name A2"]
    with world.engine.begin() as conn:
        world.contact(conn, "A2", NOW + timedelta(days=2))  # followed up after the warning
        assert recycle(conn, now=NOW + timedelta(days=6, hours=23))["recycled"] == 0
        assert recycle(conn, now=NOW + timedelta(days=7)) == {"warned": 0, "recycled": 1}
    assert (_owner(world, "A1"), _owner(world, "A2")) == (None, world.user("li").user_id)
    with world.engine.connect() as conn:
        assert count(conn, pool_events, pool_events.c.kind == "recycled") == 1
        assert count(conn, tasks, tasks.c.reason_key == "task.recycled") == 1
        assert count(conn, audit_log, audit_log.c.action == "pool.recycle") == 1


def test_claim_daily_limit_and_ex_owner_cooldown(world: World) -> None:
    li = world.user("li")
    with world.engine.begin() as conn:
        publish_default(conn, **{"claim_daily_limit: 20": "claim_daily_limit: 2"})
        for cid in ("P1", "P2", "P3", "P4"):
            world.customer(conn, cid)
        world.classify(conn, {"P1": "B", "P2": "B", "P3": "B", "P4": "B"})
    with world.engine.begin() as conn:
        claim(conn, principal=li, customer_id="P1", now=NOW)
        release(conn, principal=li, customer_id="P1", now=NOW, reason="not my area")
        claim(conn, principal=li, customer_id="P2", now=NOW)
        with pytest.raises(DataError, match=r"Daily claim limit reached: li claimed 2 .*limit 2"):
            claim(conn, principal=li, customer_id="P3", now=NOW)
    with world.engine.begin() as conn:
        # a new day: the limit starts again, but P1's ex-owner waits 30 days
        tomorrow = NOW + timedelta(days=1)
        with pytest.raises(DataError, match=r"ex-owners may claim it back after 30 days"):
            claim(conn, principal=li, customer_id="P1", now=tomorrow)
        claim(conn, principal=li, customer_id="P3", now=tomorrow)
        claim(conn, principal=world.user("wang"), customer_id="P1", now=tomorrow)
        with pytest.raises(DataError, match="is not in the pool"):
            claim(conn, principal=li, customer_id="P2", now=tomorrow)
    with world.engine.begin() as conn:
        release(conn, principal=world.user("wang"), customer_id="P1", now=NOW + timedelta(days=2))
        claim(conn, principal=li, customer_id="P1", now=NOW + timedelta(days=30, hours=1))
        assert count(conn, audit_log, audit_log.c.action == "pool.claim") == 5


def test_release_is_for_the_owner_and_their_manager(world: World) -> None:
    with world.engine.begin() as conn:
        world.customer(conn, "C1")
        world.own(conn, "C1", "li")
        world.classify(conn, {"C1": "C"})
    with world.engine.begin() as conn:
        with pytest.raises(NotFoundError):
            release(conn, principal=world.user("wang"), customer_id="C1", now=NOW)
        release(conn, principal=world.user("boss"), customer_id="C1", now=NOW)
        with pytest.raises(DataError, match="in the pool already"):
            release(conn, principal=world.user("boss"), customer_id="C1", now=NOW)
        pool = list_pool(conn, principal=world.user("li"), now=NOW)
    assert [p["customer_id"] for p in pool] == ["C1"]


def test_two_reps_claiming_the_same_customer_exactly_one_wins(world: World) -> None:
    with world.engine.begin() as conn:
        world.customer(conn, "X1")
        world.classify(conn, {"X1": "A"})
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    # SQLite transactions begin IMMEDIATE (the second waits at BEGIN): meet before it there;
    # on PostgreSQL both transactions are open when they claim
    inside = world.engine.dialect.name == "postgresql"

    def run(name: str) -> None:
        try:
            if not inside:
                barrier.wait(timeout=10)
            with world.engine.begin() as conn:
                if inside:
                    barrier.wait(timeout=10)
                claim(conn, principal=world.user(name), customer_id="X1", now=NOW)
            outcomes[name] = "won"
        except (DataError, NotFoundError) as error:
            # the loser sees a customer now owned by someone else: outside its scope
            outcomes[name] = str(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("li", "wang")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()).count("won") == 1, outcomes
    loser = next(v for v in outcomes.values() if v != "won")
    assert "X1" in loser
    with world.engine.connect() as conn:
        assert count(conn, pool_events, pool_events.c.kind == "claimed") == 1


def test_assignment_by_region_then_load_within_caps(world: World) -> None:
    boss = world.user("boss")
    with world.engine.begin() as conn:
        for cid, province in [("E1", "上海"), ("E2", "浙江"), ("S1", "广东"), ("S2", "广东"),
                              ("N1", "北京")]:  # fmt: skip
            world.customer(conn, cid, province=province)
        world.classify(
            conn,
            {"E1": "A", "E2": "B", "S1": "A", "S2": "C", "N1": "B"},
            extra={"region": {"E1": "east", "E2": "east", "S1": "south", "S2": "south",
                              "N1": "north"}},
        )  # fmt: skip
        set_caps(conn, principal=boss, user_id=world.user("li").user_id, regions=["east"],
                 max_customers=1)  # fmt: skip
        set_caps(conn, principal=boss, user_id=world.user("wang").user_id, regions=["south"])
        result = assign(conn, principal=boss, now=NOW, rule="region")
    assert result["assigned"] == 5
    li, wang = world.user("li").user_id, world.user("wang").user_id
    # li covers east but has room for one: E1 (tier A first); E2 goes by load to wang
    assert {c: _owner(world, c) for c in ("E1", "E2", "S1", "S2", "N1")} == {
        "E1": li, "E2": wang, "S1": wang, "S2": wang, "N1": wang,
    }  # fmt: skip
    with world.engine.begin() as conn, pytest.raises(NotFoundError):
        set_caps(conn, principal=boss, user_id=world.user("zhao").user_id, max_customers=3)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["claim", "release", "assign"]),
            st.sampled_from(["li", "wang"]),
            st.integers(0, 7),
        ),
        min_size=1,
        max_size=25,
    ),
    caps=st.tuples(st.integers(1, 4), st.sampled_from([None, 150.0, 400.0])),
)
def test_caps_are_never_exceeded(
    sqlite_world: World, ops: list[tuple[str, str, int]], caps: tuple[int, float | None]
) -> None:
    world = sqlite_world
    max_customers, max_value = caps
    with world.engine.begin() as conn:
        conn.execute(customer_owners.delete())
        conn.execute(pool_events.delete())
        for rep in ("li", "wang"):
            set_caps(conn, principal=world.user("admin"), user_id=world.user(rep).user_id,
                     max_customers=max_customers, max_value=max_value)  # fmt: skip
    for op, rep, n in ops:
        who = world.user(rep)
        try:
            with world.engine.begin() as conn:
                if op == "claim":
                    claim(conn, principal=who, customer_id=f"K{n}", now=NOW)
                elif op == "release":
                    release(conn, principal=who, customer_id=f"K{n}", now=NOW)
                else:
                    assign(conn, principal=world.user("boss"), now=NOW, limit=3)
        except (DataError, NotFoundError):
            pass
        with world.engine.connect() as conn:
            for name in ("li", "wang"):
                owned, value = load_of(conn, user_id=world.user(name).user_id, now=NOW)
                assert owned <= max_customers
                assert max_value is None or value <= max_value + 1e-9


@pytest.fixture
def sqlite_world(sqlite_url: str) -> World:
    from act_world import principal_for

    from tierwise.store import create_engine, upgrade

    upgrade(sqlite_url)
    world = World(create_engine(sqlite_url))
    with world.engine.begin() as conn:
        publish_default(conn, **{"claim_daily_limit: 20": "claim_daily_limit: 1000",
                                 "cooldown_days: 30": "cooldown_days: 0"})  # fmt: skip
        world.people["admin"] = principal_for(conn, "admin", "admin")
        world.people["boss"] = principal_for(conn, "boss", "manager")
        boss = world.people["boss"].user_id
        world.people["li"] = principal_for(conn, "li", "rep", boss)
        world.people["wang"] = principal_for(conn, "wang", "rep", boss)
        for n in range(8):
            pk = world.customer(conn, f"K{n}")
            conn.execute(
                orders.insert().values(
                    order_id=f"O{n}", customer_pk=pk, customer_id=f"K{n}",
                    ordered_at=datetime(2026, 10, 1), amount=50.0 * (n + 1), row_hash="0" * 32,
                )
            )  # fmt: skip
        world.classify(conn, {f"K{n}": "ABCD"[n % 4] for n in range(8)})
    return world
