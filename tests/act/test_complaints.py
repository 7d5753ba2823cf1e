"""Complaint routing: tier priority then SLA deadline; escalation once, to the manager."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from act_world import NOW, World, complain, count

from tierwise.act import complaint_queue, escalate, respond, track
from tierwise.act._complaints import DEFAULT_SLA_HOURS
from tierwise.errors import NotFoundError
from tierwise.ingest import ImportOptions, import_file
from tierwise.pipeline import acted
from tierwise.store.tables import (
    audit_log,
    complaint_sla,
    tasks,
    webhook_deliveries,
    webhook_endpoints,
)


def _setup(world: World) -> None:
    with world.engine.begin() as conn:
        for cid in ("A1", "B1", "D1"):
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        world.classify(conn, {"A1": "A", "B1": "B", "D1": "D"})
        # B1 complained first, but A's 4-hour SLA comes first in the queue
        complain(conn, world, "F-B1", "B1", datetime(2026, 12, 1, 8, 0))
        complain(conn, world, "F-A1", "A1", datetime(2026, 12, 2, 6, 0))
        complain(conn, world, "F-A2", "A1", datetime(2026, 12, 2, 8, 0))
        complain(conn, world, "F-D1", "D1", datetime(2026, 11, 30, 8, 0))
        conn.execute(webhook_endpoints.insert().values(
            url="http://127.0.0.1:9/hook", format="json", lang="en", is_active=True,
            created_at=NOW, created_by="test"))  # fmt: skip


def test_queue_is_ordered_by_tier_priority_then_deadline(world: World) -> None:
    _setup(world)
    with world.engine.begin() as conn:
        assert track(conn, now=NOW)["tracked"] == 4
        assert track(conn, now=NOW)["tracked"] == 0
        queue = complaint_queue(conn, principal=world.user("li"), now=NOW)
    assert [(q["feedback_id"], q["deadline_at"]) for q in queue] == [
        ("F-A1", "2026-12-02 10:00"),
        ("F-A2", "2026-12-02 12:00"),
        ("F-B1", "2026-12-02 08:00"),
        ("F-D1", "2026-12-03 08:00"),
    ]
    assert [q["breached"] for q in queue] == [False, False, True, False]
    with world.engine.connect() as conn:
        assert complaint_queue(conn, principal=world.user("wang"), now=NOW) == []


def test_breached_sla_escalates_once_to_the_manager(world: World) -> None:
    _setup(world)
    later = NOW + timedelta(hours=2)  # 11:00: F-A1 (10:00) and F-B1 (08:00) are late
    with world.engine.begin() as conn:
        track(conn, now=later)
        respond(conn, principal=world.user("li"), feedback_id="F-A2", now=later, note="called")
        assert escalate(conn, now=later) == {"escalated": 2}
        assert escalate(conn, now=later) == {"escalated": 0}
        escalated = conn.execute(
            sa.select(tasks.c.user_id, tasks.c.reason_params).where(tasks.c.kind == "complaint")
        ).all()
        assert {r.user_id for r in escalated} == {world.user("boss").user_id}
        assert sorted(r.reason_params["feedback"] for r in escalated) == ["F-A1", "F-B1"]
        assert count(conn, webhook_deliveries, webhook_deliveries.c.event == "sla_breached") == 2
        assert count(conn, audit_log, audit_log.c.action == "complaint.escalate") == 2
        queue = complaint_queue(conn, principal=world.user("boss"), now=later)
    assert [q["feedback_id"] for q in queue] == ["F-A1", "F-B1", "F-D1"]
    assert [q["escalated"] for q in queue] == [True, True, False]
    with world.engine.begin() as conn, pytest.raises(NotFoundError):
        respond(conn, principal=world.user("wang"), feedback_id="F-A1", now=later)


def test_a_tier_change_moves_the_deadline(world: World) -> None:
    _setup(world)
    with world.engine.begin() as conn:
        track(conn, now=NOW)
        world.classify(conn, {"A1": "A", "B1": "B", "D1": "A"})
        assert track(conn, now=NOW)["retiered"] == 1
        deadline = conn.scalar(
            sa.select(complaint_sla.c.deadline_at).where(
                complaint_sla.c.customer_pk == world.pks["D1"]
            )
        )
    assert deadline == datetime(2026, 11, 30, 12, 0)


def test_an_imported_complaint_joins_the_queue_at_once(world: World, tmp_path: Path) -> None:
    """No wait for the next classification or schedule run: the import starts the SLA clock."""
    with world.engine.begin() as conn:
        world.customer(conn, "A1")
        world.own(conn, "A1", "li")
        world.classify(conn, {"A1": "A"})
    path = tmp_path / "投诉.csv"
    path.write_text(
        "投诉编号,客户编号,投诉时间,类型,投诉内容\n"
        "F-9,A1,2026/12/2 07:00,投诉,物流太慢\n"
        "F-10,A1,2026/12/2 07:30,评价,很好\n",
        encoding="utf-8",
    )
    report = import_file(path, engine=world.engine, options=ImportOptions(kind="feedback"))
    assert report.inserted == 2
    acted(world.engine, report)
    with world.engine.connect() as conn:
        queue = complaint_queue(conn, principal=world.user("li"), now=NOW)
    assert [(q["feedback_id"], q["deadline_at"]) for q in queue] == [("F-9", "2026-12-02 11:00")]
    # a dry run writes nothing, so it starts nothing either
    again = import_file(path, engine=world.engine,
                        options=ImportOptions(kind="feedback", dry_run=True))  # fmt: skip
    acted(world.engine, again)
    with world.engine.connect() as conn:
        assert count(conn, complaint_sla) == 1


def test_before_any_classification_a_complaint_waits_on_the_default_sla(
    world: World, tmp_path: Path
) -> None:
    """No snapshot, no playbooks: the complaint is queued at once on the 48-hour default, and
    takes its tier's SLA with the first classification."""
    with world.engine.begin() as conn:
        world.customer(conn, "A1")
        world.own(conn, "A1", "li")
    path = tmp_path / "feedback.csv"
    path.write_text("ticket id,customer id,created at,type,content\n"
                    "T-1,A1,2026-12-02 07:00,complaint,late delivery\n", encoding="utf-8")  # fmt: skip
    acted(world.engine, import_file(path, engine=world.engine,
                                    options=ImportOptions(kind="feedback")))  # fmt: skip
    with world.engine.connect() as conn:
        [before] = complaint_queue(conn, principal=world.user("li"), now=NOW)
    assert (before["tier"], before["sla_hours"], before["deadline_at"]) == (
        None, DEFAULT_SLA_HOURS, "2026-12-04 07:00",
    )  # fmt: skip
    with world.engine.begin() as conn:
        world.classify(conn, {"A1": "A"})
        assert track(conn, now=NOW)["retiered"] == 1
        [after] = complaint_queue(conn, principal=world.user("li"), now=NOW)
    assert (after["tier"], after["sla_hours"], after["deadline_at"]) == ("A", 4, "2026-12-02 11:00")
