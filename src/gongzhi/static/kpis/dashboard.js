/* The KPI pages' charts (Apache ECharts) and grid map (Leaflet).
   Data comes from the page (json_script "kpi-data" / "kpi-me-data") and, for the map, from kpis-map-data.
   Every bar, slice and grid links to the cases behind it (the drill-down URLs come with the data).
   window.GzKpis is shared with screen.js (the big screen), which redraws with fresh data every minute. */
(function () {
  "use strict";

  var charts = {};
  var theme = { dark: false };

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function textColour() { return theme.dark ? "#d9e6ff" : "#333"; }
  // Chinese text on canvas: a CJK font stack (without one, a wall screen fell back to a Latin serif).
  var FONT = '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", ' +
    '"WenQuanYi Micro Hei", system-ui, sans-serif';

  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    if (!charts[id]) {
      charts[id] = window.echarts.init(el, theme.dark ? "dark" : null, { renderer: "canvas" });
      charts[id].on("click", function (params) {
        var url = params.data && params.data.url;
        if (url && !theme.dark) window.location.href = url;
      });
      el.dataset.ready = "true";
    }
    return charts[id];
  }

  function drawTrend(data, strings) {
    var c = chart("chart-trend");
    if (!c || !data) return;
    c.setOption({
      backgroundColor: "transparent",
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: { color: textColour() } },
      grid: { left: 44, right: 44, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.labels, axisLabel: { hideOverlap: true } },
      yAxis: [
        { type: "value", name: strings.cases, minInterval: 1 },
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } },
      ],
      series: [
        { name: strings.intake, type: "bar", itemStyle: { color: "#5b8ff9" },
          data: data.intake.map(function (v, i) { return { value: v, url: data.urls[i] }; }) },
        { name: strings.ontime_disposal, type: "line", yAxisIndex: 1, smooth: true, connectNulls: true,
          itemStyle: { color: "#f6903d" }, data: data.ontime_disposal },
        { name: strings.satisfaction, type: "line", yAxisIndex: 1, smooth: true, connectNulls: true,
          itemStyle: { color: "#30bf78" }, data: data.satisfaction },
      ],
    }, true);
  }

  function drawBars(id, points, strings) {
    var c = chart(id);
    if (!c || !points) return;
    var sorted = points.slice().sort(function (a, b) { return (a.value || 0) - (b.value || 0); });
    c.setOption({
      backgroundColor: "transparent",
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: sorted.map(function (p) { return p.name; }),
               axisLabel: { width: 110, overflow: "break", lineHeight: 14 } },
      series: [{ name: strings.intake, type: "bar", itemStyle: { color: "#5b8ff9" }, data: sorted }],
    }, true);
  }

  function drawPie(id, points) {
    var c = chart(id);
    if (!c || !points) return;
    c.setOption({
      backgroundColor: "transparent",
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0, type: "scroll", textStyle: { color: textColour() } },
      series: [{
        type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
        label: { formatter: "{b}\n{d}%", color: textColour(), width: 100, overflow: "break" },
        labelLayout: { hideOverlap: true },
        data: points.filter(function (p) { return p.value; }),
      }],
    }, true);
  }

  function drawAll(data) {
    var s = data.strings;
    drawTrend(data.trend, s);
    drawBars("chart-category", data.category, s);
    drawPie("chart-tier", data.tier);
    drawBars("chart-channel", data.channel, s);
  }

  // --- the map --------------------------------------------------------------------------------------------------

  // The colour scale spans the values on the map (lowest → highest), so grids that differ by a few points still
  // look different; a rate is red where it is worst and green where it is best, a count (intake) is blue.
  function colourFor(value, meta, range) {
    if (value == null) return theme.dark ? "#3a4660" : "#c8c8c8";
    var span = range.hi - range.lo;
    var t = span > 0 ? Math.max(0, Math.min(1, (value - range.lo) / span)) : 1;
    if (range.count) return "rgba(91,143,249," + (0.2 + 0.8 * t).toFixed(2) + ")";
    if (!meta.higher) t = 1 - t;
    return "hsl(" + Math.round(120 * t) + ",70%,45%)";  // red (bad) → amber → green (good)
  }

  function drawMap(kpis, strings) {
    var el = document.getElementById("kpi-map");
    if (!el || !window.L) return null;
    var select = document.getElementById("map-kpi");
    var status = document.getElementById("kpi-map-status");
    // The base map (basemap.js: 天地图/AMap or a "no base map" note) where the page configures one.
    var gz = window.GZMap && document.getElementById("gz-basemaps") ? window.GZMap.create(el, { zoomSnap: 0.25 }) : null;
    var map = gz ? gz.map : L.map(el, { zoomSnap: 0.25, attributionControl: false, minZoom: 3 });
    if (gz) gz.onModeChange(function () { if (layer) gz.place(layer); });
    map.setView([31.23, 121.47], 12);
    var layer = null;
    var legend = null;
    var collection = null;

    function currentKpi() { return select ? select.value : (el.dataset.kpi || "ontime_disposal"); }

    function popupHtml(props, key) {
      var html = "<strong>" + escapeHtml(props.name) + "</strong>";
      if (props.parent_name) html += "<br><small>" + escapeHtml(props.parent_name) + "</small>";
      html += '<table class="kpi-popup">';
      Object.keys(props.shown).forEach(function (k) {
        var label = kpis[k] ? kpis[k].label : k;
        html += "<tr" + (k === key ? ' class="is-current"' : "") + "><th>" + escapeHtml(label) + "</th><td>" +
          escapeHtml(props.shown[k]) + "</td></tr>";
      });
      html += "</table>";
      var drillKpi = key === "score" ? "ontime_disposal" : key;
      var part = kpis[drillKpi].part || "num";
      var url = el.dataset.drillUrl + "?" + props.query + "&kpi=" + encodeURIComponent(drillKpi) + "&part=" + part;
      html += '<a class="kpi-popup-link" href="' + escapeHtml(url) + '">' + escapeHtml(strings.open_cases) + "</a>";
      return html;
    }

    function paint() {
      if (!collection) return;
      var key = currentKpi();
      var meta = kpis[key] || { rate: false, higher: true };
      var values = collection.features.map(function (f) { return f.properties.figures[key]; })
        .filter(function (v) { return v != null; });
      var range = { lo: values.length ? Math.min.apply(null, values) : 0,
                    hi: values.length ? Math.max.apply(null, values) : 0,
                    count: !meta.rate && key !== "score" };
      if (range.count) range.lo = 0;
      if (layer) map.removeLayer(layer);
      layer = L.geoJSON(collection, {
        style: function (f) {
          var colour = colourFor(f.properties.figures[key], meta, range);
          return { color: theme.dark ? "#9fb4d9" : "#555", weight: 1.5, fillColor: colour, fillOpacity: 0.75,
                   className: "kpi-grid" };
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(escapeHtml(f.properties.name) + ": " + escapeHtml(f.properties.shown[key]),
                        { sticky: true, className: "gz-tooltip" });
          if (!theme.dark) l.bindPopup(popupHtml(f.properties, key));
        },
      });
      (gz ? gz.place(layer) : layer).addTo(map);
      layer.eachLayer(function (l) {
        var path = l.getElement && l.getElement();
        if (path) {
          path.setAttribute("data-grid-code", l.feature.properties.code);
          path.setAttribute("data-value", l.feature.properties.shown[key]);
        }
      });
      if (legend) map.removeControl(legend);
      legend = L.control({ position: "bottomright" });
      legend.onAdd = function () {
        var box = L.DomUtil.create("div", "map-legend kpi-legend");
        box.id = "kpi-map-legend";
        var steps = [0, 0.25, 0.5, 0.75, 1].map(function (t) { return range.lo + t * (range.hi - range.lo); });
        var html = "<strong>" + escapeHtml(meta.label || key) + "</strong><ul>";
        steps.forEach(function (v) {
          var shown = meta.rate ? (v * 100).toFixed(1) + "%" : (range.count ? String(Math.round(v)) : v.toFixed(1));
          html += '<li><span class="swatch" style="background:' + colourFor(v, meta, range) + '"></span>' +
            escapeHtml(shown) + "</li>";
        });
        html += '<li><span class="swatch" style="background:' + colourFor(null, meta, range) + '"></span>' +
          escapeHtml(strings.no_data) + "</li>";
        box.innerHTML = html + "</ul>";
        return box;
      };
      legend.addTo(map);
    }

    function load(url) {
      return fetch(url || el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (data) {
          var first = collection === null;
          collection = data;
          paint();
          el.dataset.gridCount = String(data.features.length);
          if (first && data.features.length) map.fitBounds(layer.getBounds(), { padding: [16, 16] });
          if (status) status.textContent = data.features.length ? "" : strings.map_none;
          el.dataset.loaded = "true";
        })
        .catch(function () {
          el.dataset.loaded = "error";
          if (status) status.textContent = strings.map_failed;
        });
    }

    if (select) select.addEventListener("change", paint);
    load();
    return { reload: load, map: map };
  }

  function drawMe(data) {
    var c = chart("chart-me");
    if (!c || !data) return;
    var s = data.strings;
    c.setOption({
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 36, right: 40, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.labels, axisLabel: { hideOverlap: true } },
      yAxis: [{ type: "value", minInterval: 1 },
              { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }],
      series: [
        { name: s.disposed, type: "bar", data: data.disposed, itemStyle: { color: "#5b8ff9" } },
        { name: s.reported, type: "bar", data: data.reported, itemStyle: { color: "#9fb4d9" } },
        { name: s.ontime_disposal, type: "line", yAxisIndex: 1, connectNulls: true, data: data.ontime_disposal,
          itemStyle: { color: "#f6903d" } },
      ],
    });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });

  window.GzKpis = {
    setDark: function (dark) { theme.dark = !!dark; },
    drawAll: drawAll,
    drawMap: drawMap,
    readJson: readJson,
  };

  // The dashboard and "my performance" draw themselves; the big screen is driven by screen.js.
  if (document.getElementById("kpis-dashboard")) {
    var data = readJson("kpi-data");
    drawAll(data);
    drawMap(data.kpis, data.strings);
  }
  var me = readJson("kpi-me-data");
  if (me) drawMe(me);
})();
