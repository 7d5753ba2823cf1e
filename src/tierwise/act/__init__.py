"""Turning the classification into action (playbooks, tasks, exports, webhooks)."""

from tierwise.act._assign import assign, assign_dedicated
from tierwise.act._calendar import (
    HOLIDAY_KEYS,
    CareCap,
    CareRule,
    Holiday,
    QuietHours,
    care_events,
    holidays,
)
from tierwise.act._churn import churn_warnings, raise_warnings, win_back_results
from tierwise.act._complaints import complaint_queue, escalate, respond, track
from tierwise.act._digest import send_digests
from tierwise.act._export import neutralise, write_table
from tierwise.act._mail import DueItem, MailError, Owner, SmtpSettings, digest_message, send
from tierwise.act._outbox import (
    add_endpoint,
    deliver_due,
    delivery_log,
    enqueue,
    list_endpoints,
    remove_endpoint,
    test_endpoint,
)
from tierwise.act._pool import (
    caps_of,
    claim,
    give_owners,
    list_pool,
    load_of,
    release,
    set_caps,
)
from tierwise.act._recycle import recycle
from tierwise.act._schedule import (
    after_classification,
    after_import,
    after_snapshot,
    run_schedule,
)
from tierwise.act._targets import Range, target_list
from tierwise.act._tasks import (
    PlanResult,
    complete_task,
    generate,
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
from tierwise.act._work import list_tasks

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
    "add_endpoint",
    "after_classification",
    "after_import",
    "after_snapshot",
    "assign",
    "assign_dedicated",
    "caps_of",
    "care_events",
    "churn_warnings",
    "claim",
    "complaint_queue",
    "complete_task",
    "deliver",
    "deliver_due",
    "delivery_log",
    "digest_message",
    "enqueue",
    "escalate",
    "generate",
    "give_owners",
    "holidays",
    "list_endpoints",
    "list_pool",
    "list_tasks",
    "load_of",
    "neutralise",
    "plan",
    "raise_warnings",
    "recycle",
    "release",
    "remove_endpoint",
    "render",
    "replan",
    "respond",
    "run_schedule",
    "send",
    "send_digests",
    "set_caps",
    "skip_task",
    "snooze_task",
    "target_list",
    "test_endpoint",
    "track",
    "verify_signature",
    "win_back_results",
    "write_table",
]
