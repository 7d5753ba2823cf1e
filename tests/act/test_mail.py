"""Email digests received by a local SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from act_world import NOW, World, count
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tierwise.act import (
    DueItem,
    MailError,
    Owner,
    SmtpSettings,
    digest_message,
    run_schedule,
    send,
)
from tierwise.act._digest import LEASE
from tierwise.errors import ConfigError
from tierwise.settings import Settings, load_settings
from tierwise.store.tables import audit_log, digest_sends, users

TODAY = date(2026, 12, 2)
ITEMS = [
    DueItem("C2", "杭州云帆", "B", date(2026, 12, 5), "双周电话回访", "Fortnightly call"),
    DueItem("C1", "<b>Acme</b> & Co", "A", date(2026, 11, 30), "月度拜访", "Monthly visit"),
]


@dataclass
class Inbox:
    port: int
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"rep", b"pw")
    # handled=False: aiosmtpd answers the failure with 535 (its default, True, answers nothing)
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(port=_free_port())
    controller = Controller(
        box, hostname="127.0.0.1", port=box.port,
        authenticator=_authenticate, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    yield box
    controller.stop()


def _local(port: int, **kw: Any) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", port, security="none", sender="tierwise@shop.example", **kw)


def test_a_chinese_digest_is_received_with_subject_recipient_and_body(inbox: Inbox) -> None:
    msg = digest_message(
        Owner("王芳", "wang@shop.example"), ITEMS, "zh", sender="tierwise@shop.example", today=TODAY
    )
    send(msg, _local(inbox.port))
    [(mail_from, rcpt, got)] = inbox.received
    assert (mail_from, rcpt) == ("tierwise@shop.example", ["wang@shop.example"])
    assert got["Subject"] == "【Tierwise】待办跟进 2 项（逾期 1 项）"
    plain = got.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "王芳，您好：" in text and "截至 2026-12-02" in text
    lines = text.splitlines()
    first = lines.index("状态 | 客户 | 分级 | 到期日 | 原因")
    # overdue first
    assert lines[first + 1] == "已逾期 | <b>Acme</b> & Co (C1) | A | 2026-11-30 | 月度拜访"
    assert lines[first + 2] == "待跟进 | 杭州云帆 (C2) | B | 2026-12-05 | 双周电话回访"


def test_an_english_digest_with_login_and_an_escaped_html_part(inbox: Inbox) -> None:
    msg = digest_message(Owner("Li Lei", "li@shop.example"), ITEMS, "en", today=TODAY)
    send(msg, _local(inbox.port, user="rep", password="pw"))
    [(_, rcpt, got)] = inbox.received
    assert rcpt == ["li@shop.example"]
    assert got["Subject"] == "Tierwise: 2 follow-up(s) due (1 overdue)"
    assert got["To"] == "Li Lei <li@shop.example>"
    plain, html = got.get_body(("plain",)), got.get_body(("html",))
    assert plain is not None and html is not None
    assert "Overdue | <b>Acme</b> & Co (C1) | A | 2026-11-30 | Monthly visit" in plain.get_content()
    page = html.get_content()
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; Co (C1)" in page and "<b>Acme" not in page
    assert "<th align='left'>Reason</th>" in page


def test_an_empty_digest_says_so_in_both_languages() -> None:
    for lang, words in (("zh", "今天没有需要跟进的客户。"), ("en", "No follow-ups are due today.")):
        msg = digest_message(Owner("A", "a@x.example"), [], lang, today=TODAY)  # type: ignore[arg-type]
        body = msg.get_body(("plain",))
        assert body is not None and words in body.get_content()


def test_send_failures_name_the_server(inbox: Inbox) -> None:
    msg = digest_message(Owner("Li", "li@shop.example"), ITEMS, "en", today=TODAY)
    with pytest.raises(
        MailError, match=rf"through 127\.0\.0\.1:{inbox.port} .*SMTPAuthenticationError"
    ):
        send(msg, _local(inbox.port, user="rep", password="wrong"))
    port = _free_port()
    with pytest.raises(
        MailError, match=rf"through 127\.0\.0\.1:{port} .*ConnectionRefusedError"
    ) as info:
        send(msg, _local(port))
    assert info.value.key == "mail.send_failed"
    assert inbox.received == []


def test_a_password_is_never_sent_in_clear_to_a_remote_server() -> None:
    msg = digest_message(Owner("Li", "li@shop.example"), [], "en", today=TODAY)
    remote = SmtpSettings("smtp.shop.example", 25, security="none", user="rep", password="pw")
    with pytest.raises(ConfigError, match=re.escape("smtp.shop.example:25 without TLS")):
        send(msg, remote)


# --- digests from the schedule --------------------------------------------------------------


def _due_work(world: World) -> None:
    """li (with an address) and zhao (without) have follow-ups due; wang has nothing."""
    with world.engine.begin() as conn:
        for cid, rep, day in (("B1", "li", 1), ("B2", "li", 18), ("Z1", "zhao", 1)):
            world.customer(conn, cid)
            world.own(conn, cid, rep)
            world.contact(conn, cid, datetime(2026, 11, day, 9, 0))  # B2: due today
        world.customer(conn, "A1")
        world.own(conn, "A1", "li")
        world.contact(conn, "A1", datetime(2026, 11, 30, 9, 0), "visit")  # due next month
        for name in ("li", "wang"):
            conn.execute(users.update().where(users.c.username == name)
                         .values(email=f"{name}@shop.example", display_name=name.title()))  # fmt: skip
        world.classify(conn, {"B1": "B", "B2": "B", "Z1": "B", "A1": "A"})


def test_the_schedule_mails_each_rep_one_digest_a_day(world: World, inbox: Inbox) -> None:
    _due_work(world)
    smtp = _local(inbox.port)
    first = run_schedule(world.engine, now=NOW, deliver=False, smtp=smtp, lang="en")
    assert first["digests"] == {"sent": 1, "failed": 0, "already": 0, "no_email": 1}
    [(_, rcpt, got)] = inbox.received
    assert rcpt == ["li@shop.example"] and got["To"] == "Li <li@shop.example>"
    assert got["Subject"] == "Tierwise: 2 follow-up(s) due (1 overdue)"
    plain = got.get_body(("plain",))
    assert plain is not None
    lines = plain.get_content().splitlines()
    assert "Overdue | Name B1 (B1) | B | 2026-11-15 | B: call every 14 days; last contact " \
        "2026-11-01" in lines  # fmt: skip
    assert not any("A1" in line for line in lines)  # not due yet
    # later the same day: nothing more; the next day: the next digest, in Chinese this time
    later = run_schedule(world.engine, now=NOW + timedelta(hours=5), deliver=False, smtp=smtp)
    assert later["digests"] == {"sent": 0, "failed": 0, "already": 1, "no_email": 1}
    assert len(inbox.received) == 1
    run_schedule(world.engine, now=NOW + timedelta(days=1), deliver=False, smtp=smtp)
    assert len(inbox.received) == 2
    assert inbox.received[1][2]["Subject"] == "【Tierwise】待办跟进 2 项（逾期 2 项）"
    with world.engine.connect() as conn:
        sent = conn.execute(sa.select(digest_sends.c.day, digest_sends.c.status,
                                      digest_sends.c.item_count).order_by(digest_sends.c.day)).all()  # fmt: skip
        audited = count(conn, audit_log, audit_log.c.action == "mail.digest")
    assert [tuple(r) for r in sent] == [(TODAY, "sent", 2), (date(2026, 12, 3), "sent", 2)]
    assert audited == 2
    # without SMTP settings the schedule sends nothing and says nothing about digests
    assert "digests" not in run_schedule(world.engine, now=NOW, deliver=False)


def test_a_failed_digest_is_retried_by_the_next_run(world: World, inbox: Inbox) -> None:
    _due_work(world)
    down = _local(_free_port())
    failed = run_schedule(world.engine, now=NOW, deliver=False, smtp=down)
    assert failed["digests"]["failed"] == 1
    with world.engine.connect() as conn:
        row = conn.execute(sa.select(digest_sends)).mappings().one()
    assert row["status"] == "failed" and "ConnectionRefusedError" in row["error"]
    assert row["attempts"] == 1
    retried = run_schedule(world.engine, now=NOW + timedelta(minutes=5), deliver=False,
                           smtp=_local(inbox.port))  # fmt: skip
    assert retried["digests"]["sent"] == 1 and len(inbox.received) == 1
    with world.engine.connect() as conn:
        row = conn.execute(sa.select(digest_sends)).mappings().one()
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 2, None)


def test_a_claim_left_by_a_dead_run_is_taken_over_after_the_lease(
    world: World, inbox: Inbox
) -> None:
    _due_work(world)
    with world.engine.begin() as conn:
        conn.execute(digest_sends.insert().values(user_id=world.user("li").user_id, day=TODAY,
                                                  status="sending", attempts=1, claimed_at=NOW))  # fmt: skip
    smtp = _local(inbox.port)
    assert run_schedule(world.engine, now=NOW, deliver=False, smtp=smtp)["digests"]["already"] == 1
    later = NOW + LEASE + timedelta(seconds=1)
    assert run_schedule(world.engine, now=later, deliver=False, smtp=smtp)["digests"]["sent"] == 1


def test_smtp_settings_come_from_tierwise_smtp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"HOST": "smtp.shop.example", "USER": "rep", "PASSWORD": "pw",
                        "FROM": "crm@shop.example", "SSL": "true"}.items():  # fmt: skip
        monkeypatch.setenv(f"TIERWISE_SMTP_{name}", value)
    settings = Settings(mode="dev")
    assert "pw" not in repr(settings) and "pw" not in str(settings.model_dump())
    assert settings.smtp() == SmtpSettings("smtp.shop.example", 465, "ssl", "rep", "pw",
                                           "crm@shop.example")  # fmt: skip
    monkeypatch.setenv("TIERWISE_SMTP_SSL", "false")
    monkeypatch.setenv("TIERWISE_SMTP_PORT", "2525")
    assert Settings(mode="dev").smtp() == SmtpSettings(
        "smtp.shop.example", 2525, "starttls", "rep", "pw", "crm@shop.example"
    )
    monkeypatch.setenv("TIERWISE_SMTP_STARTTLS", "false")
    assert Settings(mode="dev").smtp().security == "none"  # type: ignore[union-attr]
    monkeypatch.delenv("TIERWISE_SMTP_HOST")
    assert Settings(mode="dev").smtp() is None
    with pytest.raises(ConfigError, match="TIERWISE_SMTP_FROM 'crm' is not an email address"):
        load_settings(mode="dev", smtp_from="crm")
