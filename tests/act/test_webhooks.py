"""Webhooks delivered to a real HTTP receiver on 127.0.0.1: signatures, bot formats, retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx2
import pytest

from tierwise.act import (
    Event,
    RetryPolicy,
    WebhookEndpoint,
    deliver,
    render,
    verify_signature,
)
from tierwise.act._webhooks import retry_after
from webhook_receiver import Receiver, receiving

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
EVENT = Event(
    id="tier_changed:42:2026-12-02",
    kind="tier_changed",
    occurred_at=datetime(2026, 12, 2, 7, 59, tzinfo=UTC),
    customer_id="C042",
    customer_name="上海明远贸易",
    summary_zh="上海明远贸易 从 B 升为 A",
    summary_en="上海明远贸易 moved from B to A",
    details={"from": "B", "to": "A"},
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def test_generic_json_is_signed_and_retried_after_a_failure(receiver: Receiver) -> None:
    receiver.script = [(500, {"error": "down"}, 0.0), (204, {}, 0.0)]
    endpoint = WebhookEndpoint(
        f"{receiver.base}/hooks/tierwise", "json", secret="s3cret", lang="en"
    )
    policy = RetryPolicy()

    first = deliver(endpoint, EVENT, now=NOW)
    assert (first.ok, first.status_code, first.retryable) == (False, 500, True)
    assert first.error == f"{receiver.base.removeprefix('http://')} answered HTTP 500."
    assert first.error_zh is not None and "HTTP 500" in first.error_zh
    assert '"down"' in first.response_excerpt

    retry_at = policy.next_attempt_at(1, NOW, EVENT.id)
    assert retry_at is not None and timedelta(seconds=27) <= retry_at - NOW <= timedelta(seconds=33)
    second = deliver(endpoint, EVENT, now=retry_at)
    assert (second.ok, second.status_code, second.error) == (True, 204, None)

    # what a receiver does: the raw body, the timestamp header, the shared secret
    for request, when in zip(receiver.seen, (NOW, retry_at), strict=True):
        headers, body = request["headers"], request["body"]
        assert verify_signature(
            "s3cret", timestamp=headers["X-Tierwise-Timestamp"], body=body,
            signature=headers["X-Tierwise-Signature"], now=when,
        )  # fmt: skip
        expected = hmac.new(
            b"s3cret", headers["X-Tierwise-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["X-Tierwise-Signature"] == f"sha256={expected}"
        assert headers["X-Tierwise-Event"] == "tier_changed"
        doc = json.loads(body)
        assert doc["customer"] == {"id": "C042", "name": "上海明远贸易"}
        assert doc["text"] == "上海明远贸易 moved from B to A"
        assert doc["summary"]["zh"] == "上海明远贸易 从 B 升为 A"
        assert doc["id"] == EVENT.id  # the same id on every retry, for the receiver's dedupe


def test_a_tampered_or_stale_json_webhook_fails_verification() -> None:
    headers, body = render(EVENT, "json", "zh", secret="s3cret", now=NOW)
    ts, sig = headers["X-Tierwise-Timestamp"], headers["X-Tierwise-Signature"]
    assert verify_signature("s3cret", timestamp=ts, body=body, signature=sig, now=NOW)
    assert not verify_signature("s3cret", timestamp=ts, body=body + b" ", signature=sig, now=NOW)
    assert not verify_signature("other", timestamp=ts, body=body, signature=sig, now=NOW)
    later = NOW + timedelta(minutes=6)
    assert not verify_signature("s3cret", timestamp=ts, body=body, signature=sig, now=later)
    assert "X-Tierwise-Signature" not in render(EVENT, "json", "zh", now=NOW)[0]


def test_wecom_markdown_message(receiver: Receiver) -> None:
    receiver.script = [(200, {"errcode": 0, "errmsg": "ok"}, 0.0)]
    endpoint = WebhookEndpoint(f"{receiver.base}/cgi-bin/webhook/send?key=k1", "wecom")
    with httpx2.Client() as client:  # a caller's pooled client is used as given, not closed
        attempt = deliver(endpoint, EVENT, now=NOW, client=client)
        assert not client.is_closed
    assert attempt.ok
    sent = receiver.seen[0]
    assert sent["query"] == {"key": ["k1"]}
    doc = json.loads(sent["body"])
    assert doc["msgtype"] == "markdown"
    content = doc["markdown"]["content"]
    assert content.startswith("**客户分级变化**\n")
    assert "> 客户：上海明远贸易 (C042)" in content
    assert "> 说明：上海明远贸易 从 B 升为 A" in content


def test_dingtalk_markdown_with_its_signature_in_the_query(receiver: Receiver) -> None:
    receiver.script = [(200, {"errcode": 0, "errmsg": "ok"}, 0.0)]
    secret = "SECabc+/="
    endpoint = WebhookEndpoint(
        f"{receiver.base}/robot/send?access_token=t1", "dingtalk", secret, "en"
    )
    assert deliver(endpoint, EVENT, now=NOW).ok
    sent = receiver.seen[0]
    query = sent["query"]
    assert query["access_token"] == ["t1"]
    ts = query["timestamp"][0]
    assert ts == str(int(NOW.timestamp() * 1000))  # milliseconds
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()]  # parse_qs undid the urlEncode
    doc = json.loads(sent["body"])
    assert doc["msgtype"] == "markdown"
    assert doc["markdown"]["title"] == "Tier changed"
    assert doc["markdown"]["text"].startswith("#### Tier changed\n> Customer: 上海明远贸易 (C042)")


def test_feishu_post_with_its_signature_in_the_body(receiver: Receiver) -> None:
    receiver.script = [
        (200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}, 0.0),
        (200, {"code": 0, "msg": "success", "data": {}}, 0.0),
    ]
    endpoint = WebhookEndpoint(f"{receiver.base}/open-apis/bot/v2/hook/h1", "feishu", "fs-secret")
    refused = deliver(endpoint, EVENT, now=NOW)
    assert (refused.ok, refused.status_code, refused.retryable) == (False, 200, False)
    assert refused.error is not None and "error code 19021: sign match fail" in refused.error
    assert deliver(endpoint, EVENT, now=NOW).ok
    doc = json.loads(receiver.seen[1]["body"])
    ts = doc["timestamp"]
    assert ts == str(int(NOW.timestamp()))  # seconds
    digest = hmac.new(f"{ts}\nfs-secret".encode(), b"", hashlib.sha256).digest()
    assert doc["sign"] == base64.b64encode(digest).decode()
    assert doc["msg_type"] == "post"
    post = doc["content"]["post"]["zh_cn"]
    assert post["title"] == "客户分级变化"
    assert post["content"][0] == [{"tag": "text", "text": "客户：上海明远贸易 (C042)"}]


def test_a_slow_receiver_is_a_clear_timeout(receiver: Receiver) -> None:
    receiver.script = [(200, {}, 1.0)]
    endpoint = WebhookEndpoint(f"{receiver.base}/slow", "json", timeout=0.2)
    attempt = deliver(endpoint, EVENT, now=NOW)
    assert (attempt.ok, attempt.status_code, attempt.retryable) == (False, None, True)
    assert attempt.error is not None and "timed out after 0.2 s" in attempt.error
    assert "127.0.0.1" in attempt.error
    assert attempt.duration_ms < 900


def test_a_refused_connection_and_a_bad_url_are_failed_attempts() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = deliver(
        WebhookEndpoint(f"http://127.0.0.1:{port}/x?key=SECRET", "wecom"), EVENT, now=NOW
    )
    assert (refused.ok, refused.status_code, refused.retryable) == (False, None, True)
    assert refused.error is not None and refused.error.startswith(
        f"Could not connect to 127.0.0.1:{port}"
    )
    assert "SECRET" not in refused.error and "SECRET" not in (refused.error_zh or "")
    bad = deliver(WebhookEndpoint("ftp://example.org/x?key=SECRET", "json"), EVENT, now=NOW)
    assert (bad.ok, bad.retryable) == (False, False)
    assert bad.error == 'Webhook URL "ftp://example.org/x" is not valid: use http(s)://host/path.'
    for url in ("http://", "http://[::1", "not a url"):
        attempt = deliver(WebhookEndpoint(url, "wecom"), EVENT, now=NOW)
        assert attempt.error is not None and "is not valid" in attempt.error, url


def test_retry_policy_backs_off_deterministically_and_gives_up() -> None:
    policy = RetryPolicy(jitter=0)
    delays = [(policy.next_attempt_at(n, NOW, "k") or NOW) - NOW for n in range(1, 6)]
    assert [d.total_seconds() for d in delays] == [30, 120, 480, 1920, 7680]
    assert policy.next_attempt_at(6, NOW, "k") is None
    assert RetryPolicy(max_attempts=20).delay_seconds(15, "k") <= 6 * 3600
    jittered = RetryPolicy()
    assert jittered.next_attempt_at(2, NOW, "a") == jittered.next_attempt_at(2, NOW, "a")
    spread = {jittered.delay_seconds(2, f"ev-{i}") for i in range(20)}
    assert len(spread) > 1 and all(108 <= s <= 132 for s in spread)


def test_details_that_are_not_json_types_are_sent_as_text() -> None:
    event = replace(EVENT, details={"due": date(2026, 12, 5), "amount": Decimal("12.50")})
    doc = json.loads(render(event, "json", "en", now=NOW)[1])
    assert doc["details"] == {"due": "2026-12-05", "amount": "12.50"}
    assert (
        "> due：2026-12-05"
        in json.loads(render(event, "wecom", "zh", now=NOW)[1])["markdown"]["content"]
    )


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert retry_after("120", NOW) == 120.0
    assert retry_after(" 0 ", NOW) == 0.0
    assert retry_after("Wed, 02 Dec 2026 08:10:00 GMT", NOW) == 600.0
    assert retry_after("Wed, 02 Dec 2026 07:00:00 GMT", NOW) == 0.0  # in the past: now
    for unreadable in (None, "", "soon", "-5", "1.5"):
        assert retry_after(unreadable, NOW) is None, unreadable


def test_the_policy_waits_for_retry_after_but_never_past_its_cap() -> None:
    policy = RetryPolicy(jitter=0, max_retry_after_seconds=3600)
    at = policy.next_attempt_at
    assert at(1, NOW, "k", retry_after=120) == NOW + timedelta(seconds=120)
    assert at(1, NOW, "k", retry_after=5) == NOW + timedelta(seconds=30)  # the backoff is later
    assert at(1, NOW, "k", retry_after=10**9) == NOW + timedelta(hours=1)
    assert at(6, NOW, "k", retry_after=120) is None  # the last attempt stays the last


def test_a_429_answer_carries_its_retry_after(receiver: Receiver) -> None:
    receiver.script = [(429, {"_headers": {"Retry-After": "90"}}, 0.0),
                       (500, {"_headers": {"Retry-After": "90"}}, 0.0)]  # fmt: skip
    attempt = deliver(WebhookEndpoint(receiver.base, "json"), EVENT, now=NOW)
    assert (attempt.status_code, attempt.retry_after_seconds, attempt.retryable) == (429, 90, True)
    assert attempt.error is not None and attempt.error.endswith("HTTP 429 (Retry-After 90 s).")
    assert attempt.error_zh is not None and "要求 90 秒后重试" in attempt.error_zh
    # only 429 and 503 ask to wait
    assert (
        deliver(WebhookEndpoint(receiver.base, "json"), EVENT, now=NOW).retry_after_seconds is None
    )


def test_chat_lines_say_bilingual_details_in_the_message_language() -> None:
    event = replace(EVENT, details={"reasons": {"zh": ["存活概率仅 12%", "有 2 条未解决投诉"],
                                                "en": ["probability alive only 12%", "2 open"]}})  # fmt: skip
    zh = json.loads(render(event, "wecom", "zh")[1])["markdown"]["content"]
    en = json.loads(render(event, "dingtalk", "en")[1])["markdown"]["text"]
    assert "> reasons：存活概率仅 12%；有 2 条未解决投诉" in zh
    assert "> reasons: probability alive only 12%; 2 open" in en
