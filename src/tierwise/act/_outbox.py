"""Webhook endpoints and the outbox: events queued in the changing transaction, delivered later.

An event is queued (one ``webhook_deliveries`` row per subscribed endpoint) in the same
transaction as the change it reports, so a rolled-back change sends nothing and a committed
one is never lost. `deliver_due` sends what is due through `tierwise.act._webhooks.deliver`,
outside any transaction (a slow receiver holds no lock), records every attempt in
``webhook_attempts`` and retries failures on `RetryPolicy`'s timetable until delivered or
given up (``dead``). Queuing the same event twice (same key) delivers it once.

Endpoint secrets are stored encrypted (`tierwise.act._secrets`) with a key derived from the
settings' secret key, and decrypted only to sign a request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import sqlalchemy as sa

from tierwise.access._principal import Principal
from tierwise.act._secrets import resolve_key, seal, seal_plain, unseal
from tierwise.act._sql import insert_ignore, inserted, json_object, naive_utc
from tierwise.act._text import MESSAGES, pick
from tierwise.act._webhooks import FORMATS, KINDS, Attempt, Event, RetryPolicy, WebhookEndpoint
from tierwise.act._webhooks import deliver as send_once
from tierwise.errors import ConfigError, DataError, NotFoundError
from tierwise.store import audit
from tierwise.store.tables import (
    customers,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)

#: a delivery being sent is leased for this long, so a second worker does not send it too
LEASE: Final = timedelta(minutes=5)

EVENT_TEXT: Final[dict[str, tuple[str, str]]] = {
    "event.tier_changed": (
        "{customer} 的分级由 {old} 变为 {new}",
        "{customer} moved from {old} to {new}",
    ),
    "event.churn_warning": (
        "{customer} 流失预警：{dimension} 由 {old} 变为 {new}",
        "{customer} churn warning: {dimension} went from {old} to {new}",
    ),
    "event.task_overdue": (
        "{customer} 的跟进任务已逾期（应于 {due} 完成）",
        "{customer}'s follow-up is overdue (due {due})",
    ),
    "event.sla_breached": (
        "{customer} 的投诉 {feedback} 超过 {hours} 小时未响应",
        "{customer}'s complaint {feedback} was not answered within {hours} hours",
    ),
}
MESSAGES.update(EVENT_TEXT)


def _check_endpoint(url: str, fmt: str, events: list[str] | None) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DataError(
            f'Webhook URL "{url[:200]}" must start with http:// or https:// and name a host.',
            key="err.webhook_url", url=url[:200],
        )  # fmt: skip
    if fmt not in FORMATS:
        raise DataError(f"Webhook format {fmt!r} is not one of {', '.join(FORMATS)}.",
                        key="err.webhook_format", format=fmt)  # fmt: skip
    unknown = sorted(set(events or []) - set(KINDS))
    if unknown:
        raise DataError(
            f"Unknown webhook event(s) {', '.join(unknown)}; use {', '.join(KINDS)}.",
            key="err.webhook_event", events=", ".join(unknown),
        )  # fmt: skip


def add_endpoint(
    conn: sa.Connection,
    *,
    principal: Principal,
    url: str,
    format: str = "json",
    events: list[str] | None = None,
    secret: str | None = None,
    lang: str = "zh",
    secret_key: str | None = None,
) -> dict[str, Any]:
    """Register a receiver (administrators). ``events`` None: every event. ``secret`` is
    stored encrypted with ``secret_key`` (default: the settings' secret key)."""
    principal.require("admin")
    _check_endpoint(url, format, events)
    if lang not in ("zh", "en"):
        raise DataError(f"Webhook language {lang!r} must be zh or en.")
    stored = None
    if secret:
        key = resolve_key(secret_key)
        if key is None:
            raise ConfigError(
                "A webhook secret is stored encrypted with the secret key, and none is set: "
                "set TIERWISE_SECRET_KEY or run `tierwise init`.",
                key="err.webhook_secret_key",
            )
        stored = seal(secret, secret_key=key)
    endpoint_id = conn.scalar(
        webhook_endpoints.insert()
        .values(url=url, format=format, events=events, secret=stored, lang=lang,
                is_active=True, created_at=naive_utc(datetime.now(UTC)),
                created_by=principal.username)
        .returning(webhook_endpoints.c.id)
    )  # fmt: skip
    assert endpoint_id is not None
    audit.record(
        conn, actor=principal.username, actor_id=principal.user_id, action="webhook.add",
        entity="webhook", entity_id=int(endpoint_id),
        after={"url": _safe_url(url), "format": format, "events": events},
    )  # fmt: skip
    return {"id": int(endpoint_id), "url": _safe_url(url), "format": format, "events": events}


def _safe_url(url: str) -> str:
    """The URL without its query: bot URLs carry their secret there (access_token, key)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")


def list_endpoints(conn: sa.Connection, *, principal: Principal) -> list[dict[str, Any]]:
    principal.require("admin")
    rows = conn.execute(sa.select(webhook_endpoints).order_by(webhook_endpoints.c.id)).mappings()
    return [
        {"id": r["id"], "url": _safe_url(r["url"]), "format": r["format"], "events": r["events"],
         "active": r["is_active"], "signed": r["secret"] is not None, "lang": r["lang"]}
        for r in rows
    ]  # fmt: skip


def remove_endpoint(conn: sa.Connection, *, principal: Principal, endpoint_id: int) -> None:
    principal.require("admin")
    done = conn.execute(
        webhook_endpoints.update()
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(is_active=False)
    )
    if not done.rowcount:
        raise NotFoundError(f"Webhook {endpoint_id} does not exist.")
    audit.record(conn, actor=principal.username, actor_id=principal.user_id,
                 action="webhook.remove", entity="webhook", entity_id=endpoint_id)  # fmt: skip


def _subscribed(conn: sa.Connection, kind: str) -> list[int]:
    rows = conn.execute(
        sa.select(webhook_endpoints.c.id, webhook_endpoints.c.events).where(
            webhook_endpoints.c.is_active.is_(True)
        )
    )
    return [int(r.id) for r in rows if r.events is None or kind in r.events]


def enqueue(
    conn: sa.Connection,
    *,
    kind: str,
    key: str,
    customer_id: str,
    customer_name: str,
    summary_key: str,
    params: dict[str, Any],
    now: datetime,
) -> int:
    """Queue one event for every endpoint subscribed to ``kind``; returns rows queued."""
    now = naive_utc(now)
    payload = {"customer_id": customer_id, "customer_name": customer_name,
               "summary_key": summary_key, "params": params, "occurred_at": now.isoformat()}  # fmt: skip
    made = 0
    for endpoint_id in _subscribed(conn, kind):
        made += (
            conn.execute(
                insert_ignore(conn, webhook_deliveries)
                .values(endpoint_id=endpoint_id, event=kind, event_key=key, payload=payload,
                        status="pending", attempt_no=0, next_attempt_at=now, created_at=now)
                .returning(webhook_deliveries.c.id)
            ).scalar()
            is not None
        )  # fmt: skip
    return made


def enqueue_select(conn: sa.Connection, *, kind: str, select: sa.Select[Any], now: datetime) -> int:
    """Queue many events at once: ``select`` yields (event_key, payload JSON) rows."""
    now = naive_utc(now)
    made = 0
    for endpoint_id in _subscribed(conn, kind):
        sub = select.subquery("events")
        rows = sa.select(
            sa.literal(endpoint_id), sa.literal(kind), sub.c.event_key, sub.c.payload,
            sa.literal("pending"), sa.literal(0),
            sa.literal(now, webhook_deliveries.c.next_attempt_at.type),
            sa.literal(now, webhook_deliveries.c.created_at.type),
        ).where(sa.true())  # fmt: skip
        columns = ["endpoint_id", "event", "event_key", "payload", "status", "attempt_no",
                   "next_attempt_at", "created_at"]  # fmt: skip
        made += inserted(
            conn, insert_ignore(conn, webhook_deliveries).from_select(columns, rows),
            key=webhook_deliveries.c.id,
        )  # fmt: skip
    return made


def enqueue_rows(
    conn: sa.Connection, *, kind: str, rows: list[tuple[str, dict[str, Any]]], now: datetime
) -> int:
    """Queue many events built in Python: ``rows`` of (event_key, payload), payloads shaped
    like `event_rows`' (message parameters at the top level). Chunked multi-row inserts."""
    now = naive_utc(now)
    made = 0
    wd = webhook_deliveries
    for endpoint_id in _subscribed(conn, kind) if rows else []:
        values = [{"endpoint_id": endpoint_id, "event": kind, "event_key": key, "payload": payload,
                   "status": "pending", "attempt_no": 0, "next_attempt_at": now, "created_at": now}
                  for key, payload in rows]  # fmt: skip
        for i in range(0, len(values), 500):
            statement = insert_ignore(conn, wd).values(values[i : i + 500]).returning(wd.c.id)
            made += len(conn.execute(statement).all())
    return made


def event_rows(
    conn: sa.Connection,
    *,
    key: sa.ColumnElement[str],
    summary_key: str,
    now: datetime,
    **params: Any,
) -> sa.Select[Any]:
    """(event_key, payload) rows about customers for `enqueue_select`; add the ``where`` (and
    the join to ``customers``) to choose them."""
    payload = json_object(
        conn,
        customer_id=customers.c.customer_id,
        customer_name=sa.func.coalesce(customers.c.name, customers.c.customer_id),
        summary_key=summary_key,
        occurred_at=naive_utc(now).isoformat(),
        **params,
    )
    return sa.select(key.label("event_key"), payload.label("payload"))


def _event(row: sa.RowMapping) -> Event:
    payload = dict(row["payload"] or {})
    # set-based producers put the message parameters at the top level of the payload
    top = {k: v for k, v in payload.items() if k not in ("summary_key", "params", "occurred_at")}
    params = top | dict(payload.get("params") or {})
    params.setdefault("customer", payload.get("customer_name") or payload.get("customer_id"))
    words = dict(params)
    reasons = params.get("reasons")
    if isinstance(reasons, dict):  # {"zh": [...], "en": [...]}, said in each summary
        words["reasons_zh"] = "；".join(str(r) for r in reasons.get("zh") or [])
        words["reasons_en"] = "; ".join(str(r) for r in reasons.get("en") or [])
    pair = EVENT_TEXT.get(str(payload.get("summary_key")), ("{customer}", "{customer}"))
    try:
        zh, en = pick(pair, "zh").format(**words), pick(pair, "en").format(**words)
    except (KeyError, IndexError):
        zh, en = pair
    occurred = payload.get("occurred_at")
    at = datetime.fromisoformat(occurred) if occurred else row["created_at"]
    return Event(
        id=row["event_key"],
        kind=row["event"],
        occurred_at=at.replace(tzinfo=UTC) if at.tzinfo is None else at,
        customer_id=str(payload.get("customer_id") or ""),
        customer_name=str(payload.get("customer_name") or ""),
        summary_zh=zh,
        summary_en=en,
        details=params,
    )


def deliver_due(
    engine: sa.Engine,
    *,
    now: datetime,
    client: Any = None,
    policy: RetryPolicy | None = None,
    limit: int = 100,
    secret_key: str | None = None,
) -> dict[str, int]:
    """Send the deliveries that are due; every attempt is logged, failures are retried with
    backoff (not before a receiver's ``Retry-After``) and given up (``dead``) after the
    policy's last attempt or a non-retryable answer. Secrets are decrypted with
    ``secret_key`` (default: the settings' secret key); plain ones left from before are
    encrypted on the way."""
    now = naive_utc(now)
    policy = policy or RetryPolicy()
    key = resolve_key(secret_key)
    wd, we = webhook_deliveries, webhook_endpoints
    with engine.begin() as conn:
        if key is not None:
            seal_plain(conn, secret_key=key)
        due = conn.execute(
            sa.select(wd, we.c.url, we.c.format, we.c.secret, we.c.lang)
            .join(we, we.c.id == wd.c.endpoint_id)
            .where(wd.c.status == "pending", wd.c.next_attempt_at <= now, we.c.is_active.is_(True))
            .order_by(wd.c.next_attempt_at, wd.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=wd)
        ).mappings().all()  # fmt: skip
        if due:
            conn.execute(
                wd.update()
                .where(wd.c.id.in_([r["id"] for r in due]))
                .values(next_attempt_at=now + LEASE)
            )
    counts = {"delivered": 0, "retrying": 0, "dead": 0}
    for row in due:
        try:
            secret = None if row["secret"] is None else unseal(row["secret"], secret_key=key)
        except ConfigError as exc:
            # retried on the timetable: restoring the key makes the next attempt work
            attempt = Attempt(ok=False, status_code=None, duration_ms=0, error=str(exc),
                              error_zh=str(exc), retryable=True, attempted_at=now)  # fmt: skip
        else:
            endpoint = WebhookEndpoint(url=row["url"], format=row["format"], secret=secret,
                                       lang=row["lang"] if row["lang"] in ("zh", "en") else "zh")  # fmt: skip
            attempt = send_once(endpoint, _event(row), client=client, now=now.replace(tzinfo=UTC))
        counts[_record(engine, row=row, attempt=attempt, now=now, policy=policy)] += 1
    return counts


def _record(
    engine: sa.Engine, *, row: sa.RowMapping, attempt: Attempt, now: datetime, policy: RetryPolicy
) -> str:
    number = int(row["attempt_no"]) + 1
    if attempt.ok:
        status, next_at = "delivered", None
    else:
        retry = policy.next_attempt_at(number, now.replace(tzinfo=UTC), row["event_key"],
                                       retry_after=attempt.retry_after_seconds)  # fmt: skip
        next_at = naive_utc(retry) if retry is not None and attempt.retryable else None
        status = "pending" if next_at is not None else "dead"
    with engine.begin() as conn:
        conn.execute(
            webhook_attempts.insert().values(
                delivery_id=row["id"], attempt_no=number, at=now,
                response_code=attempt.status_code, error=attempt.error,
                duration_ms=float(attempt.duration_ms),
            )
        )  # fmt: skip
        conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == row["id"])
            .values(status=status, attempt_no=number, next_attempt_at=next_at,
                    last_error=attempt.error, response_code=attempt.status_code,
                    delivered_at=now if attempt.ok else None)
        )  # fmt: skip
    return "retrying" if status == "pending" else status


