"""The evaluation report: one self-contained HTML file (ECharts inlined, no network) and the
same numbers as JSON.

The numbers are computed once (``report_data``: the sections of the evaluation page) and the
charts are drawn in the browser by the web app's own chart builders
(``web/static/evaluation.js``, inlined with ECharts): each chart is an element carrying its
data, exactly as on the page. The tables are written here, so the file reads without
JavaScript too.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Final

_STATIC: Final = Path(__file__).resolve().parent.parent / "web" / "static"
_VENDOR: Final = _STATIC / "vendor"

_WORDS: Final[dict[str, tuple[str, str]]] = {
    "title": ("客户分层评估报告", "Tiering evaluation report"),
    "as_of": ("快照日期", "Snapshot as of"),
    "over_time": ("各层客户数随时间变化", "Customers per tier over time"),
    "revenue_share": ("各层收入占比随时间变化", "Revenue share per tier over time"),
    "pareto": (
        "帕累托曲线（前 x% 客户贡献的收入占比）",
        "Pareto curve (revenue share of the top x % of customers)",
    ),
    "migration": ("层级迁移矩阵", "Tier migration matrix"),
    "flow": ("多期层级流动", "Tier flow over the snapshots"),
    "backtest": (
        "回测：各层在观察期内的人均收入",
        "Backtest: revenue per customer in the horizon, by tier",
    ),
    "calibration": (
        "回测：预期购买次数校准（按十分位）",
        "Backtest: expected-purchase calibration (by decile)",
    ),
    "clv_calibration": (
        "回测：CLV 校准（按十分位，实际为观察期收入）",
        "Backtest: CLV calibration (by decile; actual: revenue in the horizon)",
    ),
    "churn": ("回测：流失风险校准", "Backtest: churn-risk calibration"),
    "cost": ("服务成本与毛利", "Cost to serve against gross profit"),
    "holdout": ("对照组：受干预与对照客户", "Holdout: treated against held-out customers"),
    "drift": ("漂移预警", "Drift warnings"),
    "drift_churn": (
        "流失风险校准：上期预测与两次快照间的实际",
        "Churn-risk calibration: last snapshot's prediction against what happened since",
    ),
    "no_drift": ("无超过阈值的漂移。", "No drift beyond the thresholds."),
    "before_after": ("方案变更前后", "Before and after the last scheme change"),
    "tier": ("层级", "tier"),
    "customers": ("客户数", "customers"),
    "customer_share": ("客户占比", "customer share"),
    "revenue_share_col": ("收入占比", "revenue share"),
    "gross_profit_share": ("毛利占比", "gross-profit share"),
    "growth": ("增长", "growth"),
    "retention": ("留存率", "retention"),
    "churn_rate": ("流失率", "churn rate"),
    "complaint_rate": ("投诉率", "complaint rate"),
    "satisfaction": ("满意度", "satisfaction"),
    "avg_clv": ("平均 CLV", "average CLV"),
    "interactions": ("互动次数", "interactions"),
    "visits": ("拜访", "visits"),
    "service_hours": ("服务小时", "service hours"),
    "discounts": ("优惠金额", "discounts"),
    "cost_col": ("服务成本", "cost"),
    "gross_profit": ("毛利", "gross profit"),
    "margin": ("扣除服务成本后的毛利", "margin after service"),
    "treated": ("受干预", "treated"),
    "held_out": ("对照", "holdout"),
    "revenue_uplift": ("人均收入提升", "revenue uplift"),
    "predicted": ("预测", "predicted"),
    "actual": ("实际", "actual"),
    "predicted_spend": ("预测消费（未折现）", "predicted spend (undiscounted)"),
    "from_to": ("行：上期层级；列：本期层级", "rows: earlier tier; columns: later tier"),
    "new": ("新客户", "New customers"),
    "offline": (
        "本报告可离线打开，图表由内嵌的 ECharts 绘制。",
        "This report opens offline; the charts are drawn by the ECharts embedded in it.",
    ),
}

_STYLE: Final = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#222}
h1{font-size:1.6rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.chart{width:100%;max-width:900px;height:360px}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left} .warn{color:#a40}
"""


