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
    "Event",
    "Holiday",
    "QuietHours",
    "RetryPolicy",
    "WebhookEndpoint",
    "care_events",
    "deliver",
    "holidays",
    "neutralise",
    "render",
    "verify_signature",
    "write_table",
]
