"""What the models say about one customer, in words: P(alive), expected purchases and spend,
CLV, the churn risk's top reasons and the behaviour cluster's description."""

from __future__ import annotations

import math
from typing import Any

from tierwise.models._stage import CHURN_WEIGHTS
from tierwise.scheme._model import Scheme
from tierwise.scheme._validate import referenced_features


def _num(row: dict[str, Any], name: str) -> float | None:
    value = row.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def churn_parts(row: dict[str, Any]) -> dict[str, float]:
    """Each part of the churn score (points out of 100), as ``churn_score_expr`` adds them."""
    w = CHURN_WEIGHTS
    frequency = _num(row, "frequency") or 0.0
    p_alive = _num(row, "p_alive")
    recency = _num(row, "recency_days") or 0.0
    if frequency > 0 and p_alive is not None:
        not_alive = 1.0 - p_alive
    else:
        not_alive = min(recency / 365.0, 1.0)
    rhythm = _num(row, "rhythm_ratio") or 0.0
    overdue = max(min((rhythm - 1.0) / 3.0, 1.0), 0.0) if frequency >= 2 else 0.0
    complaints = min(_num(row, "complaints_open") or 0.0, 2.0) / 2.0
    negative = _num(row, "negative_share") or 0.0
    falling = max(min(-(_num(row, "spend_trend") or 0.0), 1.0), 0.0)
    return {
        "not_alive": w["not_alive"] * not_alive,
        "overdue": w["overdue"] * overdue,
        "complaints": w["complaints"] * complaints,
        "negative": w["negative"] * negative,
        "falling_spend": w["falling_spend"] * falling,
    }


def _reason(key: str, row: dict[str, Any], lang: str) -> str:
    zh = lang == "zh"
    if key == "not_alive":
        p = _num(row, "p_alive")
        if (_num(row, "frequency") or 0) > 0 and p is not None:
            return f"存活概率仅 {p:.0%}" if zh else f"probability alive only {p:.0%}"
        days = _num(row, "recency_days") or 0
        return (
            f"只买过一次，已 {days:.0f} 天未再购买"
            if zh
            else f"bought once, {days:.0f} days ago, and not since"
        )
    if key == "overdue":
        ratio = _num(row, "rhythm_ratio") or 0
        gap = _num(row, "median_gap_days") or 0
        return (
            f"距上次购买已是自身购买间隔（{gap:.0f} 天）的 {ratio:.1f} 倍"
            if zh
            else f"{ratio:.1f}× their own purchase interval ({gap:.0f} days) since the last order"
        )
    if key == "complaints":
        n = _num(row, "complaints_open") or 0
        return f"有 {n:.0f} 条未解决投诉" if zh else f"{n:.0f} open complaint(s)"
    if key == "negative":
        share = _num(row, "negative_share") or 0
        return f"负面反馈占 {share:.0%}" if zh else f"{share:.0%} of feedback negative"
    trend = _num(row, "spend_trend") or 0
    return (
        f"近 180 天消费较前 180 天下降（趋势 {trend:.2f}）"
        if zh
        else f"spend falling (last 180 days vs the 180 before: {trend:.2f})"
    )


#: a part of the churn score smaller than this (of 100 points) is no reason worth naming
REASON_POINTS = 5.0


def churn_reasons(row: dict[str, Any], *, lang: str = "en", top: int = 3) -> list[str]:
    """The largest parts of the churn score, in words, largest first."""
    parts = churn_parts(row)
    ranked = sorted(
        (k for k, v in parts.items() if v >= REASON_POINTS), key=lambda k: (-parts[k], k)
    )
    return [_reason(k, row, lang) for k in ranked[:top]]


def _money(value: float | None, currency: str) -> str | None:
    if value is None:
        return None
    symbol = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€", "GBP": "£"}.get(currency, "")
    return f"{symbol}{value:,.0f}" if symbol else f"{value:,.0f} {currency}"


def model_facts(
    row: dict[str, Any], report: dict[str, Any], *, lang: str = "en", currency: str = "CNY"
) -> dict[str, Any]:
    """``{"models": {...}}`` for an explanation, or ``{}`` when the run used no model."""
    if not report:
        return {}
    fitted = {name: bool(s.get("fitted")) for name, s in report.get("models", {}).items()}
    horizon = report.get("horizon_days")
    out: dict[str, Any] = {
        "p_alive": _num(row, "p_alive"),
        "expected_purchases": _num(row, "expected_purchases"),
        "horizon_days": horizon,
        "expected_spend": _num(row, "expected_spend"),
        "clv": _num(row, "clv"),
        "clv_text": _money(_num(row, "clv"), currency),
        "churn_score": _num(row, "churn_score"),
        "churn_reasons": churn_reasons(row, lang=lang)
        if (_num(row, "frequency") is not None and (row.get("purchase_days") or 0) > 0)
        else [],
        "fitted": fitted,
        "not_fitted": {
            name: (s.get("reason") or {}).get(lang)
            for name, s in report.get("models", {}).items()
            if not s.get("fitted")
        },
    }
    cluster = row.get("behaviour_cluster")
    clusters = (report.get("models", {}).get("clusters") or {}).get("state") or {}
    descriptions = clusters.get("descriptions", {})
    if cluster is not None:
        out["cluster"] = {
            "key": cluster,
            "description": (descriptions.get(cluster) or {}).get(lang),
        }
    return {"models": out}


def model_notes(
    scheme: Scheme, row: dict[str, Any], report: dict[str, Any], *, lang: str = "en"
) -> dict[str, str]:
    """dimension → words the models add to its reason: the churn score's largest parts, the
    cluster's description."""
    if not report:
        return {}
    zh = lang == "zh"
    notes: dict[str, str] = {}
    clusters = (report.get("models", {}).get("clusters") or {}).get("state") or {}
    for name, dim in scheme.dimensions.items():
        used = referenced_features(dim)
        if "churn_score" in used and row.get("churn_score") is not None:
            reasons = churn_reasons(row, lang=lang)
            if reasons:
                notes[name] = ("主要原因：" if zh else "main reasons: ") + (
                    "；" if zh else "; "
                ).join(reasons)
        if "behaviour_cluster" in used and row.get("behaviour_cluster") is not None:
            text = (clusters.get("descriptions", {}).get(row["behaviour_cluster"]) or {}).get(lang)
            if text:
                notes[name] = text
    return notes


__all__ = ["churn_parts", "churn_reasons", "model_facts", "model_notes"]
