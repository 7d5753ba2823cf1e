"""Email digests received by a local SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tierwise.act import DueItem, MailError, Owner, SmtpSettings, digest_message, send
from tierwise.errors import ConfigError

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