def _fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if kind == "pct":
            return f"{value:.1%}"
        return f"{value:,.2f}"
    return html.escape(str(value))


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]], label: Any) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in columns)
    body = []
    for r in rows:  # a handful of tiers
        cells = []
        for key, _, kind in columns:
            value = label(r[key]) if key == "tier" else _fmt(r.get(key), kind)
            cells.append(f"<td>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chart(chart_id: str, kind: str, spec: dict[str, Any]) -> str:
    """A chart element as the page has it: the builder's name and its data (escaped)."""
    blob = json.dumps({"type": kind, "spec": spec}, ensure_ascii=False, default=str)
    return f'<div id="{chart_id}" class="chart" data-eval="{html.escape(blob)}"></div>'


def _pair_flow(m: dict[str, Any], snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """A migration matrix as the links of the flow chart (one pair of snapshots)."""
    a, b = m["from_snapshot"], m["to_snapshot"]
    links = [
        {"source": f"{a}:{x}", "target": f"{b}:{y}", "value": n}
        for x, row in zip(m["from_labels"], m["matrix"], strict=True)
        for y, n in zip(m["labels"], row, strict=True)
        if n
    ]
    picked = [s for s in snapshots if s["id"] in (a, b)]
    return {"snapshots": picked, "links": links}


def _matrix(m: dict[str, Any], label: Any) -> str:
    head = "".join(f"<th>{label(c)}</th>" for c in m["labels"])
    rows = "".join(
        f"<tr><td>{label(x)}</td>" + "".join(f"<td>{n:,}</td>" for n in row) + "</tr>"
        for x, row in zip(m["from_labels"], m["matrix"], strict=True)
    )
    return f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _backtest_parts(bt: dict[str, Any], w: dict[str, str]) -> list[str]:
    period = " – ".join(bt.get("outcome_period", []))
    runs = [{"name": bt.get("scheme", ""), "tiers": bt.get("tiers", [])}]
    return [
        f"<h2>{w['backtest']}</h2>", f"<p>{html.escape(period)}</p>",
        _chart("chart-backtest", "backtest", {"runs": runs}),
        f"<h2>{w['calibration']}</h2>",
        _chart("chart-calibration", "calibration", {"rows": bt.get("purchase_calibration") or []}),
        f"<h2>{w['churn']}</h2>",
        _chart("chart-churn", "churn",
               {"rows": bt.get("churn_calibration") or [], "key": "risk", "risk": True}),
        f"<h2>{w['clv_calibration']}</h2>",
        _chart("chart-clv", "calibration",
               {"rows": bt.get("clv_calibration") or [], "spend": True}),
    ]  # fmt: skip


def render_report(data: dict[str, Any], *, lang: str = "en") -> str:
    """The report as one HTML document (scripts and data inline: opens offline)."""
    i = 0 if lang == "zh" else 1
    w = {k: v[i] for k, v in _WORDS.items()}
    labels: dict[str, dict[str, str]] = data.get("labels") or {}
    texts = {k: v.get(lang, k) for k, v in labels.items()}

    def label(key: Any) -> str:
        if key == "__new__":
            return html.escape(w["new"])
        return html.escape(texts.get(str(key), str(key)))

    parts = [f"<h1>{w['title']}</h1>"]
    snap = data.get("snapshot") or {}
    parts.append(
        f"<p>{w['as_of']}: {html.escape(str(snap.get('as_of', '–')))} · {w['offline']}</p>"
    )
    perf = data.get("performance") or []
    if perf:
        parts += [f"<h2>{w['over_time']}</h2>",
                  _chart("chart-over-time", "over_time", {"perf": perf, "field": "customers", "kind": "bar"})]  # fmt: skip
        cols = [("tier", w["tier"], ""), ("customers", w["customers"], ""),
                ("customer_share", w["customer_share"], "pct"), ("revenue_share", w["revenue_share_col"], "pct"),
                ("gross_profit_share", w["gross_profit_share"], "pct"), ("growth", w["growth"], "pct"),
                ("retention", w["retention"], "pct"), ("churn_rate", w["churn_rate"], "pct"),
                ("complaint_rate", w["complaint_rate"], "pct"), ("satisfaction", w["satisfaction"], ""),
                ("avg_clv", w["avg_clv"], "")]  # fmt: skip
        parts.append(_table(perf[-1]["tiers"], cols, label))
        parts += [f"<h2>{w['revenue_share']}</h2>",
                  _chart("chart-revenue-share", "over_time",
                         {"perf": perf, "field": "revenue_share", "kind": "line", "share": True})]  # fmt: skip
        if perf[-1].get("pareto"):
            parts += [f"<h2>{w['pareto']}</h2>",
                      _chart("chart-pareto", "pareto", {"points": perf[-1]["pareto"]})]  # fmt: skip
    m = data.get("migration")
    if m:
        parts += [f"<h2>{w['migration']}</h2>", f"<p>{w['from_to']}</p>",
                  _chart("chart-migration", "flow", _pair_flow(m, data.get("snapshots") or [])),
                  _matrix(m, label)]  # fmt: skip
    fl = data.get("flow") or {}
    if fl.get("links"):
        parts += [f"<h2>{w['flow']}</h2>", _chart("chart-flow", "flow", fl)]
    bt = data.get("backtest")
    if bt:
        parts += _backtest_parts(bt, w)
    if data.get("cost"):
        parts += [f"<h2>{w['cost']}</h2>", _chart("chart-cost", "cost", {"rows": data["cost"]})]
        cols = [("tier", w["tier"], ""), ("customers", w["customers"], ""),
                ("interactions", w["interactions"], ""), ("visits", w["visits"], ""),
                ("service_hours", w["service_hours"], ""), ("discounts", w["discounts"], ""),
                ("cost", w["cost_col"], ""), ("gross_profit", w["gross_profit"], ""),
                ("margin_after_service", w["margin"], "")]  # fmt: skip
        parts.append(_table(data["cost"], cols, label))
    if data.get("holdout"):
        cols = [("tier", w["tier"], ""), ("treated", w["treated"], ""), ("holdout", w["held_out"], ""),
                ("retention_uplift", w["retention"] + " Δ", "pct"),
                ("revenue_uplift", w["revenue_uplift"], "")]  # fmt: skip
        parts += [f"<h2>{w['holdout']}</h2>", _table(data["holdout"], cols, label)]
    ba = data.get("before_after")
    if ba:
        parts += [f"<h2>{w['before_after']}</h2>", f"<p>{html.escape(ba['summary'][lang])}</p>"]
    drift = data.get("drift")
    if drift is not None:
        items = drift.get("warnings") or []
        text = "".join(f"<li class='warn'>{html.escape(x[lang])}</li>" for x in items)
        parts += [
            f"<h2>{w['drift']}</h2>",
            f"<ul>{text}</ul>" if text else f"<p>{w['no_drift']}</p>",
        ]
        churn = drift.get("churn_calibration")
        if churn and churn.get("bands"):
            parts += [f"<h3>{w['drift_churn']}</h3>",
                      _chart("chart-drift-churn", "churn", {"rows": churn["bands"], "key": "band",
                                                            "risk": churn["by"] == "churn_risk"})]  # fmt: skip
    risk = {k: v.get(lang, k) for k, v in (data.get("risk_labels") or {}).items()}
    # the legends of the chart builders (static/evaluation.js), as the page names them
    legends = {k: w[k] for k in ("predicted", "actual", "discounts", "gross_profit",
                                 "predicted_spend", "new")} | {"cost": w["cost_col"]}  # fmt: skip
    context = json.dumps({"labels": texts, "risk": risk, "words": legends}, ensure_ascii=False)
    blob = json.dumps(data | {"lang": lang}, ensure_ascii=False, default=str).replace("</", "<\\/")

    def inline(path: Path) -> str:
        return path.read_text(encoding="utf-8").replace("</script", "<\\/script")

    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{w['title']}</title><style>{_STYLE}</style></head><body>"
        f'<div data-eval-context="{html.escape(context)}">'
        + "".join(parts)
        + "</div>"
        + f'<script type="application/json" id="report-data">{blob}</script>'
        + f"<script>{inline(_VENDOR / 'echarts.min.js')}</script>"
        + f"<script>{inline(_STATIC / 'evaluation.js')}</script></body></html>"
    )


def write_report(data: dict[str, Any], out: Path, *, lang: str = "en") -> Path:
    """Write ``render_report(data)`` to ``out`` (UTF-8) and return the path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data, lang=lang), encoding="utf-8")
    return out


__all__ = ["render_report", "write_report"]
