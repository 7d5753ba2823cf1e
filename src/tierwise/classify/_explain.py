"""Explanations in words, in Chinese or English, for one customer's labels.

An explanation is rendered from the scheme, the customer's feature values and the stored label,
so it always says why the label is what it is under the scheme version that produced it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from tierwise.features._catalog import FEATURES, feature_name
from tierwise.scheme._expr import parse, to_text
from tierwise.scheme._model import (
    INSUFFICIENT,
    BandsDimension,
    GridDimension,
    MappingDimension,
    RFMDimension,
    RulesDimension,
    Scheme,
    ScoreDimension,
    _Dimension,
)

_SYMBOLS = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def fmt_value(name: str, value: Any, *, lang: str, currency: str = "CNY") -> str:
    """A feature value as a person reads it: ¥48,210; 12 days; 0.35; 2024-03-01."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "无" if lang == "zh" else "none"
    unit = FEATURES.get(name, ("", "", "number"))[2]
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if unit == "money":
        return f"{_SYMBOLS.get(currency, currency + ' ')}{float(value):,.0f}"
    if unit == "days":
        days = float(value)
        shown = f"{days:,.0f}" if days == int(days) else f"{days:,.1f}"
        return f"{shown} 天" if lang == "zh" else f"{shown} days"
    if unit == "ratio":
        return f"{float(value):.2f}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    return str(value)


def _sep(lang: str) -> str:
    return "；" if lang == "zh" else "; "


def _fact(name: str, row: dict[str, Any], lang: str, currency: str) -> str:
    value = fmt_value(name, row.get(name), lang=lang, currency=currency)
    return (
        f"{feature_name(name, lang)} {value}"
        if lang == "zh"
        else f"{feature_name(name, lang)}: {value}"
    )


def _label_text(dim: _Dimension, key: str, lang: str) -> str:
    if key == INSUFFICIENT:
        return dim.insufficient_label.get(lang)
    label = dim.label(key)
    if label is None:
        return key  # a multi-label combination such as price_sensitive+service_focused
    return label.text(lang)


def _multi_text(dim: _Dimension, key: str, lang: str) -> str:
    sep = "、" if lang == "zh" else " + "
    return sep.join(_label_text(dim, k, lang) for k in key.split("+"))


def label_text(dim: _Dimension, key: str, lang: str) -> str:
    """The words for a label key in ``lang`` (multi-labels joined, insufficient data named)."""
    return _multi_text(dim, key, lang) if "+" in key else _label_text(dim, key, lang)


def _rule_facts(text: str, row: dict[str, Any], lang: str, currency: str) -> str:
    names = sorted(parse(text).names())
    return _sep(lang).join(_fact(n, row, lang, currency) for n in names)


