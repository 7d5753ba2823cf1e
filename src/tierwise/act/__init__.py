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
from tierwise.act._tasks import (
    PlanResult,
    complete_task,
    generate,
    list_tasks,
    plan,
    replan,
    skip_task,
    snooze_task,
)
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
    "PlanResult",
    "QuietHours",
    "Range",
    "RetryPolicy",
    "SmtpSettings",
    "WebhookEndpoint",
    "care_events",
    "complete_task",
    "deliver",
    "digest_message",
    "generate",
    "holidays",
    "list_tasks",
    "neutralise",
    "plan",
    "render",
    "replan",
    "send",
    "skip_task",
    "snooze_task",
    "target_list",
    "verify_signature",
    "write_table",
]
