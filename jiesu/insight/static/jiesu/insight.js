/* Jiesu insight: draws the charts of a page from the JSON in #insight-charts with Apache
   ECharts, served by Jiesu itself (data-echarts on #insight-charts-lib). Each chart's numbers are
   also in a table next to it, so nothing depends on this script. Runs on a full page load and
   again after the desk's htmx navigation swaps the page in. */
(function () {
  "use strict";
  if (window.JiesuInsight) { window.JiesuInsight.render(); return; }

  var charts = [];

  function loadLibrary(src, done) {
    if (window.echarts) { done(); return; }
    var existing = document.querySelector("script[data-echarts-lib]");
    if (existing) { existing.addEventListener("load", done); return; }
    var s = document.createElement("script");
    s.src = src;
    s.setAttribute("data-echarts-lib", "1");
    s.onload = done;
    document.head.appendChild(s);
  }

  function tileOption(d) {
    var cols = 1, rows = 1;
    d.tiles.forEach(function (t) { cols = Math.max(cols, t.col + 1); rows = Math.max(rows, t.row + 1); });
    var visual = {
      min: 0, max: d.max, dimension: 2, orient: "horizontal", left: "center", bottom: 0,
      itemHeight: 120, text: [String(d.max), "0"], inRange: { color: ["#e8f0f8", "#0b4f8a"] }
    };
    if (d.geojson) {  // real district outlines, from the areas' boundaries
      window.echarts.registerMap("jiesu-districts", d.geojson);
      visual.dimension = undefined;
      return {
        tooltip: { trigger: "item" }, visualMap: visual,
        series: [{ type: "map", map: "jiesu-districts", roam: false, label: { show: true, fontSize: 10 },
          data: d.tiles.map(function (t) { return { name: t.name, value: t.value }; }) }]
      };
    }
    return {
      tooltip: { formatter: function (p) { return p.data.name + ": " + p.data.value[2]; } },
      visualMap: visual,
      grid: { left: 4, right: 4, top: 4, bottom: 44 },
      xAxis: { type: "value", min: -0.5, max: cols - 0.5, show: false },
      yAxis: { type: "value", min: -0.5, max: rows - 0.5, inverse: true, show: false },
      series: [{
        type: "custom", coordinateSystem: "cartesian2d", encode: { x: 0, y: 1, tooltip: 2 },
        data: d.tiles.map(function (t) { return { name: t.name, value: [t.col, t.row, t.value] }; }),
        renderItem: function (params, api) {
          var c = api.coord([api.value(0), api.value(1)]);
          var s = api.size([1, 1]);
          var w = s[0] - 4, h = s[1] - 4, v = api.value(2);
          return { type: "group", children: [
            { type: "rect", shape: { x: c[0] - w / 2, y: c[1] - h / 2, width: w, height: h, r: 3 },
              style: { fill: api.visual("color"), stroke: "#fff" } },
            { type: "text", style: { x: c[0], y: c[1], text: d.tiles[params.dataIndex].name + "\n" + v,
              align: "center", verticalAlign: "middle", font: "12px sans-serif",
              fill: v > d.max * 0.55 ? "#fff" : "#1b1f24" } }
          ] };
        }
      }]
    };
  }

  function render() {
    var holder = document.getElementById("insight-charts");
    var lib = document.getElementById("insight-charts-lib");
    if (!holder || !lib || !lib.getAttribute("data-echarts")) return;
    var options = JSON.parse(holder.textContent);
    loadLibrary(lib.getAttribute("data-echarts"), function () {
      dispose();
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        var key = el.getAttribute("data-chart");
        var opt = options[key];
        if (!opt) return;
        var chart = window.echarts.init(el, null, { renderer: "canvas" });
        chart.setOption(key === "tiles" ? tileOption(opt) : opt, true);
        el.setAttribute("data-rendered", "1");
        charts.push(chart);
      });
    });
  }

  function dispose() {
    charts.forEach(function (c) { if (!c.isDisposed()) c.dispose(); });
    charts = [];
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.addEventListener("htmx:beforeSwap", dispose);
  window.JiesuInsight = { render: render };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
