/* Base maps for every Leaflet map of the site (docs/maps.md).

   GZMap.create(element, leafletOptions) makes the map with the base layers the page's JSON block "gz-basemaps"
   lists ({% base_map_config %}: 天地图 vector/imagery with their annotation layers, 高德 AMap, a tile server of
   one's own), a layer switcher when there is more than one, and a note on the map when there is none.

   Everything the pages draw is WGS-84 (as stored). 天地图 (CGCS2000) takes it as it is; AMap tiles are GCJ-02, so
   while an AMap layer is shown the drawn layers are moved to GCJ-02 (the formula of territory/coords.py) and moved
   back when the user switches to a WGS-84 layer. A page:
     - draws its layers from WGS-84 data and passes each new layer through gz.place(layer) (a marker, a path or a
       group: its WGS-84 position is remembered, and it is shown where the current base map wants it);
     - registers the groups it keeps adding to with gz.track(group), so that a switch moves what they hold;
     - converts a point the user picks with gz.toWgs(latlng) before using it (forms store WGS-84).
*/
(function () {
  "use strict";
  if (!window.L) return;

  // --- GCJ-02 (same constants and formula as gongzhi/territory/coords.py) --------------------------------------
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function outOfChina(lat, lng) { return !(lng >= 72.004 && lng <= 137.8347 && lat >= 0.8293 && lat <= 55.8271); }
  function tLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }
  function toGcj(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var dLat = tLat(lng - 105.0, lat - 35.0), dLng = tLng(lng - 105.0, lat - 35.0);
    var rad = lat / 180.0 * PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sq) * PI);
    dLng = (dLng * 180.0) / (A / sq * Math.cos(rad) * PI);
    return [lat + dLat, lng + dLng];
  }
  function fromGcj(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var w = [lat, lng];
    for (var i = 0; i < 10; i++) {
      var g = toGcj(w[0], w[1]), dLat = g[0] - lat, dLng = g[1] - lng;
      w = [w[0] - dLat, w[1] - dLng];
      if (Math.abs(dLat) < 1e-9 && Math.abs(dLng) < 1e-9) break;
    }
    return w;
  }

  function readConfig() {
    var el = document.getElementById("gz-basemaps");
    try { return el ? JSON.parse(el.textContent) : { layers: [], strings: {} }; }
    catch (e) { return { layers: [], strings: {} }; }
  }

  function create(element, options) {
    var config = readConfig();
    var S = config.strings || {};
    var map = L.map(element, L.extend({ zoomSnap: 0.25, attributionControl: false, minZoom: 3, maxZoom: 19 }, options || {}));
    var mode = "wgs84";
    var tracked = [];
    var listeners = [];
    var bases = {};
    var baseCrs = {};
    var control = null;

    // A layer's display position for its WGS-84 one in the current mode.
    function show(ll) {
      if (mode !== "gcj02") return L.latLng(ll.lat, ll.lng);
      var g = toGcj(ll.lat, ll.lng);
      return L.latLng(g[0], g[1]);
    }
    function deep(latlngs, fn) {
      return latlngs.map(function (x) { return Array.isArray(x) ? deep(x, fn) : fn(x); });
    }
    function isCluster(layer) { return L.MarkerClusterGroup && layer instanceof L.MarkerClusterGroup; }
    function placeLeaf(layer) {
      if (layer._gzMode === mode) return;
      if (layer.getLatLng && layer.setLatLng) {
        if (!layer._gzWgs) layer._gzWgs = layer.getLatLng();
        layer.setLatLng(show(layer._gzWgs));
      } else if (layer.getLatLngs && layer.setLatLngs) {
        if (!layer._gzWgs) layer._gzWgs = deep(layer.getLatLngs(), function (ll) { return L.latLng(ll.lat, ll.lng); });
        layer.setLatLngs(deep(layer._gzWgs, show));
      }
      layer._gzMode = mode;
    }
    function place(layer) {
      if (isCluster(layer)) {
        var children = layer.getLayers();
        var stale = children.filter(function (c) { return c._gzMode !== mode && (mode !== "wgs84" || c._gzMode); });
        if (stale.length) {  // re-cluster once rather than marker by marker
          layer.removeLayers(stale);
          stale.forEach(placeLeaf);
          layer.addLayers(stale);
        }
      } else if (layer instanceof L.LayerGroup) {
        layer.eachLayer(place);
      } else if (mode !== "wgs84" || layer._gzMode) {
        placeLeaf(layer);
      }
      return layer;
    }
    // Set a marker's WGS-84 position (e.g. a picked point) and show it where the base map wants it.
    function setWgs(layer, lat, lng) {
      layer._gzWgs = L.latLng(lat, lng);
      layer._gzMode = null;
      if (mode === "wgs84") { layer.setLatLng(layer._gzWgs); layer._gzMode = mode; } else { placeLeaf(layer); }
      return layer;
    }
    function toWgs(latlng) {
      if (mode !== "gcj02") return L.latLng(latlng.lat, latlng.lng);
      var w = fromGcj(latlng.lat, latlng.lng);
      return L.latLng(w[0], w[1]);
    }
    function toMap(lat, lng) { return show(L.latLng(lat, lng)); }

    (config.layers || []).forEach(function (def, i) {
      var group = L.layerGroup(def.tiles.map(function (t) {
        return L.tileLayer(t.url, { subdomains: t.subdomains || "abc", maxZoom: t.maxZoom || 18, maxNativeZoom: t.maxZoom || 18,
                                    attribution: def.attribution || "", referrerPolicy: t.referrerPolicy || false });
      }));
      bases[def.name] = group;
      baseCrs[L.stamp(group)] = def.crs;
      group._gzId = def.id;
      if (i === 0) {
        group.addTo(map);
        mode = def.crs;
        element.dataset.baseLayer = def.id;
      }
    });
    element.dataset.baseMode = mode;

    if (!(config.layers || []).length) {
      element.classList.add("no-base-map");
      var note = L.control({ position: "topright" });
      note.onAdd = function () {
        var box = L.DomUtil.create("div", "map-note no-base-map-note");
        box.id = element.id + "-no-base-map";
        box.setAttribute("role", "note");
        var title = L.DomUtil.create("strong", "", box);
        title.textContent = S.no_base_map || "";
        var hint = L.DomUtil.create("span", "hint", box);
        hint.textContent = S.no_base_map_hint || "";
        return box;
      };
      note.addTo(map);
    } else {
      element.classList.add("has-tiles");
      L.control.attribution({ prefix: false }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);

    map.on("baselayerchange", function (evt) {
      var next = baseCrs[L.stamp(evt.layer)] || "wgs84";
      element.dataset.baseLayer = evt.layer._gzId || "";
      if (next === mode) return;
      var centre = toWgs(map.getCenter());
      mode = next;
      element.dataset.baseMode = mode;
      tracked.forEach(place);
      map.setView(show(centre), map.getZoom(), { animate: false });
      listeners.forEach(function (fn) { fn(mode); });
    });

    function layers() {
      if (control) return control;
      control = L.control.layers(bases, {}, { collapsed: true, position: "topright" }).addTo(map);
      return control;
    }
    if (Object.keys(bases).length > 1) layers();

    return {
      map: map,
      strings: S,
      mode: function () { return mode; },
      place: place,
      setWgs: setWgs,
      toWgs: toWgs,
      toMap: toMap,
      // A group whose content follows the base map's system from now on (and is shown in it now).
      track: function (group) { tracked.push(group); place(group); return group; },
      // An overlay the user may switch off (the layer switcher then shows even with one base map).
      overlay: function (name, group) { layers().addOverlay(group, name); return group; },
      onModeChange: function (fn) { listeners.push(fn); },
    };
  }

  // --- buildings and case pins, the same on every map ------------------------------------------------------------
  var CASE_STATES = ["is-overdue", "is-urgent", "is-handling", "is-waiting"];
  var HANDLING = ["acknowledged", "in_progress", "postponed", "disposed", "verifying", "rework"];
  function caseState(c) {
    if (c.overdue) return "is-overdue";
    if (c.urgency === "A") return "is-urgent";
    return HANDLING.indexOf(c.status) >= 0 ? "is-handling" : "is-waiting";
  }
  function clusterGroup(options, icon) {
    if (!L.markerClusterGroup) return L.featureGroup();
    return L.markerClusterGroup(L.extend({ showCoverageOnHover: false, maxClusterRadius: 45, disableClusteringAtZoom: 18,
                                           chunkedLoading: true, iconCreateFunction: icon }, options || {}));
  }
  // Buildings gather into small squares with their count.
  function buildingCluster(options) {
    return clusterGroup(options, function (cluster) {
      return L.divIcon({ className: "gz-cluster gz-cluster-buildings", iconSize: [26, 20],
                         html: "<span>" + cluster.getChildCount() + "</span>" });
    });
  }
  // Cases gather into circles with their count, coloured by the most pressing case inside.
  function caseCluster(options) {
    return clusterGroup(options, function (cluster) {
      var worst = CASE_STATES.length - 1;
      cluster.getAllChildMarkers().forEach(function (m) {
        var i = CASE_STATES.indexOf(m.options.gzState);
        if (i >= 0 && i < worst) worst = i;
      });
      var n = cluster.getChildCount(), size = n < 10 ? 28 : n < 100 ? 34 : 40;
      return L.divIcon({ className: "gz-cluster gz-cluster-cases " + CASE_STATES[worst], iconSize: [size, size],
                         html: "<span>" + n + "</span>" });
    });
  }
  function casePin(c) {
    var state = caseState(c);
    return L.marker([c.lat, c.lng], { title: c.number, alt: c.number, gzState: state,
      icon: L.divIcon({ className: "gz-pin " + state, iconSize: [18, 18], iconAnchor: [4, 18], html: '<span aria-hidden="true"></span>' }) });
  }
  // The key to the pins' colours, bottom left.
  function caseKey(map, strings) {
    var key = L.control({ position: "bottomleft" });
    key.onAdd = function () {
      var box = L.DomUtil.create("div", "map-legend map-key-box");
      var list = L.DomUtil.create("ul", "map-key", box);
      [["is-overdue", strings.pin_overdue], ["is-urgent", strings.pin_urgent], ["is-handling", strings.pin_handling],
       ["is-waiting", strings.pin_waiting]].forEach(function (row) {
        var li = L.DomUtil.create("li", "gz-pin " + row[0], list);
        L.DomUtil.create("span", "", li);
        li.appendChild(document.createTextNode(row[1] || ""));
      });
      return box;
    };
    return key.addTo(map);
  }

  window.GZMap = { create: create, toGcj: toGcj, fromGcj: fromGcj, caseState: caseState, casePin: casePin,
                   caseCluster: caseCluster, buildingCluster: buildingCluster, caseKey: caseKey };
})();
