/* The big screen (大屏): dark charts and map, a clock, and fresh figures every minute without a reload. */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root || !window.GzKpis) return;
  var K = window.GzKpis;
  K.setDark(true);
  var data = K.readJson("kpi-data");
  var kpis = data.kpis;
  var strings = data.strings;
  K.drawAll(data);
  var map = K.drawMap(kpis, strings);

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) el.textContent = value == null ? "—" : value;
  }
  function list(id, rows) {
    var el = document.getElementById(id);
    if (!el) return;
    el.innerHTML = "";
    rows.forEach(function (r) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = r.name;
      var score = document.createElement("strong");
      score.textContent = r.score;
      li.appendChild(name);
      li.appendChild(score);
      el.appendChild(li);
    });
  }
  function update(fresh) {
    fresh.strings = strings;
    fresh.kpis = kpis;
    K.drawAll(fresh);
    fresh.headline.forEach(function (h) { text("screen-" + h.key, h.display); });
    text("screen-score", fresh.score);
    text("screen-cycle", fresh.cycle_mean);
    text("screen-as-of", fresh.as_of || "—");
    list("screen-top", fresh.top);
    list("screen-bottom", fresh.bottom);
    root.dataset.refreshedAt = new Date().toISOString();
    root.dataset.refreshes = String(Number(root.dataset.refreshes || "0") + 1);
  }
  function refresh() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (fresh) {
        update(fresh);
        if (map) map.reload();
      })
      .catch(function () { root.dataset.refreshError = new Date().toISOString(); });
  }
  function tick() {
    var now = new Date();
    function two(n) { return (n < 10 ? "0" : "") + n; }
    text("screen-clock", now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate()) + " " +
      two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds()));
  }
  tick();
  setInterval(tick, 1000);
  setInterval(refresh, 1000 * Number(root.dataset.refresh || 60));
})();
