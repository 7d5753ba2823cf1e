"""Webhooks: one event rendered for a generic JSON receiver or a chat group bot, and delivered.

Formats, as each vendor's documentation (named below) describes them; on 2026-12-02 they were
checked against pages that reproduce those documents and their sample code (the official pages
themselves could not be opened from here), and against each other:

- ``json``: Tierwise's own document, signed (see `verify_signature` for the receiver's side).
- ``wecom``: 企业微信群机器人, ``{"msgtype": "markdown", "markdown": {"content": …}}``, content at
  most 4096 bytes; the answer is ``{"errcode": 0, "errmsg": "ok"}``. No signing: the ``key`` in
  the URL is the secret (developer.work.weixin.qq.com/document/path/91770, 群机器人配置说明).
- ``dingtalk``: 钉钉自定义机器人, ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; 加签:
  ``timestamp`` (ms) and ``sign = urlencode(base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}")))`` as query parameters; the answer has ``errcode`` 0
  (open.dingtalk.com/document/orgapp/custom-robot-access, …/robot-message-type).
- ``feishu``: 飞书自定义机器人, ``{"msg_type": "post", "content": {"post": {"zh_cn": {"title",
  "content": [[{"tag": "text", "text"}]]}}}}``; 签名校验: ``timestamp`` (s) and ``sign =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))`` in the body — note the key and
  message are the other way round from DingTalk's; the answer has ``code`` 0
  (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot).

`deliver` makes exactly one attempt and never raises for a bad receiver; the caller keeps the
`Attempt` in its delivery log and asks `RetryPolicy` when to try again. A receiver that answers
429 or 503 with ``Retry-After`` (seconds or an HTTP date, RFC 9110 §10.2.3) is not tried again
before then (up to `RetryPolicy.max_retry_after_seconds`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2 as httpx

from tierwise.errors import ConfigError

EventKind = Literal["tier_changed", "churn_warning", "task_overdue", "sla_breached"]
Format = Literal["json", "wecom", "dingtalk", "feishu"]
Lang = Literal["zh", "en"]

KINDS: dict[str, tuple[str, str]] = {
    "tier_changed": ("客户分级变化", "Tier changed"),
    "churn_warning": ("流失预警", "Churn warning"),
    "task_overdue": ("跟进任务逾期", "Follow-up overdue"),
    "sla_breached": ("投诉处理超时", "Complaint SLA breached"),
}
FORMATS: tuple[str, ...] = ("json", "wecom", "dingtalk", "feishu")

SIGNATURE_HEADER = "X-Tierwise-Signature"
TIMESTAMP_HEADER = "X-Tierwise-Timestamp"
_WECOM_MAX_BYTES = 4096
_EXCERPT_CHARS = 500
# Bot answers that mean "too fast, try later" rather than "this message is wrong":
# WeCom 45009 (接口调用超过限制), DingTalk 130101 (发送速度太快), Feishu 9499 / 11232 (频率限制).
_RATE_LIMIT_CODES = {45009, 130101, 9499, 11232}


@dataclass(frozen=True)
class Event:
    """Something a receiver should hear about; ``id`` is stable across retries.

    >>> Event("ev-1", "tier_changed", datetime(2026, 12, 2, tzinfo=UTC), "C001", "张三",
    ...       "张三 从 B 升为 A", "张三 moved from B to A", {"from": "B", "to": "A"}).title("en")
    'Tier changed'
    """

    id: str
    kind: EventKind
    occurred_at: datetime
    customer_id: str
    customer_name: str
    summary_zh: str
    summary_en: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def title(self, lang: Lang) -> str:
        zh, en = KINDS[self.kind]
        return zh if lang == "zh" else en

    def summary(self, lang: Lang) -> str:
        return self.summary_zh if lang == "zh" else self.summary_en

    def as_dict(self) -> dict[str, Any]:
        """The generic JSON document (also the ``details`` a delivery log may keep)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "occurred_at": _utc(self.occurred_at).isoformat(),
            "customer": {"id": self.customer_id, "name": self.customer_name},
            "summary": {"zh": self.summary_zh, "en": self.summary_en},
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where and how to send: ``secret`` signs ``json``, ``dingtalk`` (加签) and ``feishu``
    (签名校验); WeCom needs none. ``timeout`` is in seconds, for connecting and for the answer.

    >>> WebhookEndpoint("https://oapi.dingtalk.com/robot/send?access_token=…", "dingtalk", "SEC…")
    WebhookEndpoint(url='https://oapi.dingtalk.com/robot/send?access_token=…', format='dingtalk', ...)
    """

    url: str
    format: Format
    secret: str | None = None
    lang: Lang = "zh"
    timeout: float = 5.0


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, as a delivery log stores it. ``error`` (en) and ``error_zh`` are
    None when ``ok``; ``retryable`` says whether trying again can help (timeouts, refused
    connections, 5xx, 408, 429, bot rate limits) or not (other 4xx, a rejected signature)."""

    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None = None
    error_zh: str | None = None
    response_excerpt: str = ""
    retryable: bool = False
    attempted_at: datetime | None = None
    #: seconds the receiver asked us to wait (``Retry-After`` of a 429 or 503), if it did
    retry_after_seconds: float | None = None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ConfigError(f"Time {moment.isoformat()} has no time zone: pass an aware datetime.")
    return moment.astimezone(UTC)


