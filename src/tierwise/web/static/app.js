// Tierwise: draws every .chart from its data-chart JSON with the vendored ECharts.
// No inline scripts anywhere (the Content Security Policy forbids them); pages carry data only.
(function () {
  "use strict";
  var palette = ["#1f6feb", "#2da44e", "#d29922", "#cf222e", "#8250df", "#0a7ea4", "#bc4c00", "#57606a", "#1b7c83", "#a475f9"];

  function pie(spec) {
    return {
      color: palette,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)", renderMode: "richText" },
      legend: { type: "scroll", bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], top: 0, bottom: 30, label: { formatter: "{b}\n{d}%" },
        data: spec.items.map(function (i) { return { name: i.text, value: i.count }; }) }]
    };
  }

  function bar(spec) {
    return {
      color: palette,
      tooltip: { trigger: "axis", renderMode: "richText" },
      grid: { left: 40, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: spec.items.map(function (i) { return i.text; }), axisLabel: { rotate: 30, interval: 0 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: spec.items.map(function (i) { return i.count; }) }]
    };
  }

  function value(spec) {
    var measures = ["revenue_365d", "monetary_total", "gross_profit_total"].filter(function (m) {
      return spec.rows.length && Object.prototype.hasOwnProperty.call(spec.rows[0], m);
    });
    return {
      color: palette,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { bottom: 0 },
      grid: { left: 70, right: 50, top: 10, bottom: 50 },
      xAxis: { type: "category", data: spec.rows.map(function (r) { return r.text; }) },
      yAxis: [{ type: "value" }, { type: "value", name: spec.names.customers }],
      series: measures.map(function (m) {
        return { name: spec.names[m], type: "bar", data: spec.rows.map(function (r) { return r[m]; }) };
      }).concat([{ name: spec.names.customers, type: "line", yAxisIndex: 1, data: spec.rows.map(function (r) { return r.count; }) }])
    };
  }

  // the evaluation page's charts (and the report's) are drawn by evaluation.js
  var builders = { pie: pie, bar: bar, value: value };

  function draw(root) {
    if (typeof echarts === "undefined") { return; }
    (root || document).querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var spec = JSON.parse(el.dataset.chart);
      var build = builders[spec.type];
      if (!build) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(spec));
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // the override form: offer only the labels of the chosen dimension
  function linkOverride() {
    var dim = document.getElementById("override-dimension");
    var label = document.getElementById("override-label");
    if (!dim || !label) { return; }
    function sync() {
      var first = null;
      label.querySelectorAll("optgroup").forEach(function (g) {
        var on = g.dataset.dimension === dim.value;
        g.hidden = !on; g.disabled = !on;
        if (on && !first) { first = g.querySelector("option"); }
      });
      if (first) { label.value = first.value; }
    }
    dim.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); linkOverride(); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();
