"""The evaluation report: one self-contained HTML file (ECharts inlined, no network) and the
same numbers as JSON.

The numbers are computed once (``report_data``) and embedded as JSON; the charts are drawn in
the browser from them, the tables are written here, so the file reads without JavaScript too.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Final

_VENDOR: Final = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor"

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
    "churn": ("回测：流失风险校准", "Backtest: churn-risk calibration"),
    "cost": ("服务成本与毛利", "Cost to serve against gross profit"),
    "holdout": ("对照组：受干预与对照客户", "Holdout: treated against held-out customers"),
    "drift": ("漂移预警", "Drift warnings"),
    "no_drift": ("无超过阈值的漂移。", "No drift beyond the thresholds."),
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
    "cost_col": ("服务成本", "cost"),
    "gross_profit": ("毛利", "gross profit"),
    "predicted": ("预测", "predicted"),
    "actual": ("实际", "actual"),
    "from_to": ("行：上期层级；列：本期层级", "rows: earlier tier; columns: later tier"),
    "new": ("新客户", "New customers"),
    "offline": (
        "本报告可离线打开，图表由内嵌的 ECharts 绘制。",
        "This report opens offline; the charts are drawn by the ECharts embedded in it.",
    ),
}

_SCRIPT: Final = r"""
(function () {
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var L = D.lang, done = 0;
  function t(k) { var x = D.labels[k]; return x ? x[L] : (k === "__new__" ? D.words.new : String(k)); }
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el, null, { renderer: "canvas" });
    option.animation = false;
    c.setOption(option);
    done += 1;
  }
  var perf = D.performance || [];
  var tiers = Object.keys(D.labels);
  var x = perf.map(function (p) { return p.as_of; });
  function series(field) {
    return tiers.map(function (k) {
      return { name: t(k), type: field === "customers" ? "bar" : "line", stack: field === "customers" ? "n" : undefined,
        data: perf.map(function (p) { var r = p.tiers.filter(function (q) { return q.tier === k; })[0]; return r ? r[field] : null; }) };
    });
  }
  if (perf.length) {
    draw("chart-over-time", { tooltip: {}, legend: {}, xAxis: { type: "category", data: x }, yAxis: { type: "value" }, series: series("customers") });
    draw("chart-revenue-share", { tooltip: {}, legend: {}, xAxis: { type: "category", data: x }, yAxis: { type: "value", max: 1 }, series: series("revenue_share") });
    var last = perf[perf.length - 1];
    if (last.pareto && last.pareto.length) {
      draw("chart-pareto", { tooltip: {}, xAxis: { type: "value", max: 1 }, yAxis: { type: "value", max: 1 },
        series: [{ type: "line", data: [[0, 0]].concat(last.pareto.map(function (p) { return [p.top_share, p.value_share]; })) }] });
    }
  }
  var m = D.migration;
  if (m) {
    var cells = [], top = 1;
    m.matrix.forEach(function (row, i) { row.forEach(function (n, j) { cells.push([j, i, n]); if (n > top) top = n; }); });
    draw("chart-migration", { tooltip: {}, grid: { left: 120 },
      xAxis: { type: "category", data: m.labels.map(t) }, yAxis: { type: "category", data: m.from_labels.map(t), inverse: true },
      visualMap: { min: 0, max: top, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
      series: [{ type: "heatmap", data: cells, label: { show: true } }] });
  }
  var fl = D.flow || [];
  if (fl.length) {
    var names = {};
    fl.forEach(function (l) { names[l.source] = 1; names[l.target] = 1; });
    function nodeName(n) { var i = n.indexOf(":"); return "#" + n.slice(0, i) + " " + t(n.slice(i + 1)); }
    draw("chart-flow", { tooltip: {}, series: [{ type: "sankey", emphasis: { focus: "adjacency" },
      data: Object.keys(names).map(function (n) { return { name: nodeName(n) }; }),
      links: fl.filter(function (l) { return l.value > 0; }).map(function (l) { return { source: nodeName(l.source), target: nodeName(l.target), value: l.value }; }) }] });
  }
  var b = D.backtest;
  if (b) {
    draw("chart-backtest", { tooltip: {}, xAxis: { type: "category", data: b.tiers.map(function (r) { return t(r.tier); }) }, yAxis: { type: "value" },
      series: [{ type: "bar", data: b.tiers.map(function (r) { return r.revenue_per_customer; }) }] });
    var pc = b.purchase_calibration || [];
    draw("chart-calibration", { tooltip: {}, legend: {}, xAxis: { type: "category", data: pc.map(function (r) { return r.decile; }) }, yAxis: { type: "value" },
      series: [{ name: D.words.predicted, type: "line", data: pc.map(function (r) { return r.predicted; }) },
               { name: D.words.actual, type: "line", data: pc.map(function (r) { return r.actual; }) }] });
    var ch = b.churn_calibration || [];
    draw("chart-churn", { tooltip: {}, legend: {}, xAxis: { type: "category", data: ch.map(function (r) { return r.risk; }) }, yAxis: { type: "value", max: 1 },
      series: [{ name: D.words.predicted, type: "bar", data: ch.map(function (r) { return r.predicted_inactive; }) },
               { name: D.words.actual, type: "bar", data: ch.map(function (r) { return r.observed_inactive; }) }] });
  }
  var cost = D.cost || [];
  if (cost.length) {
    draw("chart-cost", { tooltip: {}, legend: {}, xAxis: { type: "category", data: cost.map(function (r) { return t(r.tier); }) }, yAxis: { type: "value" },
      series: [{ name: D.words.cost_col, type: "bar", data: cost.map(function (r) { return r.cost; }) },
               { name: D.words.gross_profit, type: "bar", data: cost.map(function (r) { return r.gross_profit; }) }] });
  }
  window.__tierwiseCharts = done;
})();
"""

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


def render_report(data: dict[str, Any], *, lang: str = "en") -> str:
    """The report as one HTML document (scripts and data inline: opens offline)."""
    i = 0 if lang == "zh" else 1
    w = {k: v[i] for k, v in _WORDS.items()}
    labels: dict[str, dict[str, str]] = data.get("labels") or {}

    def label(key: Any) -> str:
        if key == "__new__":
            return html.escape(w["new"])
        return html.escape(labels.get(str(key), {}).get(lang, str(key)))

    parts = [f"<h1>{w['title']}</h1>"]
    snap = data.get("snapshot") or {}
    parts.append(
        f"<p>{w['as_of']}: {html.escape(str(snap.get('as_of', '–')))} · {w['offline']}</p>"
    )
    perf = data.get("performance") or []
    if perf:
        parts += [f"<h2>{w['over_time']}</h2>", '<div id="chart-over-time" class="chart"></div>']
        cols = [("tier", w["tier"], ""), ("customers", w["customers"], ""),
                ("customer_share", w["customer_share"], "pct"), ("revenue_share", w["revenue_share_col"], "pct"),
                ("gross_profit_share", w["gross_profit_share"], "pct"), ("growth", w["growth"], "pct"),
                ("retention", w["retention"], "pct"), ("churn_rate", w["churn_rate"], "pct"),
                ("complaint_rate", w["complaint_rate"], "pct"), ("satisfaction", w["satisfaction"], ""),
                ("avg_clv", w["avg_clv"], "")]  # fmt: skip
        parts.append(_table(perf[-1]["tiers"], cols, label))
        parts += [
            f"<h2>{w['revenue_share']}</h2>",
            '<div id="chart-revenue-share" class="chart"></div>',
        ]
        parts += [f"<h2>{w['pareto']}</h2>", '<div id="chart-pareto" class="chart"></div>']
    if data.get("migration"):
        parts += [f"<h2>{w['migration']}</h2>", f"<p>{w['from_to']}</p>",
                  '<div id="chart-migration" class="chart"></div>',
                  f"<h2>{w['flow']}</h2>", '<div id="chart-flow" class="chart"></div>']  # fmt: skip
    bt = data.get("backtest")
    if bt:
        period = " – ".join(bt.get("outcome_period", []))
        parts += [f"<h2>{w['backtest']}</h2>", f"<p>{html.escape(period)}</p>",
                  '<div id="chart-backtest" class="chart"></div>',
                  f"<h2>{w['calibration']}</h2>", '<div id="chart-calibration" class="chart"></div>',
                  f"<h2>{w['churn']}</h2>", '<div id="chart-churn" class="chart"></div>']  # fmt: skip
    if data.get("cost"):
        parts += [f"<h2>{w['cost']}</h2>", '<div id="chart-cost" class="chart"></div>']
        cols = [("tier", w["tier"], ""), ("customers", w["customers"], ""), ("cost", w["cost_col"], ""),
                ("gross_profit", w["gross_profit"], "")]  # fmt: skip
        parts.append(_table(data["cost"], cols, label))
    if data.get("holdout"):
        cols = [("tier", w["tier"], ""), ("treated", "treated", ""), ("holdout", "holdout", ""),
                ("retention_uplift", w["retention"] + " Δ", "pct"), ("revenue_uplift", "Δ revenue", "")]  # fmt: skip
        parts += [f"<h2>{w['holdout']}</h2>", _table(data["holdout"], cols, label)]
    drift = data.get("drift")
    if drift is not None:
        items = drift.get("warnings") or []
        text = "".join(f"<li class='warn'>{html.escape(x[lang])}</li>" for x in items)
        parts += [
            f"<h2>{w['drift']}</h2>",
            f"<ul>{text}</ul>" if text else f"<p>{w['no_drift']}</p>",
        ]
    payload = data | {"lang": lang, "words": w}
    blob = json.dumps(payload, ensure_ascii=False, default=str).replace("</", "<\\/")
    echarts = (
        (_VENDOR / "echarts.min.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    )
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{w['title']}</title><style>{_STYLE}</style></head><body>"
        + "".join(parts)
        + f'<script type="application/json" id="report-data">{blob}</script>'
        + f"<script>{echarts}</script><script>{_SCRIPT}</script></body></html>"
    )


def write_report(data: dict[str, Any], out: Path, *, lang: str = "en") -> Path:
    """Write ``render_report(data)`` to ``out`` (UTF-8) and return the path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data, lang=lang), encoding="utf-8")
    return out


__all__ = ["render_report", "write_report"]
