/* Case report forms: 大类 → 小类 select, "locate" by GPS (the browser's position is WGS-84), photo previews; the
   report page's map and "filed under" match are cases/location.js. Works without it: the minor select then
   lists every class grouped by major class, and latitude/longitude or the address can be typed. */
(function () {
  "use strict";

  var stringsEl = document.getElementById("gz-case-strings");
  var S = stringsEl ? JSON.parse(stringsEl.textContent) : {};

  function fmt(text, vars) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (m, key) { return key in vars ? vars[key] : m; });
  }

  // --- 大类 then 小类 -------------------------------------------------------------------------------------------
  function setupCategories(major) {
    var minor = document.getElementById(major.dataset.minor);
    if (!minor) return;
    var placeholder = minor.querySelector('option[value=""]');
    var groups = Array.prototype.map.call(minor.querySelectorAll("optgroup"), function (g) {
      return {
        label: g.label,
        options: Array.prototype.map.call(g.querySelectorAll("option"), function (o) { return { value: o.value, text: o.text }; }),
      };
    });
    function majorLabel() {
      return major.value ? major.options[major.selectedIndex].text : null;
    }
    function fill() {
      var current = minor.value;
      var label = majorLabel();
      minor.innerHTML = "";
      if (placeholder) minor.appendChild(placeholder.cloneNode(true));
      groups.forEach(function (g) {
        if (label && g.label !== label) return;
        var parent = minor;
        if (!label) {
          parent = document.createElement("optgroup");
          parent.label = g.label;
          minor.appendChild(parent);
        }
        g.options.forEach(function (o) {
          var opt = document.createElement("option");
          opt.value = o.value;
          opt.textContent = o.text;
          if (o.value === current) opt.selected = true;
          parent.appendChild(opt);
        });
      });
      minor.disabled = false;
    }
    // A minor class chosen without its major (a re-shown form): select the major that holds it.
    if (minor.value && !major.value) {
      groups.forEach(function (g) {
        if (g.options.some(function (o) { return o.value === minor.value; })) {
          Array.prototype.forEach.call(major.options, function (opt) { if (opt.text === g.label) major.value = opt.value; });
        }
      });
    }
    fill();
    major.addEventListener("change", fill);
  }
  Array.prototype.forEach.call(document.querySelectorAll("select.cat-major"), setupCategories);

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
