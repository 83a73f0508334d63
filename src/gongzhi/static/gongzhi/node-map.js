/* A place's own page (territory/node.html): a map of it over the base map (basemap.js) — the grids of the place
   (or of the grid a building stands in), its buildings (the page's building highlighted) and its open cases as
   pins coloured by state, clustered when many. */
(function () {
  "use strict";
  var el = document.getElementById("node-map");
  if (!el || !window.L || !window.GZMap) return;
  var gz = GZMap.create(el, { zoomSnap: 0.25 });
  var map = gz.map;
  el.gzMap = gz;
  map.setView([31.23, 121.47], 12);
  var area = el.dataset.areaId, focus = el.dataset.focusId;

  function json(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }
  function within(url) { return url + (url.indexOf("?") < 0 ? "?" : "&") + "within_id=" + encodeURIComponent(area); }
  function addAll(group, markers) {
    if (group.addLayers) group.addLayers(markers); else markers.forEach(function (m) { group.addLayer(m); });
  }

  var grids = gz.track(L.featureGroup().addTo(map));
  var buildings = gz.track(GZMap.buildingCluster({ maxClusterRadius: 40 }));
  var pins = gz.track(GZMap.caseCluster({ maxClusterRadius: 40 }));
  gz.overlay(gz.strings.buildings || "", buildings);
  gz.overlay(gz.strings.cases || "", pins);
  var focusAt = null;

  var loadGrids = json(within(el.dataset.boundariesUrl)).then(function (collection) {
    L.geoJSON(collection, {
      style: function () { return { color: "#1f5fa8", weight: 2, fillColor: "#1f5fa8", fillOpacity: 0.08 }; },
      onEachFeature: function (f, l) {
        l.bindTooltip(f.properties.name, { sticky: true, className: "gz-tooltip" });
        grids.addLayer(gz.place(l));
      },
    });
    el.dataset.gridCount = String((collection.features || []).length);
  });
  var loadBuildings = json(within(el.dataset.buildingPointsUrl)).then(function (page) {
    addAll(buildings, (page.items || []).map(function (b) {
      var isFocus = String(b.id) === String(focus);
      var m = L.marker([b.lat, b.lng], { title: b.name, alt: b.name, zIndexOffset: isFocus ? 1000 : 0,
        icon: L.divIcon({ className: isFocus ? "gz-building is-focus" : "gz-building-dot", iconSize: isFocus ? [18, 18] : [10, 10],
                          html: "<span></span>" }) });
      m.bindTooltip(b.name, { direction: "top", className: "gz-tooltip" });
      m.on("click", function () { window.location.href = el.dataset.nodeUrl.replace(/\/0\/$/, "/" + b.id + "/"); });
      if (isFocus) focusAt = [b.lat, b.lng];
      return gz.place(m);
    }));
    buildings.addTo(map);
    el.dataset.buildingCount = String((page.items || []).length);
  });
  var loadCases = json(within(el.dataset.casePinsUrl)).then(function (page) {
    addAll(pins, (page.items || []).map(function (c) {
      var m = GZMap.casePin(c);
      m.bindTooltip(c.number + " " + c.status_label + " · " + c.title, { direction: "top", offset: [0, -14], className: "gz-tooltip" });
      m.on("click", function () { window.location.href = el.dataset.caseUrl.replace(/\/0\/$/, "/" + c.id + "/"); });
      return gz.place(m);
    }));
    pins.addTo(map);
    if ((page.items || []).length) GZMap.caseKey(map, gz.strings);
    el.dataset.caseCount = String((page.items || []).length);
  }).catch(function () { el.dataset.caseCount = "0"; });  // a role that reads no cases: the map without them

  Promise.all([loadGrids, loadBuildings]).then(function () {
    if (focusAt) map.setView(gz.toMap(focusAt[0], focusAt[1]), 17);
    else if (grids.getLayers().length) map.fitBounds(grids.getBounds(), { padding: [16, 16] });
    else if (buildings.getLayers().length) map.fitBounds(buildings.getBounds(), { padding: [16, 16], maxZoom: 17 });
    return loadCases;
  }).then(function () { el.dataset.loaded = "true"; })
    .catch(function () { el.dataset.loaded = "error"; });
})();
