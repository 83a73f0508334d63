// QR codes drawn on the page (an activity's check-in, a meeting's sign-in): every element with data-qr gets its URL
// as an SVG, with qrcode-generator served from node_modules as vendor/qrcode (no CDN).
(function () {
  "use strict";
  if (typeof window.qrcode !== "function") return;
  document.querySelectorAll("[data-qr]").forEach(function (el) {
    var qr = window.qrcode(0, "M");
    qr.addData(el.getAttribute("data-qr"), "Byte");
    qr.make();
    el.innerHTML = qr.createSvgTag({ cellSize: 8, margin: 4, scalable: true });
    var svg = el.querySelector("svg");
    if (svg) {
      svg.setAttribute("width", "100%");
      svg.setAttribute("role", "img");
      svg.style.maxWidth = "360px";
    }
  });
})();
