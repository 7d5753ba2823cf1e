"""Follow-up tasks on a frozen clock: cadence per tier, idempotent generation, re-planning."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from act_world import NOW, World, count, publish_default

from tierwise.access import ForbiddenError
from tierwise.act import complete_task, generate, list_tasks, plan, skip_task, snooze_task
from tierwise.errors import DataError, NotFoundError
from tierwise.store.tables import audit_log, interactions, tasks


def _setup(world: World) -> None:
    with world.engine.begin() as conn:
        for cid in ("A1", "B1", "C1", "D1"):
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        world.contact(conn, "A1", datetime(2026, 11, 10, 15, 0), "visit")
        world.contact(conn, "B1", datetime(2026, 11, 10, 15, 0))
        world.contact(conn, "B1", datetime(2026, 11, 20, 15, 0), "web_visit")  # not a contact
        world.contact(conn, "D1", datetime(2026, 6, 1, 15, 0))
        world.classify(conn, {"A1": "A", "B1": "B", "C1": "C", "D1": "D"})


def _mine(world: World, who: str = "li", **kw: object) -> dict[str, dict[str, object]]:
    with world.engine.connect() as conn:
        rows = list_tasks(conn, principal=world.user(who), now=NOW, due="all", **kw)  # type: ignore[arg-type]
    return {str(r["customer_id"]): r for r in rows}


def test_cadence_and_due_dates_for_each_tier(world: World) -> None:
    _setup(world)
    with world.engine.begin() as conn:
        assert generate(conn, now=NOW).created == 3
    mine = _mine(world)
    assert sorted(mine) == ["A1", "B1", "C1"]  # D: no proactive contact
    assert (mine["A1"]["due_at"], mine["A1"]["channel"]) == ("2026-12-10 15:00", "visit")
    assert (mine["B1"]["due_at"], mine["B1"]["channel"]) == ("2026-11-24 15:00", "call")
    assert (mine["C1"]["due_at"], mine["C1"]["channel"]) == ("2026-12-02 09:00", "email")
    assert mine["B1"]["overdue_days"] == 8
    assert mine["A1"]["reason"] == "A: visit every 30 days; last contact 2026-11-10"
    assert mine["C1"]["reason"] == "C: email every 30 days; never contacted"
    # My work for today: due today and overdue, highest tier first; A1 is next month
    with world.engine.connect() as conn:
        today = list_tasks(conn, principal=world.user("li"), now=NOW, lang="zh")
    assert [t["customer_id"] for t in today] == ["B1", "C1"]
    assert today[0]["reason"] == "B：每 14 天电话一次，上次联系 2026-11-10"
    assert set(today[0]["talking_points"]) == {
        "recent_orders", "open_complaints", "recommendations", "discount_max_percent",
    }  # fmt: skip


def test_my_work_puts_the_highest_tier_first_then_the_oldest(world: World) -> None:
    """A key account due today comes before small customers neglected for months, so a page
    of ``limit`` tasks never hides it; within a tier the oldest comes first. A task without a
    playbook tier of its own (win-back) ranks by the customer's tier."""
    with world.engine.begin() as conn:
        for cid in ("A1", "A2", "C1", "C2"):
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        world.contact(conn, "A1", datetime(2026, 11, 2, 15, 0), "visit")  # due today
        world.contact(conn, "C1", datetime(2026, 3, 1, 15, 0))  # 9 months overdue
        world.contact(conn, "C2", datetime(2026, 1, 1, 15, 0))  # 11 months overdue
        world.classify(conn, {"A1": "A", "A2": "A", "C1": "C", "C2": "C"})
        assert generate(conn, now=NOW).created == 4
        a2 = world.pks["A2"]
        # A2's follow-up gives way to a win-back task with no playbook tier, due yesterday
        conn.execute(tasks.delete().where(tasks.c.customer_pk == a2))
        conn.execute(
            tasks.insert().values(
                customer_pk=a2, user_id=world.user("li").user_id, kind="win_back", status="open",
                due_at=NOW - timedelta(days=1), reason_key="task.win_back",
                dedupe_key="test:win_back:A2", created_at=NOW,
            )
        )  # fmt: skip
    with world.engine.connect() as conn:
        today = list_tasks(conn, principal=world.user("li"), now=NOW)
        first = list_tasks(conn, principal=world.user("li"), now=NOW, limit=1)
    assert [t["customer_id"] for t in today] == ["A2", "A1", "C2", "C1"]
    assert today[2]["overdue_days"] > today[3]["overdue_days"] > today[1]["overdue_days"] == 0
    assert [t["customer_id"] for t in first] == ["A2"]