def _hmac(key: str | bytes, msg: str | bytes) -> bytes:
    k = key.encode() if isinstance(key, str) else key
    m = msg.encode() if isinstance(msg, str) else msg
    return hmac.new(k, m, hashlib.sha256).digest()


def sign_json(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Tierwise-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of ``timestamp.body``.

    >>> sign_json("s3cret", 1764633600, b"{}")[:7]
    'sha256='
    """
    return (
        "sha256="
        + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: datetime | None = None,
    tolerance_seconds: int = 300,
) -> bool:
    """A receiver's check of a ``json`` webhook: recompute ``sha256=HMAC(secret,
    f"{X-Tierwise-Timestamp}." + raw body)``, compare in constant time, and refuse timestamps
    more than ``tolerance_seconds`` away (a replayed old request). Use the raw body bytes, not
    a re-serialised JSON.

    >>> body = b'{"id": "ev-1"}'
    >>> verify_signature("s3cret", timestamp="1764633600", body=body,
    ...     signature=sign_json("s3cret", 1764633600, body),
    ...     now=datetime.fromtimestamp(1764633600, UTC))
    True
    """
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = (now or datetime.now(UTC)).timestamp()
    if abs(current - sent) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign_json(secret, sent, body), signature)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉加签 before URL-encoding: base64(HMAC-SHA256(key=secret, msg=f"{ts}\\n{secret}"))."""
    return base64.b64encode(_hmac(secret, f"{timestamp_ms}\n{secret}")).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """飞书签名校验: base64(HMAC-SHA256(key=f"{ts}\\n{secret}", msg=b""))."""
    return base64.b64encode(_hmac(f"{timestamp_s}\n{secret}", b"")).decode()


def _lines(event: Event, lang: Lang) -> list[tuple[str, str]]:
    """(label, value) lines every chat format shows, in ``lang``."""
    zh = lang == "zh"
    when = _utc(event.occurred_at).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("客户" if zh else "Customer", f"{event.customer_name} ({event.customer_id})"),
        ("说明" if zh else "Summary", event.summary(lang)),
        ("时间" if zh else "When", when),
    ]
    rows += [(str(k), _said(v, lang)) for k, v in sorted(event.details.items())]
    return rows


def _said(value: Any, lang: Lang) -> str:
    """A detail as a chat line: ``{"zh": …, "en": …}`` in ``lang``, lists joined."""
    if isinstance(value, Mapping) and value and set(value) <= {"zh", "en"}:
        value = value.get(lang, value.get("zh"))
    if isinstance(value, list | tuple):
        return ("；" if lang == "zh" else "; ").join(str(v) for v in value)
    return str(value)


