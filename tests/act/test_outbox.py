"""The outbox: events queued with the change, delivered to a local HTTP receiver, retried."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from act_world import NOW, World, count

from tierwise.access import ForbiddenError
from tierwise.act import (
    RetryPolicy,
    add_endpoint,
    after_classification,
    deliver_due,
    delivery_log,
    list_endpoints,
    run_schedule,
    test_endpoint,
    win_back_results,
)
from tierwise.errors import DataError
from tierwise.store.tables import tasks, webhook_attempts, webhook_deliveries


class Receiver:
    """A local webhook receiver that fails the first ``failures`` requests with a 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.bodies: list[dict[str, object]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.bodies.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=1)
    yield r
    r.close()


def _tier_change(world: World) -> None:
    with world.engine.begin() as conn:
        for cid in ("A1", "B1"):
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        world.classify(conn, {"A1": "A", "B1": "B"}, extra={"churn_risk": {"A1": "low"}})
        after_classification(conn, now=NOW)
        world.classify(conn, {"A1": "B", "B1": "B"}, extra={"churn_risk": {"A1": "high"}})


def test_tier_change_is_delivered_after_a_failure(world: World, receiver: Receiver) -> None:
    admin = world.user("admin")
    with world.engine.begin() as conn:
        add_endpoint(conn, principal=admin, url=receiver.url, format="json",
                     events=["tier_changed"], secret="s3cret", lang="en")  # fmt: skip
    _tier_change(world)
    with world.engine.begin() as conn:
        result = after_classification(conn, now=NOW)
        assert result["tier_events"] == 1
        assert after_classification(conn, now=NOW)["tier_events"] == 0  # queued once
    policy = RetryPolicy(jitter=0)
    assert deliver_due(world.engine, now=NOW, policy=policy) == {
        "delivered": 0, "retrying": 1, "dead": 0,
    }  # fmt: skip
    # not due again before the backoff (30 s)
    assert (
        deliver_due(world.engine, now=NOW + timedelta(seconds=29), policy=policy)["retrying"] == 0
    )
    assert deliver_due(world.engine, now=NOW + timedelta(seconds=30), policy=policy) == {
        "delivered": 1, "retrying": 0, "dead": 0,
    }  # fmt: skip
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert body["kind"] == "tier_changed"
    assert body["summary"] == {
        "zh": "Name A1 的分级由 A 变为 B", "en": "Name A1 moved from A to B",
    }  # fmt: skip
    with world.engine.connect() as conn:
        assert count(conn, webhook_attempts) == 2
        codes = (
            conn.execute(
                sa.select(webhook_attempts.c.response_code).order_by(webhook_attempts.c.attempt_no)
            )
            .scalars()
            .all()
        )
        log = delivery_log(conn, principal=admin)
    assert codes == [500, 200]
    assert [(d["status"], d["attempts"]) for d in log] == [("delivered", 2)]


def test_churn_warning_opens_a_win_back_task(world: World) -> None:
    _tier_change(world)
    with world.engine.begin() as conn:
        result = after_classification(conn, now=NOW)
        assert result["churn"]["warnings"] == 1
        assert after_classification(conn, now=NOW)["churn"]["warnings"] == 0
        row = conn.execute(
            sa.select(tasks.c.due_at, tasks.c.channel, tasks.c.user_id).where(
                tasks.c.kind == "win_back"
            )
        ).one()
        assert win_back_results(conn, principal=world.user("boss")) == {"open": 1}
    assert (row.due_at, row.channel) == (NOW + timedelta(days=3), "call")
    assert row.user_id == world.user("li").user_id


def test_schedule_queues_overdue_tasks_and_gives_up_on_a_dead_receiver(world: World) -> None:
    with world.engine.begin() as conn:
        add_endpoint(conn, principal=world.user("admin"), url="http://127.0.0.1:9/closed",
                     events=["task_overdue"])  # fmt: skip
        world.customer(conn, "B1")
        world.own(conn, "B1", "li")
        world.contact(conn, "B1", datetime(2026, 11, 1, 9, 0))
        world.classify(conn, {"B1": "B"})
    first = run_schedule(world.engine, now=NOW, deliver=False)
    assert first["tasks"]["created"] == 1
    assert first["overdue_events"] == 1
    assert run_schedule(world.engine, now=NOW, deliver=False)["overdue_events"] == 0
    policy = RetryPolicy(max_attempts=2, jitter=0)
    assert deliver_due(world.engine, now=NOW, policy=policy)["retrying"] == 1
    assert deliver_due(world.engine, now=NOW + timedelta(minutes=1), policy=policy)["dead"] == 1
    with world.engine.connect() as conn:
        assert count(conn, webhook_deliveries, webhook_deliveries.c.status == "dead") == 1


def test_endpoints_are_for_admins_and_checked(world: World, receiver: Receiver) -> None:
    with world.engine.begin() as conn:
        with pytest.raises(ForbiddenError):
            add_endpoint(conn, principal=world.user("boss"), url=receiver.url)
        with pytest.raises(DataError, match='Webhook URL "ftp://x" must start with http'):
            add_endpoint(conn, principal=world.user("admin"), url="ftp://x")
        with pytest.raises(DataError, match="Unknown webhook event"):
            add_endpoint(conn, principal=world.user("admin"), url=receiver.url, events=["x"])
        add_endpoint(conn, principal=world.user("admin"),
                     url="https://oapi.dingtalk.com/robot/send?access_token=SECRET",
                     format="dingtalk")  # fmt: skip
        listed = list_endpoints(conn, principal=world.user("admin"))
    assert listed[0]["url"] == "https://oapi.dingtalk.com/robot/send?…"  # the token stays out
    receiver.failures = 0
    attempt = test_endpoint(receiver.url, format="json")
    assert attempt.ok and receiver.bodies[0]["customer"] == {  # type: ignore[comparison-overlap]
        "id": "TEST-001", "name": "测试客户 Test customer",
    }  # fmt: skip