def test_generating_twice_creates_nothing_new(world: World) -> None:
    _setup(world)
    with world.engine.begin() as conn:
        assert generate(conn, now=NOW).created == 3
    with world.engine.begin() as conn:
        assert generate(conn, now=NOW).created == 0
        assert plan(conn, now=NOW + timedelta(days=1)).created == 0
        assert count(conn, tasks) == 3


def test_tier_change_replans_open_tasks_and_tells_the_owner_why(world: World) -> None:
    _setup(world)
    with world.engine.begin() as conn:
        plan(conn, now=NOW)
        world.classify(conn, {"A1": "B", "B1": "D", "C1": "C", "D1": "A"})
        result = plan(conn, now=NOW)
    assert (result.replanned, result.cancelled, result.created) == (1, 1, 1)
    mine = _mine(world, kind="follow_up")
    # A1 now B: called every 14 days from the last contact; B1 now D: no proactive contact
    assert (mine["A1"]["due_at"], mine["A1"]["channel"]) == ("2026-11-24 15:00", "call")
    assert mine["A1"]["reason"] == "Tier changed from A to B: now call every 14 days"
    assert (mine["D1"]["due_at"], mine["D1"]["channel"]) == ("2026-07-01 15:00", "visit")
    with world.engine.connect() as conn:
        status = conn.scalar(
            sa.select(tasks.c.status).where(
                tasks.c.customer_pk == world.pks["B1"], tasks.c.kind == "follow_up"
            )
        )
        notices = list_tasks(conn, principal=world.user("li"), now=NOW, kind="notice", lang="en")
    assert status == "cancelled"
    reasons = sorted(str(n["reason"]) for n in notices)
    assert reasons == [
        "Name A1 moved from A to B: now standard service, call every 14 days, complaints "
        "answered within 24 h",
        "Name B1 moved from B to D: now automated service, no proactive contact, complaints "
        "answered within 72 h",
        "Name D1 moved from D to A: now dedicated account manager service, visit every 30 "
        "days, complaints answered within 4 h",
    ]
    with world.engine.begin() as conn:
        assert plan(conn, now=NOW).as_dict() == {
            "created": 0, "replanned": 0, "cancelled": 0, "notices": 0, "reassigned": 0,
        }  # fmt: skip


def test_a_snapshot_is_replanned_once_until_its_playbooks_change(world: World) -> None:
    """Re-planning sweeps every open follow-up: it runs once per snapshot and set of cadences
    (the schedule's next runs skip it); a scheme that drops a tier's cadence runs it again."""
    _setup(world)
    with world.engine.begin() as conn:
        plan(conn, now=NOW)
        plan(conn, now=NOW + timedelta(hours=1))
        marks = count(conn, audit_log, audit_log.c.action == "tasks.replan")
        publish_default(conn, **{"      cadence_days: 14\n      channel: call\n": ""})  # B: none
        again = plan(conn, now=NOW + timedelta(hours=2))
        assert count(conn, audit_log, audit_log.c.action == "tasks.replan") == marks + 1 == 2
    assert (again.cancelled, again.created) == (1, 0)
    with world.engine.connect() as conn:
        status = dict(conn.execute(sa.select(tasks.c.customer_pk, tasks.c.status)).all())
    assert status == {world.pks["A1"]: "open", world.pks["B1"]: "cancelled",
                      world.pks["C1"]: "open"}  # fmt: skip


def test_completing_logs_an_interaction_and_schedules_the_next(world: World) -> None:
    _setup(world)
    li = world.user("li")
    with world.engine.begin() as conn:
        generate(conn, now=NOW)
    task_id = int(_mine(world)["B1"]["id"])
    with world.engine.begin() as conn:
        done = complete_task(conn, principal=li, task_id=task_id, now=NOW, note="下单意向")
        assert count(conn, interactions, interactions.c.interaction_id == f"task-{task_id}") == 1
        assert count(conn, audit_log, audit_log.c.action == "task.done") == 1
        # the next due date counts from this contact; generating again adds nothing
        assert generate(conn, now=NOW).created == 0
    nxt = _mine(world)["B1"]
    assert nxt["id"] == done["next_task"]
    assert nxt["due_at"] == "2026-12-16 09:00"
    with world.engine.begin() as conn, pytest.raises(DataError, match="is done already"):
        complete_task(conn, principal=li, task_id=task_id, now=NOW)