def _markdown(event: Event, lang: Lang, heading: str) -> str:
    """``heading`` holds ``{}`` for the title (bold for WeCom, ``####`` for DingTalk, as their
    documentation's examples do); each line is a quote, which both render as a grey block."""
    sep = "：" if lang == "zh" else ": "
    body = "\n".join(f"> {label}{sep}{value}" for label, value in _lines(event, lang))
    return heading.format(event.title(lang)) + "\n" + body


def _clip_utf8(text: str, limit: int) -> str:
    raw = text.encode()
    return text if len(raw) <= limit else raw[: limit - 3].decode(errors="ignore") + "…"


def _dumps(doc: Mapping[str, Any]) -> bytes:
    # default=str: details may hold dates or decimals; a webhook must never fail on them
    return json.dumps(
        doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def render(
    event: Event,
    target_format: Format,
    lang: Lang = "zh",
    *,
    secret: str | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body for ``target_format``; ``secret`` signs ``json`` and ``feishu`` here
    (DingTalk's signature goes in the URL: `deliver` adds it).

    >>> ev = Event("ev-1", "churn_warning", datetime(2026, 12, 2, tzinfo=UTC), "C001", "张三",
    ...            "张三 90 天未下单", "张三 has not ordered for 90 days")
    >>> json.loads(render(ev, "wecom", "zh")[1])["msgtype"]
    'markdown'
    """
    if target_format not in FORMATS:
        raise ConfigError(
            f'Webhook format "{target_format}" is unknown: use one of {", ".join(FORMATS)}.'
        )
    if lang not in ("zh", "en"):
        raise ConfigError(f'Language "{lang}" is not supported: use "zh" or "en".')
    moment = _utc(now or datetime.now(UTC))
    headers = {"Content-Type": "application/json; charset=utf-8"}
    doc: dict[str, Any]
    if target_format == "json":
        body = _dumps({**event.as_dict(), "text": event.summary(lang), "lang": lang})
        headers |= {"X-Tierwise-Event": event.kind, "X-Tierwise-Delivery": event.id}
        if secret:
            ts = int(moment.timestamp())
            headers |= {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign_json(secret, ts, body)}
        return headers, body
    if target_format == "wecom":
        content = _clip_utf8(_markdown(event, lang, "**{}**"), _WECOM_MAX_BYTES)
        doc = {"msgtype": "markdown", "markdown": {"content": content}}
    elif target_format == "dingtalk":
        doc = {
            "msgtype": "markdown",
            "markdown": {"title": event.title(lang), "text": _markdown(event, lang, "#### {}")},
        }
    else:
        sep = "：" if lang == "zh" else ": "
        doc = {
            "msg_type": "post",
            "content": {
                "post": {
                    ("zh_cn" if lang == "zh" else "en_us"): {
                        "title": event.title(lang),
                        "content": [
                            [{"tag": "text", "text": f"{label}{sep}{value}"}]
                            for label, value in _lines(event, lang)
                        ],
                    }
                }
            },
        }
        if secret:
            ts = int(moment.timestamp())
            doc |= {"timestamp": str(ts), "sign": feishu_sign(secret, ts)}
    return headers, _dumps(doc)


def _host(url: str) -> str:
    """The host and port only: bot URLs carry their secret in the query (WeCom ``key``,
    DingTalk ``access_token``) or the path (Feishu hook id), so errors never show more."""
    return urlsplit(url).netloc.rpartition("@")[2]


def _failed(
    started: float, at: datetime, en: str, zh: str, *, status: int | None = None,
    excerpt: str = "", retryable: bool = True, retry_after: float | None = None,
) -> Attempt:  # fmt: skip
    return Attempt(
        ok=False,
        status_code=status,
        duration_ms=round((time.monotonic() - started) * 1000),
        error=en,
        error_zh=zh,
        response_excerpt=excerpt,
        retryable=retryable,
        attempted_at=at,
        retry_after_seconds=retry_after,
    )


#: answers whose ``Retry-After`` is honoured: too many requests, and unavailable for now
RETRY_AFTER_STATUSES = (429, 503)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110
    §10.2.3); None when absent or unreadable. A date in the past means "now" (0).

    >>> retry_after("120", datetime(2026, 12, 2, tzinfo=UTC))
    120.0
    >>> retry_after("Wed, 02 Dec 2026 00:05:00 GMT", datetime(2026, 12, 2, tzinfo=UTC))
    300.0
    """
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
        moment = moment.replace(tzinfo=UTC)
    return max((moment - _utc(now)).total_seconds(), 0.0)


def deliver(
    endpoint: WebhookEndpoint,
    event: Event,
    *,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> Attempt:
    """POST ``event`` to ``endpoint`` once. Success is a 2xx answer and, for the bot formats,
    ``errcode``/``code`` 0 in its JSON. Never raises for a bad receiver.

    >>> deliver(WebhookEndpoint("ftp://x", "json"), ev).error  # doctest: +SKIP
    'Webhook URL "ftp://x" is not valid: use http(s)://host/path.'
    """
    at = _utc(now or datetime.now(UTC))
    started = time.monotonic()
    try:
        parts = urlsplit(endpoint.url)
        url = httpx.URL(endpoint.url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except (ValueError, httpx.InvalidURL):
        valid = False
    if not valid:
        shown = endpoint.url.split("?")[0][:60]  # the query may hold the bot's key
        return _failed(
            started, at,
            f'Webhook URL "{shown}" is not valid: use http(s)://host/path.',
            f"Webhook 地址 “{shown}” 无效：请使用 http(s)://主机/路径。",
            retryable=False,
        )  # fmt: skip
    host = _host(endpoint.url)
    try:
        headers, body = render(
            event, endpoint.format, endpoint.lang, secret=endpoint.secret, now=at
        )
    except ConfigError as exc:
        return _failed(started, at, str(exc), str(exc), retryable=False)
    if endpoint.format == "dingtalk" and endpoint.secret:
        ts = int(at.timestamp() * 1000)
        # merged with the URL's access_token (``params=`` would replace the query); httpx
        # percent-encodes the value once, which is the urlEncode DingTalk asks for
        url = url.copy_merge_params(
            {"timestamp": str(ts), "sign": dingtalk_sign(endpoint.secret, ts)}
        )
    # No proxy/netrc from the environment and no redirects: the request goes to the
    # configured URL and nowhere else.
    own = client is None
    http = client or httpx.Client(timeout=endpoint.timeout, follow_redirects=False, trust_env=False)
    try:
        response = http.post(url, content=body, headers=headers, timeout=endpoint.timeout)
        text = response.text
    except httpx.TimeoutException:
        return _failed(
            started, at,
            f"Webhook to {host} timed out after {endpoint.timeout:g} s; will retry.",
            f"发送到 {host} 的 Webhook 在 {endpoint.timeout:g} 秒后超时，将重试。",
        )  # fmt: skip
    except httpx.ConnectError as exc:
        return _failed(
            started, at,
            f"Could not connect to {host} ({exc}); check the URL and that the receiver is up.",
            f"无法连接到 {host}（{exc}）；请检查地址以及接收方是否在线。",
        )  # fmt: skip
    except httpx.HTTPError as exc:
        return _failed(
            started, at,
            f"Webhook to {host} failed: {type(exc).__name__}: {exc}.",
            f"发送到 {host} 的 Webhook 失败：{type(exc).__name__}：{exc}。",
        )  # fmt: skip
    finally:
        if own:
            http.close()
    excerpt = text[:_EXCERPT_CHARS]
    status = response.status_code
    if not 200 <= status < 300:
        wait = (
            retry_after(response.headers.get("Retry-After"), at)
            if status in RETRY_AFTER_STATUSES
            else None
        )
        asked = "" if wait is None else f" (Retry-After {wait:g} s)"
        asked_zh = "" if wait is None else f"（要求 {wait:g} 秒后重试）"
        return _failed(
            started, at,
            f"{host} answered HTTP {status}{asked}.", f"{host} 返回 HTTP {status}{asked_zh}。",
            status=status, excerpt=excerpt, retryable=status >= 500 or status in (408, 429),
            retry_after=wait,
        )  # fmt: skip
    if endpoint.format != "json":
        code, message = _bot_code(endpoint.format, text)
        if code != 0:
            return _failed(
                started, at,
                f"{host} answered HTTP {status} with error code {code}: {message}.",
                f"{host} 返回 HTTP {status}，错误码 {code}：{message}。",
                status=status, excerpt=excerpt, retryable=code in _RATE_LIMIT_CODES,
            )  # fmt: skip
    return Attempt(
        ok=True,
        status_code=status,
        duration_ms=round((time.monotonic() - started) * 1000),
        response_excerpt=excerpt,
        attempted_at=at,
    )


def _bot_code(fmt: str, text: str) -> tuple[int | None, str]:
    """The bot's own result code: WeCom and DingTalk ``errcode``/``errmsg``; Feishu ``code``/
    ``msg`` (older answers only ``StatusCode``/``StatusMessage``). None when unreadable."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None, "the answer is not JSON"
    if not isinstance(doc, dict):
        return None, "the answer is not a JSON object"
    keys = ("errcode", "errmsg") if fmt != "feishu" else ("code", "msg")
    code = doc.get(keys[0], doc.get("StatusCode") if fmt == "feishu" else None)
    message = doc.get(keys[1], doc.get("StatusMessage", ""))
    return (code if isinstance(code, int) else None), str(message)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: attempt n+1 waits ``base_seconds · factor^(n-1)`` (at most
    ``max_seconds``), spread by ±``jitter`` so that receivers that fail together are not retried
    together; the spread comes from a hash of ``key``, so one event always gets the same
    timetable. The defaults try 6 times over ≈ 2.9 h (30 s, 2 min, 8 min, 32 min, 2 h 8 min).
    A receiver's ``Retry-After`` postpones the next attempt to then at the earliest, but never
    more than ``max_retry_after_seconds`` (a receiver cannot park an event for a week).

    >>> RetryPolicy(jitter=0).next_attempt_at(1, datetime(2026, 12, 2, tzinfo=UTC), "ev-1")
    datetime.datetime(2026, 12, 2, 0, 0, 30, tzinfo=datetime.timezone.utc)
    """

    max_attempts: int = 6
    base_seconds: float = 30.0
    factor: float = 4.0
    max_seconds: float = 6 * 3600.0
    jitter: float = 0.1
    max_retry_after_seconds: float = 6 * 3600.0

    def delay_seconds(self, attempt_no: int, key: str) -> float:
        """Seconds to wait after attempt ``attempt_no`` (1-based) failed."""
        raw = min(self.base_seconds * self.factor ** (attempt_no - 1), self.max_seconds)
        digest = hashlib.sha256(f"{key}:{attempt_no}".encode()).digest()
        unit = int.from_bytes(digest[:8], "big") / 2**64  # [0, 1), the same for the same key
        spread = 1 + self.jitter * (2 * unit - 1)
        return min(raw * spread, self.max_seconds)

    def next_attempt_at(
        self, attempt_no: int, now: datetime, key: str, *, retry_after: float | None = None
    ) -> datetime | None:
        """When to try again after attempt ``attempt_no`` failed, or None: give up. With the
        receiver's ``retry_after`` (seconds), not before it (capped).

        >>> RetryPolicy(jitter=0).next_attempt_at(1, datetime(2026, 12, 2, tzinfo=UTC), "ev-1",
        ...                                       retry_after=120).time()
        datetime.time(0, 2)
        """
        if attempt_no >= self.max_attempts:
            return None
        wait = self.delay_seconds(attempt_no, key)
        if retry_after is not None:
            wait = max(wait, min(max(retry_after, 0.0), self.max_retry_after_seconds))
        return _utc(now) + timedelta(seconds=wait)


__all__ = [
    "FORMATS",
    "KINDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Attempt",
    "Event",
    "RetryPolicy",
    "WebhookEndpoint",
    "deliver",
    "dingtalk_sign",
    "feishu_sign",
    "render",
    "retry_after",
    "sign_json",
    "verify_signature",
]
