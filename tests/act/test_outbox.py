"""The outbox: events queued with the change, delivered to a local HTTP receiver, retried."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

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
    verify_signature,
    win_back_results,
)
from tierwise.act._secrets import unseal
from tierwise.errors import ConfigError, DataError
from tierwise.store.tables import tasks, webhook_attempts, webhook_deliveries, webhook_endpoints
from webhook_receiver import Receiver, receiving

KEY = "test-secret-key-" + "x" * 32


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(failures=1) as r:
        yield r


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
                     events=["tier_changed"], secret="s3cret", lang="en", secret_key=KEY)  # fmt: skip
    _tier_change(world)
    with world.engine.begin() as conn:
        result = after_classification(conn, now=NOW)
        assert result["tier_events"] == 1
        assert after_classification(conn, now=NOW)["tier_events"] == 0  # queued once
    policy = RetryPolicy(jitter=0)
    assert deliver_due(world.engine, now=NOW, policy=policy, secret_key=KEY) == {
        "delivered": 0, "retrying": 1, "dead": 0,
    }  # fmt: skip
    # not due again before the backoff (30 s)
    assert (
        deliver_due(world.engine, now=NOW + timedelta(seconds=29), policy=policy,
                    secret_key=KEY)["retrying"] == 0
    )  # fmt: skip
    assert deliver_due(world.engine, now=NOW + timedelta(seconds=30), policy=policy,
                       secret_key=KEY) == {"delivered": 1, "retrying": 0, "dead": 0}  # fmt: skip
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


# --- secrets at rest ------------------------------------------------------------------------


def _endpoint_row(world: World) -> sa.RowMapping:
    with world.engine.connect() as conn:
        return conn.execute(sa.select(webhook_endpoints)).mappings().one()


def _signed_ok(receiver: Receiver, secret: str) -> bool:
    headers, body = receiver.requests[-1]
    return verify_signature(secret, timestamp=headers["X-Tierwise-Timestamp"], body=body,
                            signature=headers["X-Tierwise-Signature"],
                            now=NOW.replace(tzinfo=UTC))  # fmt: skip


def test_a_secret_is_stored_encrypted_and_still_signs(world: World, receiver: Receiver) -> None:
    receiver.failures = 0
    with world.engine.begin() as conn:
        add_endpoint(conn, principal=world.user("admin"), url=receiver.url,
                     events=["tier_changed"], secret="s3cret-value", secret_key=KEY)  # fmt: skip
        assert list_endpoints(conn, principal=world.user("admin"))[0]["signed"] is True
    stored = _endpoint_row(world)["secret"]
    assert stored != "s3cret-value" and "s3cret" not in stored and stored.startswith("fernet:v1:")
    assert unseal(stored, secret_key=KEY) == "s3cret-value"
    _tier_change(world)
    with world.engine.begin() as conn:
        after_classification(conn, now=NOW)
    assert deliver_due(world.engine, now=NOW, secret_key=KEY)["delivered"] == 1
    assert _signed_ok(receiver, "s3cret-value")
    assert not _signed_ok(receiver, stored)  # the stored value is not what signs


def test_a_plain_secret_of_before_keeps_working_and_is_sealed(
    world: World, receiver: Receiver
) -> None:
    receiver.failures = 0
    with world.engine.begin() as conn:  # a row written before secrets were encrypted
        conn.execute(webhook_endpoints.insert().values(
            url=receiver.url, format="json", events=["tier_changed"], secret="old-plain",
            lang="zh", is_active=True, created_at=NOW, created_by="admin"))  # fmt: skip
    _tier_change(world)
    with world.engine.begin() as conn:
        after_classification(conn, now=NOW)
    assert deliver_due(world.engine, now=NOW, secret_key=KEY)["delivered"] == 1
    assert _signed_ok(receiver, "old-plain")
    stored = _endpoint_row(world)["secret"]
    assert stored.startswith("fernet:v1:") and unseal(stored, secret_key=KEY) == "old-plain"


def test_another_secret_key_cannot_sign_and_says_so(world: World, receiver: Receiver) -> None:
    with world.engine.begin() as conn:
        add_endpoint(conn, principal=world.user("admin"), url=receiver.url,
                     events=["tier_changed"], secret="s3cret", secret_key=KEY)  # fmt: skip
    _tier_change(world)
    with world.engine.begin() as conn:
        after_classification(conn, now=NOW)
    other = "another-key-" + "y" * 32
    assert deliver_due(world.engine, now=NOW, secret_key=other)["retrying"] == 1
    assert receiver.requests == []  # nothing was sent unsigned
    with world.engine.connect() as conn:
        [log] = delivery_log(conn, principal=world.user("admin"))
    assert "cannot be decrypted with this TIERWISE_SECRET_KEY" in log["last_error"]
    with pytest.raises(ConfigError, match="decrypted"):
        unseal(_endpoint_row(world)["secret"], secret_key=other)


# --- Retry-After ----------------------------------------------------------------------------


def _queued(world: World, receiver: Receiver, *answers: tuple[int, dict[str, str]]) -> None:
    receiver.failures = 0
    receiver.script = [(status, {"_headers": headers}, 0.0) for status, headers in answers]
    with world.engine.begin() as conn:
        add_endpoint(conn, principal=world.user("admin"), url=receiver.url,
                     events=["tier_changed"])  # fmt: skip
    _tier_change(world)
    with world.engine.begin() as conn:
        after_classification(conn, now=NOW)


def _next_at(world: World) -> datetime:
    with world.engine.connect() as conn:
        [log] = delivery_log(conn, principal=world.user("admin"))
    moment: datetime = log["next_attempt_at"]
    return moment


def test_a_429_retry_after_in_seconds_postpones_the_next_attempt(
    world: World, receiver: Receiver
) -> None:
    _queued(world, receiver, (429, {"Retry-After": "120"}))
    policy = RetryPolicy(jitter=0)  # would retry after 30 s
    assert deliver_due(world.engine, now=NOW, policy=policy)["retrying"] == 1
    assert _next_at(world) == NOW + timedelta(seconds=120)
    assert deliver_due(world.engine, now=NOW + timedelta(seconds=30), policy=policy) == {
        "delivered": 0, "retrying": 0, "dead": 0,
    }  # fmt: skip
    assert (
        deliver_due(world.engine, now=NOW + timedelta(seconds=120), policy=policy)["delivered"] == 1
    )
    with world.engine.connect() as conn:
        errors = conn.execute(sa.select(webhook_attempts.c.error).order_by(
            webhook_attempts.c.id)).scalars().all()  # fmt: skip
    assert errors[0] == f"127.0.0.1:{receiver.port} answered HTTP 429 " \
        "(Retry-After 120 s)."  # fmt: skip


def test_a_503_retry_after_http_date_and_the_cap(world: World, receiver: Receiver) -> None:
    later = format_datetime(NOW.replace(tzinfo=UTC) + timedelta(minutes=5), usegmt=True)
    _queued(world, receiver, (503, {"Retry-After": later}), (429, {"Retry-After": "999999"}))
    policy = RetryPolicy(jitter=0, max_retry_after_seconds=600)
    deliver_due(world.engine, now=NOW, policy=policy)
    assert _next_at(world) == NOW + timedelta(minutes=5)
    deliver_due(world.engine, now=NOW + timedelta(minutes=5), policy=policy)
    # a week asked for: capped at the policy's maximum (10 min here)
    assert _next_at(world) == NOW + timedelta(minutes=15)
