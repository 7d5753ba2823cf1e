"""Words for behaviour clusters: a centroid's most distinctive features, in zh and en.

E.g. "高消费、低频、近期活跃" / "high spend, infrequent, recently active".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tierwise.features._catalog import feature_name

#: a centroid must be this far (in standard deviations) from the mean to be described by it
DESCRIBE_MIN_Z: Final = 0.5

#: feature -> ((中文 high, English high), (中文 low, English low))
WORDS: Final[dict[str, tuple[tuple[str, str], tuple[str, str]]]] = {
    "recency_days": (("久未购买", "long since last purchase"), ("近期活跃", "recently active")),
    "frequency": (("高频复购", "frequent repeat buyers"), ("低频", "infrequent")),
    "monetary_total": (("高消费", "high spend"), ("低消费", "low spend")),
    "monetary_mean": (("客单价高", "large baskets"), ("客单价低", "small baskets")),
    "monetary_value": (
        ("复购金额高", "large repeat orders"),
        ("复购金额低", "small repeat orders"),
    ),
    "orders_365d": (
        ("近一年订单多", "many orders this year"),
        ("近一年订单少", "few orders this year"),
    ),
    "revenue_365d": (
        ("近一年消费高", "high spend this year"),
        ("近一年消费低", "low spend this year"),
    ),
    "orders_90d": (("近90天订单多", "many recent orders"), ("近90天订单少", "few recent orders")),
    "revenue_90d": (("近90天消费高", "high recent spend"), ("近90天消费低", "low recent spend")),
    "interactions_90d": (("互动频繁", "highly engaged"), ("互动少", "little contact")),
    "interactions_365d": (("互动频繁", "highly engaged"), ("互动少", "little contact")),
    "categories_bought": (("跨品类购买", "buys across categories"), ("品类单一", "few categories")),
    "refund_rate": (("退款多", "refunds often"), ("很少退款", "rarely refunds")),
    "spend_trend": (("消费上升", "spend rising"), ("消费下降", "spend falling")),
    "tenure_days": (("老客户", "long-standing"), ("新客户", "new customers")),
    "complaints_total": (("投诉较多", "complains often"), ("很少投诉", "rarely complains")),
    "referrals_made": (("乐于推荐", "refers others"), ("不推荐", "does not refer")),
}
_AVERAGE: Final = ("各项指标接近平均", "close to average on every measure")


def describe(names: Sequence[str], centroid: NDArray[np.float64]) -> dict[str, str]:
    """The 2–3 most distinctive features of a centroid (largest |z|), in zh and en."""
    order = sorted(range(len(names)), key=lambda j: (-abs(centroid[j]), j))
    picked = [j for j in order[:3] if abs(centroid[j]) >= DESCRIBE_MIN_Z]
    if not picked:
        return {"zh": _AVERAGE[0], "en": _AVERAGE[1]}
    zh: list[str] = []
    en: list[str] = []
    for j in picked:
        name, high = names[j], bool(centroid[j] > 0)
        if name in WORDS:
            words = WORDS[name][0 if high else 1]
        else:
            words = (
                f"{feature_name(name, 'zh')}{'偏高' if high else '偏低'}",
                f"{'high' if high else 'low'} {feature_name(name, 'en')}",
            )
        if words[0] not in zh:
            zh.append(words[0])
            en.append(words[1])
    return {"zh": "、".join(zh), "en": ", ".join(en)}


__all__ = ["DESCRIBE_MIN_Z", "WORDS", "describe"]
