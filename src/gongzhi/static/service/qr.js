// The check-in QR code shown at the venue: drawn from the page's signed check-in URL with qrcode-generator
// (served from node_modules as vendor/qrcode, like the other npm assets; no CDN).
(function () {
  "use strict";
  var box = document.getElementById("check-qr");
  if (!box || typeof window.qrcode !== "function") return;
  var qr = window.qrcode(0, "M");
  qr.addData(box.getAttribute("data-url"), "Byte");
  qr.make();
  box.innerHTML = qr.createSvgTag({ cellSize: 8, margin: 4, scalable: true });
  var svg = box.querySelector("svg");
  if (svg) {
    svg.setAttribute("width", "100%");
    svg.style.maxWidth = "360px";
  }
})();
