"""The daily email digest: each person with due or overdue work gets one message a day.

`send_digests` runs from the schedule when SMTP is configured (``TIERWISE_SMTP_HOST``). For
every active user with an email address and open tasks due by the end of the UTC day, it
claims that user's ``digest_sends`` row for the day (unique per user and day, so two schedule
runs at once send one message), sends `tierwise.act._mail.digest_message` outside any
transaction (a slow mail server holds no lock), and marks the row sent, or failed with the
reason, to be tried again by a later run (at most `MAX_ATTEMPTS` a day). A claim left by a
process that died while sending is taken over after `LEASE`. Every digest sent writes an audit
entry: it carries customer names out of the system.

Users have no language of their own in the store: the digest is in the settings' language
(``TIERWISE_LANGUAGE``, zh by default), with the reasons in both languages kept in the tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from tierwise.act._mail import DueItem, Lang, MailError, Owner, SmtpSettings, digest_message, send
from tierwise.act._playbooks import ActiveBooks, active_playbooks, tier_column
from tierwise.act._sql import insert_ignore, naive_utc
from tierwise.act._tasks import OPEN
from tierwise.act._text import say
from tierwise.errors import ConfigError
from tierwise.store import audit
from tierwise.store.tables import customers, digest_sends, tasks, users

#: tries per user and day before the day is given up
MAX_ATTEMPTS: Final = 3
#: a claim still "sending" after this long belongs to a process that died: taken over
LEASE: Final = timedelta(minutes=15)
#: items in one digest (the most urgent first); more is a list to work through in the app
MAX_ITEMS: Final = 200
SYSTEM: Final = "system"


@dataclass(frozen=True)
class _Claim:
    user_id: int
    username: str
    owner: Owner
    items: list[DueItem]


def _claim(conn: sa.Connection, *, user_id: int, day: Any, now: datetime) -> bool:
    """Take this user's digest of ``day``: a new row, a failed one to retry, or a stale claim."""
    ds = digest_sends
    fresh = conn.execute(
        insert_ignore(conn, ds)
        .values(user_id=user_id, day=day, status="sending", attempts=1, claimed_at=now)
        .returning(ds.c.id)
    ).scalar()
    if fresh is not None:
        return True
    retry = conn.execute(
        ds.update()
        .where(
            ds.c.user_id == user_id,
            ds.c.day == day,
            ds.c.attempts < MAX_ATTEMPTS,
            sa.or_(
                ds.c.status == "failed",
                sa.and_(ds.c.status == "sending", ds.c.claimed_at < now - LEASE),
            ),
        )
        .values(status="sending", attempts=ds.c.attempts + 1, claimed_at=now, error=None)
    )
    return retry.rowcount == 1


def _items(
    conn: sa.Connection, *, user_id: int, end: datetime, books: ActiveBooks | None
) -> list[DueItem]:
    """The user's open tasks due before ``end``, oldest first, with why in zh and en."""
    current = tier_column(books, tasks.c.customer_pk) if books else sa.null()
    rows = conn.execute(
        sa.select(
            tasks.c.due_at, tasks.c.reason_key, tasks.c.reason_params,
            sa.func.coalesce(current, tasks.c.playbook_tier).label("tier"),
            customers.c.customer_id, customers.c.name,
        )
        .join(customers, customers.c.id == tasks.c.customer_pk)
        .where(tasks.c.user_id == user_id, tasks.c.status.in_(OPEN), tasks.c.due_at < end)
        .order_by(tasks.c.due_at, tasks.c.id)
        .limit(MAX_ITEMS)
    ).all()  # fmt: skip
    out = []
    for r in rows:
        params = dict(r.reason_params or {})
        if "detail_key" in params:  # a tier-change notice: its detail is a message of its own
            params["detail"] = {"key": params.pop("detail_key"), "params": dict(params)}
        out.append(
            DueItem(
                customer_id=r.customer_id,
                customer_name=r.name or r.customer_id,
                tier=str(r.tier or "-"),
                due=r.due_at.date(),
                reason_zh=say(r.reason_key, "zh", params),
                reason_en=say(r.reason_key, "en", params),
            )
        )
    return out


def send_digests(
    engine: sa.Engine, *, now: datetime, smtp: SmtpSettings, lang: str = "zh"
) -> dict[str, int]:
    """Email every user with due or overdue work their digest, once per UTC day.

    Returns counts: ``sent``, ``failed`` (tried again by a later run), ``already`` (sent or
    being sent today), ``no_email`` (work due but no address to send it to)."""
    now = naive_utc(now)
    if lang not in ("zh", "en"):
        raise ConfigError(f'Digest language "{lang}" is not supported: use "zh" or "en".')
    language: Lang = "en" if lang == "en" else "zh"
    day = now.date()
    end = datetime(day.year, day.month, day.day) + timedelta(days=1)
    due = sa.exists().where(
        tasks.c.user_id == users.c.id, tasks.c.status.in_(OPEN), tasks.c.due_at < end
    )
    counts = {"sent": 0, "failed": 0, "already": 0, "no_email": 0}
    claims: list[_Claim] = []
    with engine.begin() as conn:
        books = active_playbooks(conn)
        people = conn.execute(
            sa.select(users.c.id, users.c.username, users.c.display_name, users.c.email)
            .where(users.c.is_active.is_(True), due)
            .order_by(users.c.id)
        ).all()
        for p in people:
            email = (p.email or "").strip()
            if "@" not in email:
                counts["no_email"] += 1
                continue
            if not _claim(conn, user_id=int(p.id), day=day, now=now):
                counts["already"] += 1
                continue
            owner = Owner(name=p.display_name or p.username, email=email)
            claims.append(
                _Claim(
                    int(p.id),
                    p.username,
                    owner,
                    _items(conn, user_id=int(p.id), end=end, books=books),
                )
            )
    for claim in claims:
        message = digest_message(claim.owner, claim.items, language, sender=smtp.sender, today=day)
        try:
            send(message, smtp)
        except (MailError, ConfigError) as exc:
            _finish(engine, claim, day=day, now=now, error=str(exc))
            counts["failed"] += 1
        else:
            _finish(engine, claim, day=day, now=now, error=None)
            counts["sent"] += 1
    return counts


def _finish(
    engine: sa.Engine, claim: _Claim, *, day: Any, now: datetime, error: str | None
) -> None:
    ds = digest_sends
    with engine.begin() as conn:
        conn.execute(
            ds.update()
            .where(ds.c.user_id == claim.user_id, ds.c.day == day)
            .values(status="failed" if error else "sent", error=error,
                    item_count=len(claim.items), sent_at=None if error else now)
        )  # fmt: skip
        if error is None:
            audit.record(
                conn, actor=SYSTEM, action="mail.digest", entity="user",
                entity_id=str(claim.user_id),
                after={"to": claim.owner.email, "items": len(claim.items), "day": day},
            )  # fmt: skip


__all__ = ["LEASE", "MAX_ATTEMPTS", "MAX_ITEMS", "send_digests"]