def delivery_log(
    conn: sa.Connection, *, principal: Principal, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest deliveries with their state, attempts and last error (administrators)."""
    principal.require("admin")
    wd = webhook_deliveries
    rows = conn.execute(sa.select(wd).order_by(wd.c.id.desc()).limit(limit)).mappings()
    return [
        {"id": r["id"], "endpoint_id": r["endpoint_id"], "event": r["event"],
         "key": r["event_key"], "status": r["status"], "attempts": r["attempt_no"],
         "next_attempt_at": r["next_attempt_at"], "response_code": r["response_code"],
         "last_error": r["last_error"], "delivered_at": r["delivered_at"]}
        for r in rows
    ]  # fmt: skip


def test_endpoint(
    url: str,
    *,
    format: str = "json",
    secret: str | None = None,
    lang: str = "zh",
    client: Any = None,
    now: datetime | None = None,
) -> Attempt:
    """Send one sample event to ``url`` now (``tierwise webhooks test``); nothing is stored."""
    _check_endpoint(url, format, None)
    at = now or datetime.now(UTC)
    event = Event(
        id=f"test:{at:%Y%m%d%H%M%S}", kind="tier_changed", occurred_at=at,
        customer_id="TEST-001", customer_name="测试客户 Test customer",
        summary_zh="测试消息：测试客户 的分级由 B 变为 A",
        summary_en="Test message: Test customer moved from B to A",
        details={"from": "B", "to": "A", "test": True},
    )  # fmt: skip
    endpoint = WebhookEndpoint(url=url, format=format, secret=secret,  # type: ignore[arg-type]
                               lang="en" if lang == "en" else "zh")  # fmt: skip
    return send_once(endpoint, event, client=client, now=at)


test_endpoint.__test__ = False  # type: ignore[attr-defined]  # not a pytest test

__all__ = [
    "add_endpoint",
    "deliver_due",
    "delivery_log",
    "enqueue",
    "enqueue_rows",
    "enqueue_select",
    "event_rows",
    "list_endpoints",
    "remove_endpoint",
    "test_endpoint",
]
