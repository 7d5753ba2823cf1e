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

__all__ = [
    "HOLIDAY_KEYS",
    "CareCap",
    "CareRule",
    "Holiday",
    "QuietHours",
    "care_events",
    "holidays",
    "neutralise",
    "write_table",
]
