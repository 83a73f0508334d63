/* The territory browser's map: grid polygons in the user's scope (from the API), coloured by community,
   labelled on hover; a click opens the grid's panel (htmx); the selected grid's buildings become markers.
   Over the base map basemap.js sets up (天地图/AMap when configured; else a note and the territory's own layers),
   with two layers the user can switch off: every building in scope and the open cases in scope as pins coloured
   by state (overdue, urgent, being handled, waiting), both clustered when many (leaflet.markercluster); and the
   open hazards of the inspections (安全隐患) as dots coloured by severity (serious red, major orange, minor yellow). */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;

  var strings = JSON.parse(document.getElementById("gz-map-strings").textContent);
  var statusBox = document.getElementById("map-status");
  var panel = document.getElementById("node-panel");
  // Distinct hues for communities; neighbours rarely share one (codes are numbered along the streets).
  var PALETTE = ["#c62828", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457",
                 "#5d4037", "#283593", "#7cb342", "#f9a825", "#37474f", "#d84315", "#0277bd",
                 "#8e24aa", "#00897b", "#9e9d24", "#6d4c41", "#3949ab", "#e91e63"];

  var gz = window.GZMap.create(el, { zoomSnap: 0.25 });
  var map = gz.map;
  el.gzMap = gz;  // for the browser tests
  map.setView([31.23, 121.47], 12);  // replaced by the grids' extent once they arrive

  var gridLayers = {};      // grid id → polygon layer
  var colourOf = {};        // community code → colour
  var gridGroup = gz.track(L.featureGroup().addTo(map));
  var labelGroup = gz.track(L.featureGroup());
  var LABEL_ZOOM = 14.5;
  function showLabels() {
    var want = map.getZoom() >= LABEL_ZOOM;
    if (want && !map.hasLayer(labelGroup)) labelGroup.addTo(map);
    else if (!want && map.hasLayer(labelGroup)) map.removeLayer(labelGroup);
  }
  map.on("zoomend", showLabels);
  var buildingGroup = gz.track(L.featureGroup().addTo(map));
  var selectedGridId = null;
  var buildingRequest = 0;

  function fmt(text, vars) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, key) { return key in vars ? vars[key] : m; });
  }
  var casesNote = "";  // "the 2,000 most urgent of N open cases", kept beside whatever the grids say
  function setStatus(text) { if (statusBox) statusBox.textContent = [text, casesNote].filter(Boolean).join(" · "); }
  var shownStatus = "";
  function status(text) { shownStatus = text || ""; setStatus(shownStatus); }
  function panelUrl(id) { return el.dataset.panelUrl.replace(/\/0\/panel\/$/, "/" + id + "/panel/"); }
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function gridStyle(feature, selected) {
    var colour = colourOf[feature.properties.parent_code] || PALETTE[0];
    return { color: colour, weight: selected ? 4 : 2, opacity: 0.95, fillColor: colour,
             fillOpacity: selected ? 0.34 : 0.16, className: "gz-grid" };
  }

  function openPanel(id) {
    window.htmx.ajax("GET", panelUrl(id), { target: "#node-panel", swap: "innerHTML" });
  }

  function addLegend(communities) {
    if (!communities.length) return;
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "map-legend");
      box.setAttribute("id", "map-legend");
      // A long legend folds away so that it does not cover the map.
      var html = "<details" + (communities.length <= 6 ? " open" : "") + "><summary>" +
        escapeHtml(strings.legend) + " (" + communities.length + ")</summary><ul>";
      communities.forEach(function (c) {
        html += '<li><span class="swatch" style="background:' + colourOf[c.code] + '"></span>' + escapeHtml(c.name) + "</li>";
      });
      box.innerHTML = html + "</ul></details>";
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    legend.addTo(map);
  }

  function loadGrids() {
    status(strings.loading);
    fetch(el.dataset.boundariesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (collection) {
        var features = (collection && collection.features) || [];
        var communities = [];
        features.forEach(function (f) {
          var code = f.properties.parent_code || "";
          if (!(code in colourOf)) {
            colourOf[code] = PALETTE[communities.length % PALETTE.length];
            communities.push({ code: code, name: f.properties.parent_name || code });
          }
        });
        L.geoJSON(collection, {
          style: function (f) { return gridStyle(f, false); },
          onEachFeature: function (f, layer) {
            gridLayers[f.properties.id] = layer;
            var label = "<strong>" + escapeHtml(f.properties.name) + "</strong>";
            if (f.properties.parent_name) label += "<br>" + escapeHtml(f.properties.parent_name);
            if (f.properties.lead_body) label += "<br><small>" + escapeHtml(f.properties.lead_body) + "</small>";
            layer.bindTooltip(label, { sticky: true, direction: "top", className: "gz-tooltip" });
            layer.on("click", function () { openPanel(f.properties.id); });
            // The grid's name on the map when zoomed in (without a base map, the names are the map's words).
            var name = L.marker(layer.getBounds().getCenter(), { interactive: false, keyboard: false,
              icon: L.divIcon({ className: "gz-label", iconSize: null, html: "<span>" + escapeHtml(f.properties.name) + "</span>" }) });
            labelGroup.addLayer(gz.place(name));
            gridGroup.addLayer(gz.place(layer));
            var path = layer.getElement && layer.getElement();
            if (path) {
              path.setAttribute("data-grid-code", f.properties.code);
              path.setAttribute("data-grid-id", f.properties.id);
              path.setAttribute("tabindex", "0");
              path.setAttribute("role", "button");
              path.setAttribute("aria-label", f.properties.name);
              path.addEventListener("keydown", function (evt) {
                if (evt.key === "Enter" || evt.key === " ") { evt.preventDefault(); openPanel(f.properties.id); }
              });
            }
          },
        });
        addLegend(communities);
        showLabels();
        el.dataset.gridCount = String(features.length);
        if (features.length) {
          map.fitBounds(gridGroup.getBounds(), { padding: [24, 24] });
          status(fmt(strings.grids, { count: features.length }));
        } else {
          status(strings.none);
        }
        el.dataset.loaded = "true";
        syncWithPanel();
      })
      .catch(function () {
        el.dataset.loaded = "error";
        status(strings.failed);
      });
  }

  function loadBuildings(gridId, focusId) {
    var ticket = ++buildingRequest;
    buildingGroup.clearLayers();
    var url = el.dataset.nodesUrl + "?parent_id=" + encodeURIComponent(gridId) + "&page_size=500";
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (page) {
        if (ticket !== buildingRequest) return;  // a newer selection won
        var items = (page && page.items) || [];
        var shown = 0;
        items.forEach(function (b) {
          if (b.kind !== "building" || b.centroid_lat == null || b.centroid_lng == null) return;
          var focus = String(b.id) === String(focusId);
          var marker = L.marker([b.centroid_lat, b.centroid_lng], {
            title: b.name, alt: b.name, keyboard: true,
            icon: L.divIcon({ className: "gz-building" + (focus ? " is-focus" : ""), iconSize: [18, 18],
                              html: '<span aria-hidden="true"></span>' }),
          });
          marker.bindTooltip(escapeHtml(b.name), { direction: "top", offset: [0, -8], className: "gz-tooltip" });
          marker.on("click", function () { openPanel(b.id); });
          buildingGroup.addLayer(gz.place(marker));
          var node = marker.getElement();
          if (node) { node.setAttribute("data-building-id", b.id); node.setAttribute("data-building-code", b.code); }
          if (focus) marker.openTooltip();
          shown += 1;
        });
        el.dataset.buildingCount = String(shown);
      })
      .catch(function () { el.dataset.buildingCount = "error"; });
  }

  function markTree(nodeId) {
    document.querySelectorAll(".tree-node.is-selected").forEach(function (li) {
      li.classList.remove("is-selected");
      li.removeAttribute("aria-selected");
    });
    if (!nodeId) return;
    document.querySelectorAll('.tree-node[data-node-id="' + nodeId + '"]').forEach(function (li) {
      li.classList.add("is-selected");
      li.setAttribute("aria-selected", "true");
    });
  }

  function syncWithPanel() {
    var detail = panel && panel.querySelector("#node-detail");
    Object.keys(gridLayers).forEach(function (id) {
      gridLayers[id].setStyle(gridStyle(gridLayers[id].feature, false));
    });
    selectedGridId = null;
    if (!detail) { buildingGroup.clearLayers(); markTree(null); return; }
    markTree(detail.dataset.nodeId);
    var gridId = detail.dataset.gridId;
    if (gridId && gridLayers[gridId]) {
      var layer = gridLayers[gridId];
      selectedGridId = gridId;
      layer.setStyle(gridStyle(layer.feature, true));
      layer.bringToFront();
      map.fitBounds(layer.getBounds(), { padding: [32, 32], maxZoom: 17 });
      el.dataset.selectedGrid = layer.feature.properties.code;
      loadBuildings(gridId, detail.dataset.nodeKind === "building" ? detail.dataset.nodeId : null);
      return;
    }
    // A community or the subdistrict: show the grids under it.
    buildingGroup.clearLayers();
    delete el.dataset.selectedGrid;
    var code = detail.dataset.nodeCode || "";
    var bounds = null;
    Object.keys(gridLayers).forEach(function (id) {
      var layer = gridLayers[id];
      if (layer.feature.properties.code.indexOf(code) === 0) {
        bounds = bounds ? bounds.extend(layer.getBounds()) : L.latLngBounds(layer.getBounds().getSouthWest(), layer.getBounds().getNorthEast());
      }
    });
    if (bounds) map.fitBounds(bounds, { padding: [24, 24] });
  }

  // --- every building and the open cases in scope, clustered ---------------------------------------------------
  function loadLayers() {
    var buildingsUrl = el.dataset.buildingPointsUrl, casesUrl = el.dataset.casePinsUrl;
    if (buildingsUrl) {
      var allBuildings = gz.track(GZMap.buildingCluster());
      gz.overlay(gz.strings.buildings || "", allBuildings);
      fetch(buildingsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (page) {
          var markers = (page.items || []).map(function (b) {
            var m = L.marker([b.lat, b.lng], { keyboard: false,
              icon: L.divIcon({ className: "gz-building-dot", iconSize: [10, 10], html: "<span></span>" }) });
            m.bindTooltip(escapeHtml(b.name), { direction: "top", className: "gz-tooltip" });
            m.on("click", function () { openPanel(b.id); });
            return gz.place(m);
          });
          allBuildings.addLayers ? allBuildings.addLayers(markers) : markers.forEach(function (m) { allBuildings.addLayer(m); });
          allBuildings.addTo(map);
          el.dataset.allBuildingCount = String(markers.length);
        })
        .catch(function () { el.dataset.allBuildingCount = "error"; });
    }
    if (casesUrl) {
      var pins = gz.track(GZMap.caseCluster());
      gz.overlay(gz.strings.cases || "", pins);
      fetch(casesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (page) {
          var markers = (page.items || []).map(function (c) {
            var m = GZMap.casePin(c);
            m.bindTooltip("<strong>" + escapeHtml(c.number) + "</strong> " + escapeHtml(c.status_label) + "<br>" +
                          escapeHtml(c.title), { direction: "top", offset: [0, -14], className: "gz-tooltip" });
            m.on("click", function () { window.location.href = el.dataset.caseUrl.replace(/\/0\/$/, "/" + c.id + "/"); });
            return gz.place(m);
          });
          pins.addLayers ? pins.addLayers(markers) : markers.forEach(function (m) { pins.addLayer(m); });
          pins.addTo(map);
          if (markers.length) GZMap.caseKey(map, gz.strings);
          el.dataset.caseCount = String(markers.length);
          el.dataset.caseTotal = String(page.total);
          if (page.truncated) {
            casesNote = fmt(gz.strings.cases_truncated || "", { shown: markers.length, total: page.total });
            setStatus(shownStatus);
          }
        })
        .catch(function () { el.dataset.caseCount = "error"; });
    }
  }

  // --- open hazards by severity (inspections) -----------------------------------------------------------------
  var HAZARD_COLOURS = { serious: "#c62828", major: "#ef6c00", minor: "#f9a825" };
  function loadHazards() {
    var url = el.dataset.hazardPinsUrl;
    if (!url) return;
    var group = gz.track(L.featureGroup());
    gz.overlay(el.dataset.hazardsLabel || "", group);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (page) {
        (page.items || []).forEach(function (h) {
          var colour = HAZARD_COLOURS[h.severity] || HAZARD_COLOURS.minor;
          var m = L.circleMarker([h.lat, h.lng], { radius: h.severity === "serious" ? 9 : 7, color: "#212121", weight: 3,
            fillColor: colour, fillOpacity: 0.95, className: "gz-hazard gz-hazard-" + h.severity });
          m.bindTooltip("<strong>" + escapeHtml(h.severity_label) + "</strong> " + escapeHtml(h.building) + "<br>" +
                        escapeHtml(h.title), { direction: "top", className: "gz-tooltip" });
          m.on("click", function () { window.location.href = el.dataset.hazardUrl.replace(/\/0\/$/, "/" + h.id + "/"); });
          group.addLayer(gz.place(m));
        });
        group.addTo(map);
        el.dataset.hazardCount = String((page.items || []).length);
      })
      .catch(function () { el.dataset.hazardCount = "error"; });
  }

  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "node-panel" && el.dataset.loaded === "true") syncWithPanel();
  });

  loadGrids();
  loadLayers();
  loadHazards();
})();
