/* The monthly report page: the print button and the ECharts charts (data from the json_script "report-data"). */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var article = document.getElementById("kpi-report");
    var printButton = document.getElementById("report-print");
    if (printButton) printButton.addEventListener("click", function () { window.print(); });
    var dataNode = document.getElementById("report-data");
    if (!article || !dataNode || typeof window.echarts === "undefined") return;
    var data = JSON.parse(dataNode.textContent);
    var label = function (name) { return article.dataset["label" + name] || name; };
    var charts = [];
    var base = { animation: false, grid: { left: 40, right: 40, top: 36, bottom: 40, containLabel: true },
                 tooltip: { trigger: "axis" } };

    function draw(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(Object.assign({}, base, option));
      charts.push(chart);
    }

    draw("chart-days", {
      legend: { data: [label("Intake"), label("Closed")] },
      xAxis: { type: "category", data: data.days.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: label("Intake"), type: "bar", data: data.days.intake, itemStyle: { color: "#c8322b" } },
        { name: label("Closed"), type: "line", data: data.days.closed, itemStyle: { color: "#1f5fae" } }
      ]
    });
    if (data.places.labels.length) {
      draw("chart-places", {
        legend: { data: [label("Intake"), label("Ontime")] },
        xAxis: { type: "category", data: data.places.labels, axisLabel: { interval: 0, rotate: 30 } },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
        series: [
          { name: label("Intake"), type: "bar", data: data.places.intake, itemStyle: { color: "#c8322b" } },
          { name: label("Ontime"), type: "line", yAxisIndex: 1, data: data.places.ontime_disposal, connectNulls: false,
            itemStyle: { color: "#2e7d4f" } }
        ]
      });
    }
    var pie = function (rows) {
      return { tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" }, grid: undefined,
               series: [{ type: "pie", radius: ["35%", "65%"], data: rows, label: { formatter: "{b}\n{c}" } }] };
    };
    draw("chart-majors", pie(data.majors));
    draw("chart-channels", pie(data.channels));
    draw("chart-tiers", {
      xAxis: { type: "category", data: data.tiers.labels, axisLabel: { interval: 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: label("Solved"), type: "bar", data: data.tiers.solved, itemStyle: { color: "#b7791f" } }]
    });

    var resize = function () { charts.forEach(function (c) { c.resize(); }); };
    window.addEventListener("resize", resize);
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
  });
})();
