"""Email digests of due and overdue follow-ups, sent over SMTP (stdlib only).

A digest is one message per owner: a plain-text part (what every client shows) and a simple
HTML alternative. Everything taken from customer data is escaped in the HTML part, since a
customer name is user input like any other.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from html import escape
from typing import Literal

from tierwise.errors import ConfigError, TierwiseError

Lang = Literal["zh", "en"]
Security = Literal["starttls", "ssl", "none"]


class MailError(TierwiseError):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where digests go out. ``security``: ``starttls`` (port 587), ``ssl`` (implicit TLS,
    port 465) or ``none`` (a relay on localhost only: a password is never sent in clear)."""

    host: str
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = "tierwise@localhost"
    timeout: float = 10.0


@dataclass(frozen=True)
class Owner:
    """A digest's recipient: a rep or manager."""

    name: str
    email: str


@dataclass(frozen=True)
class DueItem:
    """One follow-up in a digest; ``reason_en`` falls back to ``reason_zh`` when empty."""

    customer_id: str
    customer_name: str
    tier: str
    due: date
    reason_zh: str
    reason_en: str = ""

    def reason(self, lang: Lang) -> str:
        return self.reason_zh if lang == "zh" or not self.reason_en else self.reason_en


_TEXT = {
    "zh": {
        "subject": "【Tierwise】待办跟进 {n} 项（逾期 {late} 项）",
        "hello": "{name}，您好：",
        "intro": "截至 {today}，以下客户需要跟进：",
        "overdue": "已逾期",
        "due": "待跟进",
        "head": ("状态", "客户", "分级", "到期日", "原因"),
        "none": "今天没有需要跟进的客户。",
        "footer": "此邮件由 Tierwise 自动发送。",
    },
    "en": {
        "subject": "Tierwise: {n} follow-up(s) due ({late} overdue)",
        "hello": "Hello {name},",
        "intro": "As of {today}, these customers need a follow-up:",
        "overdue": "Overdue",
        "due": "Due",
        "head": ("Status", "Customer", "Tier", "Due", "Reason"),
        "none": "No follow-ups are due today.",
        "footer": "Sent automatically by Tierwise.",
    },
}


def digest_message(
    owner: Owner,
    items: Sequence[DueItem],
    lang: Lang = "zh",
    *,
    sender: str = "tierwise@localhost",
    today: date | None = None,
) -> EmailMessage:
    """The digest for ``owner``: overdue items first, then by due date and customer.

    >>> msg = digest_message(Owner("Li Lei", "li@example.com"),
    ...     [DueItem("C1", "Acme", "A", date(2026, 12, 1), "月度拜访", "Monthly visit")],
    ...     "en", today=date(2026, 12, 2))
    >>> msg["Subject"]
    'Tierwise: 1 follow-up(s) due (1 overdue)'
    """
    if lang not in _TEXT:
        raise ConfigError(f'Language "{lang}" is not supported: use "zh" or "en".')
    text = _TEXT[lang]
    today = today or date.today()
    rows = sorted(items, key=lambda i: (i.due >= today, i.due, i.customer_id))
    late = sum(1 for i in rows if i.due < today)
    table = [
        (
            str(text["overdue"] if i.due < today else text["due"]),
            f"{i.customer_name} ({i.customer_id})",
            i.tier,
            i.due.isoformat(),
            i.reason(lang),
        )
        for i in rows
    ]
    hello = str(text["hello"]).format(name=owner.name)
    intro = str(text["intro"]).format(today=today.isoformat())
    plain = [hello, "", intro if rows else str(text["none"]), ""]
    plain += [" | ".join(r) for r in ([tuple(text["head"])] if rows else []) + table]
    plain += ["", str(text["footer"])]

    cells = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in table)
    head = "".join(f"<th align='left'>{escape(h)}</th>" for h in text["head"])
    html = (
        f"<html><body><p>{escape(hello)}</p>"
        + (
            f"<p>{escape(intro)}</p><table border='1' cellpadding='4' cellspacing='0'>"
            f"<thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
            if rows
            else f"<p>{escape(str(text['none']))}</p>"
        )
        + f"<p><small>{escape(str(text['footer']))}</small></p></body></html>"
    )

    msg = EmailMessage()
    msg["Subject"] = str(text["subject"]).format(n=len(rows), late=late)
    msg["From"] = sender
    msg["To"] = formataddr((owner.name, owner.email))
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content("\n".join(plain))
    msg.add_alternative(html, subtype="html")
    return msg


_LOCAL = {"localhost", "127.0.0.1", "::1"}


def send(message: EmailMessage, settings: SmtpSettings) -> None:
    """Send ``message`` through ``settings``; raises `MailError` naming ``host:port``.

    >>> send(digest_message(Owner("Li", "li@example.com"), [], "en"),
    ...      SmtpSettings("smtp.example.com"))  # doctest: +SKIP
    """
    where = f"{settings.host}:{settings.port}"
    if settings.security == "none" and settings.user and settings.host not in _LOCAL:
        raise ConfigError(
            f"SMTP {where} without TLS would send the password in clear: use security "
            '"starttls" or "ssl".',
            key="mail.cleartext_password",
            where=where,
        )
    if "From" not in message:
        message["From"] = settings.sender
    try:
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout,
                context=ssl.create_default_context(),
            )  # fmt: skip
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        reason = f"{type(exc).__name__}: {exc}".strip()
        raise MailError(
            f"Could not send the email to {message['To']} through {where} ({reason}). "
            "Check the SMTP host, port, security and credentials.",
            key="mail.send_failed",
            where=where,
            reason=reason,
        ) from exc


__all__ = ["DueItem", "MailError", "Owner", "SmtpSettings", "digest_message", "send"]
