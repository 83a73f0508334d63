/* Case report forms: "locate" by GPS (the browser's position is WGS-84), photo previews; the report page's map and
   "filed under" match are cases/location.js, the category search cases/category-picker.js. Works without it:
   latitude/longitude or the address can be typed. */
(function () {
  "use strict";

  var stringsEl = document.getElementById("gz-case-strings");
  var S = stringsEl ? JSON.parse(stringsEl.textContent) : {};

  function fmt(text, vars) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (m, key) { return key in vars ? vars[key] : m; });
  }

  // --- location: the GPS button (the report page's map is cases/location.js) -----------------------------------
  var latInput = document.getElementById("id_lat");
  var lngInput = document.getElementById("id_lng");
  var statusBox = document.getElementById("locate-status");

  function setStatus(text) { if (statusBox) statusBox.textContent = text || ""; }

  function setPoint(lat, lng) {
    if (!latInput || !lngInput) return;
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    lngInput.dispatchEvent(new Event("change", { bubbles: true }));
    document.body.dispatchEvent(new CustomEvent("gz:located", { detail: { source: "gps" } }));
  }

  var locateButton = document.querySelector("[data-locate]");
  if (locateButton) {
    locateButton.addEventListener("click", function () {
      if (!navigator.geolocation) { setStatus(S.unsupported); return; }
      setStatus(S.locating);
      locateButton.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          locateButton.disabled = false;
          setPoint(pos.coords.latitude, pos.coords.longitude);
          var accuracy = document.querySelector('input[name="gps_accuracy"]');
          if (accuracy) accuracy.value = Math.round(pos.coords.accuracy || 0);
          setStatus(fmt(S.located, { accuracy: Math.round(pos.coords.accuracy || 0) }));
        },
        function (err) {
          locateButton.disabled = false;
          setStatus(err && err.code === 1 ? S.denied : S.failed);
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- photo previews --------------------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("input.photo-input"), function (input) {
    var box = document.createElement("div");
    box.className = "photo-preview";
    input.insertAdjacentElement("afterend", box);
    input.addEventListener("change", function () {
      box.innerHTML = "";
      Array.prototype.forEach.call(input.files || [], function (file) {
        if (!/^image\//.test(file.type)) return;
        var img = document.createElement("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        box.appendChild(img);
      });
    });
  });
})();