def test_snooze_and_skip_need_a_reason(world: World) -> None:
    _setup(world)
    li = world.user("li")
    with world.engine.begin() as conn:
        generate(conn, now=NOW)
    ids = {k: int(v["id"]) for k, v in _mine(world).items()}
    with world.engine.begin() as conn:
        with pytest.raises(DataError, match="A reason is required to snooze"):
            snooze_task(conn, principal=li, task_id=ids["B1"], until=NOW + timedelta(days=3),
                        reason="  ", now=NOW)  # fmt: skip
        with pytest.raises(DataError, match="not in the future"):
            snooze_task(conn, principal=li, task_id=ids["B1"], until=NOW, reason="x", now=NOW)
        with pytest.raises(DataError, match="A reason is required to skip"):
            skip_task(conn, principal=li, task_id=ids["C1"], reason="", now=NOW)
        snooze_task(conn, principal=li, task_id=ids["B1"], until=NOW + timedelta(days=3),
                    reason="出差", now=NOW)  # fmt: skip
        skipped = skip_task(conn, principal=li, task_id=ids["C1"], reason="bounced", now=NOW)
    with world.engine.connect() as conn:
        today = [t["customer_id"] for t in list_tasks(conn, principal=li, now=NOW)]
        later = [
            t["customer_id"] for t in list_tasks(conn, principal=li, now=NOW + timedelta(days=3))
        ]
    assert today == []  # B1 snoozed, C1's next contact in 30 days
    assert later == ["B1"]
    assert skipped["next_task"] is not None


def test_tasks_are_scoped_by_role(world: World) -> None:
    _setup(world)
    with world.engine.begin() as conn:
        generate(conn, now=NOW)
    task_id = int(_mine(world)["B1"]["id"])
    assert _mine(world, "wang") == {}
    assert _mine(world, "zhao", everyone=True) == {}
    assert sorted(_mine(world, "boss", everyone=True)) == ["A1", "B1", "C1"]
    assert _mine(world, "ana", everyone=True) == {}
    with world.engine.begin() as conn:
        with pytest.raises(NotFoundError, match=f"Task {task_id} does not exist"):
            complete_task(conn, principal=world.user("wang"), task_id=task_id, now=NOW)
        with pytest.raises(ForbiddenError):
            complete_task(conn, principal=world.user("ana"), task_id=task_id, now=NOW)
        # the manager may act on the team's tasks
        complete_task(conn, principal=world.user("boss"), task_id=task_id, now=NOW)


def test_open_tasks_follow_the_owner(world: World) -> None:
    _setup(world)
    with world.engine.begin() as conn:
        generate(conn, now=NOW)
        world.own(conn, "A1", "wang")
        assert generate(conn, now=NOW).reassigned == 1
    assert sorted(_mine(world, "wang")) == ["A1"]


def test_the_owner_sweep_runs_only_when_the_owners_changed(world: World) -> None:
    """The pass over every open task runs when the owners' fingerprint moved: two customers
    swapping owners (same count, same assignment time) are caught; nothing changed, no pass."""
    _setup(world)
    with world.engine.begin() as conn:
        world.own(conn, "B1", "wang")
        generate(conn, now=NOW)
        passes = count(conn, audit_log, audit_log.c.action == "tasks.follow_owners")
        assert generate(conn, now=NOW).reassigned == 0
        assert count(conn, audit_log, audit_log.c.action == "tasks.follow_owners") == passes
        world.own(conn, "A1", "wang")
        world.own(conn, "B1", "li")
        assert generate(conn, now=NOW).reassigned == 2
    assert sorted(_mine(world, "wang")) == ["A1"]
    assert sorted(_mine(world, "li")) == ["B1", "C1"]


def test_a_tiers_holdout_gets_no_follow_up(world: World) -> None:
    from act_world import publish_default

    from tierwise.evaluate import holdout

    names = [f"A{i}" for i in range(1, 41)]
    with world.engine.begin() as conn:
        publish_default(
            conn,
            **{
                'recommendations: ["*"]    # product': 'holdout_share: 0.25\n      recommendations: ["*"]    # product'
            },
        )
        for cid in names:
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        world.classify(conn, dict.fromkeys(names, "A"))
        created = generate(conn, now=NOW).created
    held = {c for c in names if holdout(world.pks[c], "A", 0.25)}
    assert 0 < len(held) < len(names)  # 40 customers, a quarter held out, give or take
    assert created == len(names) - len(held)
    assert set(_mine(world)) == set(names) - held
