/* Gongzhi: small behaviours shared by every page (no framework; htmx does the requests). */
(function () {
  "use strict";

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box || !text) return;
    box.textContent = text;
    box.hidden = false;
    window.clearTimeout(box._timer);
    box._timer = window.setTimeout(function () { box.hidden = true; }, 6000);
  }
  window.gongzhiToast = toast;

  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toast");
    toast(box && box.dataset.msgNetwork);
  });
  document.addEventListener("htmx:responseError", function (evt) {
    // 4xx answers are swapped in as a notice (see htmx-config in base.html); 5xx are not.
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    if (status >= 500) {
      var box = document.getElementById("toast");
      toast(box && box.dataset.msgServer);
    }
  });

  // A form with data-confirm asks first; a link with data-history-back goes back (no inline handlers: the
  // Content-Security-Policy allows scripts from files only).
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) evt.preventDefault();
  }, true);
  document.addEventListener("click", function (evt) {
    var back = evt.target.closest ? evt.target.closest("[data-history-back]") : null;
    if (!back || window.history.length < 2) return;
    evt.preventDefault();
    window.history.back();
  });

  // A select with data-autosubmit sends its form when changed (a <noscript> button serves without scripts).
  document.addEventListener("change", function (evt) {
    var field = evt.target;
    if (field && field.dataset && field.dataset.autosubmit !== undefined && field.form) field.form.requestSubmit();
  });

  // Tree: a toggle shows or hides the next level; htmx loads it on the first click.
  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest ? evt.target.closest(".tree-toggle") : null;
    if (!toggle) return;
    var item = toggle.closest(".tree-node");
    var list = item && item.querySelector(":scope > .tree-children");
    if (!list) return;
    var open = item.getAttribute("aria-expanded") === "true";
    item.setAttribute("aria-expanded", open ? "false" : "true");
    list.hidden = open;
  });

  // The territory tree folds away on a phone (the map comes first there) and stays open on a desk.
  var phone = window.matchMedia("(max-width: 799px)");
  function foldTree() {
    var box = document.getElementById("tree-box");
    if (box && phone.matches && !box.dataset.touched) box.removeAttribute("open");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", foldTree); else foldTree();
  document.addEventListener("click", function (evt) {
    var summary = evt.target.closest ? evt.target.closest("#tree-box > summary") : null;
    if (!summary) return;
    if (!phone.matches) evt.preventDefault();
    else summary.parentElement.dataset.touched = "1";
  });

  // On a phone the panel sits below the map: bring it into view when it changes.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "node-panel" && phone.matches) {
      target.scrollIntoView({ behavior: "smooth", block: "start" });
    }
  });

  // The main menu scrolls sideways when it does not fit (a phone): a fade and an arrow at the edge where more items
  // wait, so none is hidden without a hint; the arrow scrolls on, and the current page's item is brought into view.
  function menuHints(nav) {
    var start = document.createElement("span");
    var end = document.createElement("span");
    start.className = "nav-more nav-more-start";
    end.className = "nav-more nav-more-end";
    start.setAttribute("aria-hidden", "true");
    end.setAttribute("aria-hidden", "true");
    start.textContent = "\u2039";
    end.textContent = "\u203a";
    nav.insertBefore(start, nav.firstChild);
    nav.appendChild(end);
    function update() {
      var room = nav.scrollWidth - nav.clientWidth;
      var left = Math.abs(nav.scrollLeft);
      nav.classList.toggle("more-start", room > 1 && left > 1);
      nav.classList.toggle("more-end", room > 1 && left < room - 1);
    }
    start.addEventListener("click", function () { nav.scrollBy({ left: -nav.clientWidth * 0.7, behavior: "smooth" }); });
    end.addEventListener("click", function () { nav.scrollBy({ left: nav.clientWidth * 0.7, behavior: "smooth" }); });
    nav.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    var current = nav.querySelector("[aria-current=page]");
    if (current && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft = Math.max(0, current.offsetLeft - nav.clientWidth / 3);
    }
    update();
  }
  function allMenus() { Array.prototype.forEach.call(document.querySelectorAll(".mainnav"), menuHints); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", allMenus); else allMenus();
})();
