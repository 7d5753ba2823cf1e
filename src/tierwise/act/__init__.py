"""Turning the classification into action (playbooks, tasks, exports, webhooks)."""

from tierwise.act._calendar import (
    HOLIDAY_KEYS,
    CareCap,
    CareRule,
    Holiday,
    QuietHours,
    care_events,
    holidays,
)
from tierwise.act._export import neutralise, write_table
from tierwise.act._mail import DueItem, MailError, Owner, SmtpSettings, digest_message, send
from tierwise.act._targets import Range, target_list
from tierwise.act._webhooks import (
    Attempt,
    Event,
    RetryPolicy,
    WebhookEndpoint,
    deliver,
    render,
    verify_signature,
)

__all__ = [
    "HOLIDAY_KEYS",
    "Attempt",
    "CareCap",
    "CareRule",
    "DueItem",
    "Event",
    "Holiday",
    "MailError",
    "Owner",
    "QuietHours",
    "Range",
    "RetryPolicy",
    "SmtpSettings",
    "WebhookEndpoint",
    "care_events",
    "deliver",
    "digest_message",
    "holidays",
    "neutralise",
    "render",
    "send",
    "target_list",
    "verify_signature",
    "write_table",
]
