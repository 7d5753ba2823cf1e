// Tierwise evaluation charts: the ECharts options of the evaluation page and of the
// self-contained report (tierwise.evaluate._report inlines this file), written once.
// A chart is an element <div class="chart" data-eval='{"type": …, "spec": {…}}'> inside an
// element carrying data-eval-context='{"labels": {tier: text}, "risk": {churn-risk label:
// text}, "words": {…}}'. No inline
// scripts on the page (its Content Security Policy forbids them): pages carry data only.
(function (root) {
  "use strict";
  var palette = ["#1f6feb", "#2da44e", "#d29922", "#cf222e", "#8250df", "#0a7ea4", "#bc4c00", "#57606a", "#1b7c83", "#a475f9"];
  var NEW = "__new__";

  // the legend stays on one line (it scrolls) so that it never wraps onto the axis labels of
  // a narrow chart; the grid leaves it room below the axis
  var LEGEND = { type: "scroll", bottom: 0 };

  function base(extra) {
    // tooltips drawn on the canvas (rich text), not as HTML: the page's Content Security
    // Policy refuses the inline styles of HTML tooltips, and scheme names need no escaping
    var out = { color: palette, animation: false, tooltip: { trigger: "axis", renderMode: "richText" } };
    Object.keys(extra).forEach(function (k) { out[k] = extra[k]; });
    return out;
  }

  // a tier measure per snapshot: one series per tier (bars stacked for counts)
  function overTime(spec, c) {
    var tiers = Object.keys(c.labels);
    return base({
      legend: LEGEND, grid: { left: 60, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: spec.perf.map(function (p) { return p.as_of; }) },
      yAxis: { type: "value", max: spec.share ? 1 : null },
      series: tiers.map(function (k) {
        return { name: c.t(k), type: spec.kind, stack: spec.kind === "bar" ? "all" : null,
          data: spec.perf.map(function (p) {
            var r = p.tiers.filter(function (q) { return q.tier === k; })[0];
            return r ? r[spec.field] : null;
          }) };
      })
    });
  }

  function pareto(spec) {
    return base({
      grid: { left: 50, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value", max: 1 }, yAxis: { type: "value", max: 1 },
      series: [{ type: "line", data: [[0, 0]].concat(spec.points.map(function (p) { return [p.top_share, p.value_share]; })) }]
    });
  }

  // where each tier's customers came from, snapshot after snapshot: one bar per (later
  // snapshot, tier), stacked by the tier the customers had before. Links are
  // {source: "<snapshot>:<label>", target: "<snapshot>:<label>", value} (the flow; a
  // migration matrix gives the same for one pair). Stacked bars rather than a Sankey or a
  // heatmap: the vendored ECharts build draws lines, bars, pies and scatter plots only.
  function flow(spec, c) {
    var dates = {}, order = Object.keys(c.labels), targets = [], sources = [], cells = {};
    spec.snapshots.forEach(function (s) { dates[String(s.id)] = s.as_of; });
    function split(n) { var i = n.indexOf(":"); return [n.slice(0, i), n.slice(i + 1)]; }
    function rank(k) { var i = order.indexOf(k); return k === NEW ? 1e6 : (i < 0 ? 1e5 : i); }
    spec.links.forEach(function (l) {
      var s = split(l.source), t = split(l.target), key = t[0] + ":" + t[1];
      if (targets.indexOf(key) < 0) { targets.push(key); }
      if (sources.indexOf(s[1]) < 0) { sources.push(s[1]); }
      cells[s[1] + "|" + key] = (cells[s[1] + "|" + key] || 0) + l.value;
    });
    var seq = spec.snapshots.map(function (s) { return String(s.id); });
    targets.sort(function (x, y) {
      var a = split(x), b = split(y);
      return (seq.indexOf(a[0]) - seq.indexOf(b[0])) || (rank(a[1]) - rank(b[1]));
    });
    sources.sort(function (x, y) { return rank(x) - rank(y); });
    return base({
      legend: LEGEND, grid: { left: 50, right: 10, top: 10, bottom: 80 },
      // a bar per (snapshot, tier): the axis names the tier by its short label and the date
      // under the first bar of each snapshot only (full names: legend and tooltip)
      xAxis: { type: "category", axisLabel: { interval: 0, fontSize: 10 },
        data: targets.map(function (k, i) {
          var p = split(k), first = i === 0 || split(targets[i - 1])[0] !== p[0];
          return (p[1] === NEW ? c.t(p[1]) : p[1]) + "\n" + (first ? (dates[p[0]] || "#" + p[0]) : "");
        }) },
      tooltip: { trigger: "axis", renderMode: "richText", formatter: function (items) {
        var p = split(targets[items[0].dataIndex]);
        var lines = [(dates[p[0]] || "#" + p[0]) + " · " + c.t(p[1])];
        items.forEach(function (it) { if (it.value) { lines.push(it.seriesName + ": " + it.value); } });
        return lines.join("\n");
      } },
      yAxis: { type: "value" },
      series: sources.map(function (src) {
        return { name: c.t(src), type: "bar", stack: "from",
          data: targets.map(function (k) { return cells[src + "|" + k] || 0; }) };
      })
    });
  }

  function cost(spec, c) {
    return base({
      legend: LEGEND, grid: { left: 70, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: spec.rows.map(function (r) { return c.t(r.tier); }) },
      yAxis: { type: "value" },
      series: [
        { name: c.w.cost, type: "bar", data: spec.rows.map(function (r) { return r.cost; }) },
        { name: c.w.discounts, type: "bar", data: spec.rows.map(function (r) { return r.discounts; }) },
        { name: c.w.gross_profit, type: "bar", data: spec.rows.map(function (r) { return r.gross_profit; }) }
      ]
    });
  }

  // revenue per customer in the horizon by tier, one series per backtested scheme
  function backtestTiers(spec, c) {
    var keys = [];
    spec.runs.forEach(function (run) { run.tiers.forEach(function (r) { if (keys.indexOf(r.tier) < 0) { keys.push(r.tier); } }); });
    return base({
      legend: LEGEND, grid: { left: 70, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: keys.map(c.t) }, yAxis: { type: "value" },
      series: spec.runs.map(function (run) {
        return { name: run.name, type: "bar", data: keys.map(function (k) {
          var r = run.tiers.filter(function (q) { return q.tier === k; })[0];
          return r ? r.revenue_per_customer : null;
        }) };
      })
    });
  }

  // predicted against observed inactivity per band (backtest and drift): the bands are
  // churn-risk labels (spec.risk) or P(alive) ranges
  function churn(spec, c) {
    var key = spec.key || "risk";
    return base({
      legend: LEGEND, grid: { left: 50, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: spec.rows.map(function (r) { return spec.risk ? c.r(r[key]) : String(r[key]); }) },
      yAxis: { type: "value", max: 1 },
      series: [
        { name: c.w.predicted, type: "bar", data: spec.rows.map(function (r) { return r.predicted_inactive; }) },
        { name: c.w.actual, type: "bar", data: spec.rows.map(function (r) { return r.observed_inactive; }) }
      ]
    });
  }

  // predicted against actual by decile of the prediction (expected purchases, CLV)
  function calibration(spec, c) {
    var series = [["predicted", c.w.predicted], ["actual", c.w.actual]];
    if (spec.spend) { series.push(["predicted_spend", c.w.predicted_spend]); }
    return base({
      legend: LEGEND, grid: { left: 60, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: spec.rows.map(function (r) { return r.decile; }) },
      yAxis: { type: "value" },
      series: series.map(function (s) {
        return { name: s[1], type: "line", data: spec.rows.map(function (r) { return r[s[0]]; }) };
      })
    });
  }

  var builders = { over_time: overTime, pareto: pareto, flow: flow, cost: cost,
    backtest: backtestTiers, churn: churn, calibration: calibration };

  function context(el) {
    var holder = el.closest("[data-eval-context]");
    var data = holder ? JSON.parse(holder.getAttribute("data-eval-context")) : {};
    var labels = data.labels || {}, words = data.words || {}, risk = data.risk || {};
    return { labels: labels, w: words,
      t: function (k) { return k === NEW ? (words["new"] || k) : (labels[k] !== undefined ? labels[k] : String(k)); },
      r: function (k) { return risk[k] !== undefined ? risk[k] : String(k); } };
  }

  function draw(scope) {
    if (typeof root.echarts === "undefined") { return 0; }
    var drawn = 0;
    (scope || document).querySelectorAll(".chart[data-eval]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var chart = JSON.parse(el.getAttribute("data-eval"));
      var build = builders[chart.type];
      if (!build) { return; }
      var ec = root.echarts.init(el, null, { renderer: "canvas" });
      ec.setOption(build(chart.spec, context(el)));
      el.dataset.drawn = "1";
      drawn += 1;
      root.addEventListener("resize", function () { ec.resize(); });
    });
    root.__tierwiseCharts = (root.__tierwiseCharts || 0) + drawn;
    return drawn;
  }

  root.TierwiseEvaluation = { builders: builders, draw: draw };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  // a swapped-in backtest panel: whatever htmx names as the target, draw what is new
  document.addEventListener("htmx:afterSwap", function () { draw(document); });
})(window);
