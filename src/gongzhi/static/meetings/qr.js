// A meeting's sign-in QR code, drawn on the page from its signed URL (qrcode-generator, served from vendor/qrcode).
document.querySelectorAll("[data-qr]").forEach(function (el) {
  if (typeof qrcode !== "function") return;
  var qr = qrcode(0, "M");
  qr.addData(el.getAttribute("data-qr"));
  qr.make();
  el.innerHTML = qr.createSvgTag(6, 8);
  var svg = el.querySelector("svg");
  if (svg) svg.setAttribute("role", "img");
});