def _reason(
    name: str,
    dim: _Dimension,
    row: dict[str, Any],
    key: str,
    score: Any,
    lang: str,
    currency: str,
    labels: dict[str, dict[str, Any]],
) -> str:
    zh = lang == "zh"
    if key == INSUFFICIENT and dim.insufficient:
        facts = _rule_facts(dim.insufficient, row, lang, currency)
        return (
            # the label text ("数据不足" / "Insufficient data") already leads the reason
            f"{to_text(parse(dim.insufficient))}（{facts}）"
            if zh
            else f"{to_text(parse(dim.insufficient))} ({facts})"
        )
    if isinstance(dim, ScoreDimension):
        terms = []
        for i, comp in enumerate(dim.components):
            part = row.get(f"{name}__c{i}")
            symbol = comp.symbol or comp.feature
            shown = (
                "?"
                if part is None
                else (f"{int(part)}" if comp.scale == "quintile" else f"{float(part):g}")
            )
            terms.append(f"{comp.weight:g}×{symbol}{shown}")
        total = sum(c.weight for c in dim.components)
        formula = " + ".join(terms) + ("" if total == 1 else f" ÷ {total:g}")
        facts = _sep(lang).join(_fact(c.feature, row, lang, currency) for c in dim.components)
        shown_score = "?" if score is None else f"{float(score):.2f}"
        cuts = " / ".join(f"{p:g}" for p in (dim.cut.points or []))
        cut_text = (f"，分界 {cuts}" if zh else f", cuts {cuts}") if cuts else ""
        return (
            f"得分 {shown_score} = {formula}{cut_text}；{facts}"
            if zh
            else f"score {shown_score} = {formula}{cut_text}; {facts}"
        )
    if isinstance(dim, RFMDimension):
        r, f, m = (row.get(f"{name}__{p}") for p in "rfm")
        fm = None if f is None or m is None else (int(f) + int(m) + 1) // 2
        facts = _sep(lang).join(
            _fact(n, row, lang, currency) for n in (dim.recency, dim.frequency, dim.monetary)
        )
        return (
            f"R{r} F{f} M{m}（FM {fm}）按 RFM 评分表归类；{facts}"
            if zh
            else f"R{r} F{f} M{m} (FM {fm}) through the RFM score map; {facts}"
        )
    if isinstance(dim, BandsDimension):
        fact = _fact(dim.feature, row, lang, currency)
        cuts = " / ".join(f"{p:g}" for p in (dim.cut.points or dim.cut.probs or []))
        how = {
            "thresholds": ("分界", "cuts"),
            "quantiles": ("分位", "percent-rank cuts"),
            "jenks": ("自然断点", "natural breaks"),
        }[dim.cut.by]
        return f"{fact}（{how[0]} {cuts}）" if zh else f"{fact} ({how[1]} {cuts})"
    if isinstance(dim, RulesDimension):
        hits = [rule for rule in dim.rules if rule.label in key.split("+")]
        if dim.first_match:
            hits = hits[:1]
        if not hits:
            facts = _sep(lang).join(_rule_facts(r.when, row, lang, currency) for r in dim.rules[:1])
            return (
                f"没有规则命中，归入默认类别；{facts}"
                if zh
                else f"no rule matched, so the catch-all label; {facts}"
            )
        parts = [
            f"{to_text(parse(rule.when))}（{_rule_facts(rule.when, row, lang, currency)}）"
            if zh
            else f"{to_text(parse(rule.when))} ({_rule_facts(rule.when, row, lang, currency)})"
            for rule in hits
        ]
        return ("命中规则：" if zh else "matched: ") + ("；" if zh else "; ").join(parts)
    if isinstance(dim, MappingDimension):
        fact = _fact(dim.feature, row, lang, currency)
        return f"{fact} → {_label_text(dim, key, lang)}"
    if isinstance(dim, GridDimension):
        rows = labels.get(dim.rows, {}).get("label")
        cols = labels.get(dim.columns, {}).get("label")
        return (
            f"{dim.rows} {rows} × {dim.columns} {cols} → 组合表"
            if zh
            else f"{dim.rows} {rows} × {dim.columns} {cols} → combination grid"
        )
    return ""


def _source_note(source: str, lang: str) -> str:
    notes = {
        "hysteresis": (
            "保持原级：分数未低于分界减回差，或在本级时间不足",
            "kept in place by hysteresis (within the margin, or too soon to move down)",
        ),
        "pending": (
            "降级待审批：受保护等级的降级需经理批准",
            "downgrade waiting for a manager's approval (protected label)",
        ),
        "override": ("人工指定", "manual override"),
    }
    if source not in notes:
        return ""
    return notes[source][0] if lang == "zh" else notes[source][1]


def explain_row(
    scheme: Scheme,
    row: dict[str, Any],
    labels: dict[str, dict[str, Any]],
    *,
    lang: str = "en",
    notes: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """dimension -> {label, text, score, source, since, reason} for one customer.

    ``notes``: words to add to a dimension's reason (what the models say: churn reasons, the
    cluster's description).
    """
    out: dict[str, dict[str, Any]] = {}
    for name, dim in scheme.dimensions.items():
        stored = labels.get(name)
        if stored is None:
            continue
        key = str(stored["label"])
        score = stored.get("score")
        text = label_text(dim, key, lang)
        reason = _reason(name, dim, row, key, score, lang, scheme.currency, labels)
        extra = (notes or {}).get(name)
        if extra and key != INSUFFICIENT:
            reason = f"{reason}{_sep(lang)}{extra}" if reason else extra
        note = _source_note(str(stored.get("source", "")), lang)
        since = stored.get("since")
        out[name] = {
            "title": dim.title.get(lang),
            "label": key,
            "text": text,
            "score": None if score is None else float(score),
            "source": stored.get("source"),
            "since": since.isoformat() if since else None,
            "reason": f"{text}{'：' if lang == 'zh' else ': '}{reason}"
            + (f" ({note})" if note else ""),
        }
    return out


__all__ = ["explain_row", "fmt_value", "label_text"]
