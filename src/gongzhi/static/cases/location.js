/* The report page's map (docs/maps.md): the base map (basemap.js), the grids and the user's buildings; tap the map
   or drag the pin to set the point (the GPS button of cases.js fills it too), and before sending, where the report
   will be filed — building, grid and community, by the placement intake applies (GET /api/v1/territory/match) —
   with the user's buildings near the point to choose from when the match is wrong (the chosen building is sent as
   "building" and wins over the point). Points are kept in WGS-84: one picked on a GCJ-02 (AMap) base map is
   converted back before it is written into the form. */
(function () {
  "use strict";
  var mapEl = document.getElementById("pick-map");
  var latInput = document.getElementById("id_lat");
  var lngInput = document.getElementById("id_lng");
  var addressInput = document.getElementById("id_address");
  var buildingInput = document.getElementById("id_building");
  var box = document.getElementById("place-match");
  var statusBox = document.getElementById("locate-status");
  var stringsEl = document.getElementById("gz-case-strings");
  var S = stringsEl ? JSON.parse(stringsEl.textContent) : {};
  if (!mapEl || !window.L || !window.GZMap || !latInput || !lngInput) return;

  function fmt(text, vars) {  // "{name}" placeholders (a template's {% translate %} keeps "%" for itself)
    return String(text || "").replace(/\{(\w+)\}/g, function (m, key) { return key in vars ? vars[key] : m; });
  }
  function text(id, value) { var el = document.getElementById(id); if (el) el.textContent = value || "—"; }
  function json(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }

  var gz = GZMap.create(mapEl, { zoomSnap: 0.5 });
  var map = gz.map;
  mapEl.gzMap = gz;  // for the browser tests: where a place is on the screen
  map.setView([31.23, 121.47], 12);
  var marker = null;
  var boundsKnown = false;
  // Many buildings (an operator's 2,000) gather into clusters until one zooms in.
  var buildings = GZMap.buildingCluster({ disableClusteringAtZoom: 17, maxClusterRadius: 50 });
  gz.track(buildings);
  gz.overlay(gz.strings.buildings || "", buildings);

  // --- the point --------------------------------------------------------------------------------------------------
  function currentPoint() {
    var lat = parseFloat(latInput.value), lng = parseFloat(lngInput.value);
    return isNaN(lat) || isNaN(lng) ? null : { lat: lat, lng: lng };
  }
  function showPoint(lat, lng, pan) {
    if (!marker) {
      marker = L.marker([lat, lng], { draggable: true, autoPan: true, title: "", keyboard: true,
                                      icon: L.divIcon({ className: "gz-pin is-picked", iconSize: [18, 18], iconAnchor: [4, 18],
                                                        html: '<span aria-hidden="true"></span>' }) }).addTo(map);
      marker.on("dragend", function () {
        var ll = gz.toWgs(marker.getLatLng());
        writePoint(ll.lat, ll.lng);
        if (statusBox) statusBox.textContent = S.picked || "";
      });
    }
    gz.setWgs(marker, lat, lng);
    if (pan) map.setView(marker.getLatLng(), Math.max(map.getZoom(), 17));
    mapEl.dataset.lat = String(lat);
    mapEl.dataset.lng = String(lng);
  }
  function writePoint(lat, lng) {
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    showPoint(lat, lng, false);
    lngInput.dispatchEvent(new Event("change", { bubbles: true }));
    document.body.dispatchEvent(new CustomEvent("gz:located", { detail: { source: "map" } }));
  }
  map.on("click", function (evt) {
    var ll = gz.toWgs(evt.latlng);
    writePoint(ll.lat, ll.lng);
    if (statusBox) statusBox.textContent = S.picked || "";
  });
  function fromInputs(pan) {
    var p = currentPoint();
    if (p) showPoint(p.lat, p.lng, pan);
  }
  latInput.addEventListener("input", function () { fromInputs(!boundsKnown); });
  lngInput.addEventListener("input", function () { fromInputs(!boundsKnown); });
  // The GPS button (cases.js) wrote the inputs: show and centre the point.
  document.body.addEventListener("gz:located", function (evt) {
    if (evt.detail && evt.detail.source === "gps") fromInputs(true);
    matchSoon();
  });

  // --- the territory's layers -------------------------------------------------------------------------------------
  json(mapEl.dataset.boundariesUrl)
    .then(function (collection) {
      var layer = L.geoJSON(collection, {
        style: function () { return { color: "#1f5fa8", weight: 1.5, opacity: 0.9, fillColor: "#1f5fa8", fillOpacity: 0.08 }; },
        onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, { direction: "center", className: "gz-tooltip" }); },
      });
      gz.track(layer).addTo(map);
      layer.bringToBack();
      var features = (collection && collection.features) || [];
      if (features.length && !marker) {
        map.fitBounds(layer.getBounds(), { padding: [12, 12] });
        boundsKnown = true;
      }
      mapEl.dataset.loaded = "true";
      mapEl.dataset.gridCount = String(features.length);
    })
    .catch(function () { mapEl.dataset.loaded = "error"; if (statusBox) statusBox.textContent = S.boundaries_failed || ""; });

  json(mapEl.dataset.buildingsUrl)
    .then(function (page) {
      var batch = [];
      (page.items || []).forEach(function (b) {
        var m = L.marker([b.lat, b.lng], { keyboard: false, interactive: true,
                                           icon: L.divIcon({ className: "gz-building-dot", iconSize: [10, 10], html: "<span></span>" }) });
        m.bindTooltip(b.name, { direction: "top", className: "gz-tooltip" });
        m.on("click", function (evt) { map.fire("click", { latlng: evt.latlng }); });
        batch.push(gz.place(m));
      });
      buildings.addLayers ? buildings.addLayers(batch) : batch.forEach(function (m) { buildings.addLayer(m); });
      buildings.addTo(map);
      mapEl.dataset.buildingCount = String((page.items || []).length);
    })
    .catch(function () { mapEl.dataset.buildingCount = "error"; });

  // --- where it will be filed -------------------------------------------------------------------------------------
  var choice = document.getElementById("match-choice");
  var pick = document.getElementById("match-pick");
  var note = document.getElementById("match-note");
  var ticket = 0;
  var timer = null;
  var lastKey = null;
  var matched = null;

  function setChosen(id) {
    if (buildingInput) buildingInput.value = id || "";
    if (choice.querySelector('option[value="' + (id || "") + '"]')) choice.value = id || "";
    box.classList.toggle("is-chosen", !!id);
    box.dataset.chosen = id || "";
    var chosen = id && matched && matched.nearby.filter(function (b) { return String(b.id) === String(id); })[0];
    if (chosen) {
      text("match-building", chosen.name);
      text("match-grid", chosen.grid);
      text("match-community", chosen.community);
      note.textContent = box.dataset.sChosen;
    } else if (matched) {
      render(matched);
    }
  }
  function render(m) {
    text("match-community", m.community && m.community.name);
    text("match-grid", m.grid && m.grid.name);
    text("match-building", m.building ? m.building.name : (m.grid ? box.dataset.sNone : ""));
    note.textContent = (!m.in_scope || m.unplaced) ? m.message : "";
    box.dataset.matchedBuilding = m.building ? m.building.name : "";
    box.dataset.matchedGrid = m.grid ? m.grid.name : "";
    var others = (m.nearby || []).filter(function (b) { return !m.building || b.id !== m.building.id; });
    choice.innerHTML = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = box.dataset.sAsMatched;
    choice.appendChild(first);
    others.forEach(function (b) {
      var opt = document.createElement("option");
      opt.value = String(b.id);
      opt.textContent = fmt(box.dataset.sMetres, { name: b.name, metres: b.metres, grid: b.grid });
      choice.appendChild(opt);
    });
    pick.hidden = !others.length;
  }
  function match() {
    var p = currentPoint();
    var address = addressInput ? addressInput.value.trim() : "";
    var key = p ? p.lat.toFixed(6) + "," + p.lng.toFixed(6) : "@" + address;
    if (key === lastKey) return;
    if (!p && !address) { box.hidden = true; lastKey = key; return; }
    var moved = lastKey !== null;
    lastKey = key;
    if (moved) setChosen("");  // a new point: a building chosen for the old one no longer holds
    var mine = ++ticket;
    box.hidden = false;
    box.dataset.state = "loading";
    note.textContent = box.dataset.sChecking;
    var params = new URLSearchParams();
    if (p) { params.set("lat", p.lat); params.set("lng", p.lng); }
    if (address) params.set("address", address);
    json(mapEl.dataset.matchUrl + "?" + params.toString())
      .then(function (m) {
        if (mine !== ticket) return;
        matched = m;
        render(m);
        if (buildingInput && buildingInput.value) setChosen(buildingInput.value);
        box.dataset.state = "done";
      })
      .catch(function () {
        if (mine !== ticket) return;
        box.dataset.state = "error";
        note.textContent = box.dataset.sFailed;
      });
  }
  function matchSoon() { clearTimeout(timer); timer = setTimeout(match, 250); }
  choice.addEventListener("change", function () { setChosen(choice.value); });
  if (addressInput) addressInput.addEventListener("input", function () { if (!currentPoint()) matchSoon(); });
  latInput.addEventListener("change", matchSoon);
  lngInput.addEventListener("change", matchSoon);

  // A re-shown form: the point, and the building chosen before.
  var initialBuilding = buildingInput ? buildingInput.value : "";
  fromInputs(true);
  if (currentPoint() || (addressInput && addressInput.value.trim())) {
    lastKey = null;
    match();
    if (initialBuilding && buildingInput) buildingInput.value = initialBuilding;
  }
})();
