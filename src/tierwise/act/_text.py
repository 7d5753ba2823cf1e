"""What act says to people, in zh-CN and en: why a task is due, pool and SLA messages.

Tasks store a message key and its parameters (``reason_key``, ``reason_params``), never a
sentence, so the same task reads in the reader's language.
"""

from __future__ import annotations

from typing import Any, Final

MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # why a task is due
    "task.cadence": (
        "{tier}：每 {days} 天{channel}一次，上次联系 {last}",
        "{tier}: {channel} every {days} days; last contact {last}",
    ),
    "task.cadence.never": (
        "{tier}：每 {days} 天{channel}一次，尚无联系记录",
        "{tier}: {channel} every {days} days; never contacted",
    ),
    "task.replanned": (
        "分级由 {old} 变为 {new}：改为每 {days} 天{channel}一次",
        "Tier changed from {old} to {new}: now {channel} every {days} days",
    ),
    "task.tier_changed": (
        "{customer} 的分级由 {old} 变为 {new}：{detail}",
        "{customer} moved from {old} to {new}: {detail}",
    ),
    "task.recycle_warning": (
        "{customer} 已 {days} 天无人跟进，将于 {at} 退回公海，除非在此之前跟进",
        "{customer} has not been followed up for {days} days and returns to the pool on {at} "
        "unless followed up before",
    ),
    "task.recycled": (
        "{customer} 超过 {days} 天无人跟进，已退回公海",
        "{customer} was not followed up for {days} days and went back to the pool",
    ),
    "task.win_back": (
        "流失预警：{dimension} 由 {old} 变为 {new}，请在 {days} 天内{channel}挽回",
        "Churn warning: {dimension} went from {old} to {new}; win back by {channel} within "
        "{days} days",
    ),
    "task.complaint_escalated": (
        "投诉 {feedback} 超过 {hours} 小时未响应（{tier}），已升级给你",
        "Complaint {feedback} was not answered within {hours} hours ({tier}); escalated to you",
    ),
    "task.care": ("关怀：{event}", "Care: {event}"),
    # the tier-change notice's detail
    "detail.playbook": (
        "改为{service}服务，每 {days} 天{channel}一次，投诉 {sla} 小时内响应",
        "now {service} service, {channel} every {days} days, complaints answered within {sla} h",
    ),
    "detail.no_contact": (
        "改为{service}服务，不再主动联系，投诉 {sla} 小时内响应",
        "now {service} service, no proactive contact, complaints answered within {sla} h",
    ),
}

CHANNELS: Final[dict[str, tuple[str, str]]] = {
    "visit": ("拜访", "visit"),
    "call": ("电话", "call"),
    "email": ("邮件", "email"),
    "sms": ("短信", "SMS"),
    "wechat": ("微信", "WeChat"),
    "none": ("不联系", "no contact"),
}
SERVICE_LEVELS: Final[dict[str, tuple[str, str]]] = {
    "dedicated": ("专属客户经理", "dedicated account manager"),
    "standard": ("标准", "standard"),
    "automated": ("自动化", "automated"),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def channel_text(channel: str | None, lang: str) -> str:
    return pick(CHANNELS.get(channel or "none", (channel or "-", channel or "-")), lang)


def say(key: str, lang: str, params: dict[str, Any] | None = None) -> str:
    """The message ``key`` in ``lang`` with ``params`` filled in; channels are translated.

    >>> say("task.cadence", "en", {"tier": "A", "days": 30, "channel": "visit", "last": "11-02"})
    'A: visit every 30 days; last contact 11-02'
    """
    values = dict(params or {})
    if "channel" in values:
        values["channel"] = channel_text(str(values["channel"]), lang)
    if "service" in values:
        values["service"] = pick(SERVICE_LEVELS.get(str(values["service"]), ("-", "-")), lang)
    if "detail" in values and isinstance(values["detail"], dict):
        detail = values["detail"]
        values["detail"] = say(str(detail.get("key")), lang, detail.get("params"))
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    try:
        return pick(pair, lang).format(**values)
    except (KeyError, IndexError):
        return pick(pair, lang)


__all__ = ["CHANNELS", "MESSAGES", "SERVICE_LEVELS", "channel_text", "pick", "say"]
