/* Every signed-in page (templates/base.html): registers the service worker, keeps the outbox badge ("3 条待发送")
   current, sends what waits when the page loads online or the connection comes back (where the browser has no
   Background Sync), and offers to install the app (docs/offline.md). */
(function () {
  "use strict";
  // The messages of a form sent in the background (gongzhi/pwa/forms.js), shown where the page shows its own.
  const said = sessionStorage.getItem("gz-messages");
  if (said) {
    sessionStorage.removeItem("gz-messages");
    const header = document.querySelector("header.topbar");
    if (header && !document.querySelector("ul.messages")) header.insertAdjacentHTML("afterend", said);
  }
  const badge = document.getElementById("outbox-badge");
  if (!badge || !window.GzOutbox) return;
  const S = badge.dataset;

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || null;
    } catch (e) {
      return null;
    }
  }

  async function refresh() {
    let c;
    try {
      c = await GzOutbox.counts();
    } catch (e) {
      return; // no IndexedDB (a private window): nothing can wait here
    }
    const parts = [];
    if (c.waiting) parts.push(S.waiting.replace("{n}", c.waiting));
    if (c.refused) parts.push(S.refused.replace("{n}", c.refused));
    badge.textContent = parts.join(" · ");
    badge.hidden = !parts.length;
    badge.classList.toggle("outbox-badge-refused", c.refused > 0);
    badge.dataset.count = String(c.waiting);
    if (!navigator.onLine) badge.classList.add("outbox-badge-offline");
    else badge.classList.remove("outbox-badge-offline");
  }

  async function flush() {
    if (!navigator.onLine) return;
    const result = await GzOutbox.flush({ csrf: csrf() });
    if (result.sent) toast(S.sent.replace("{n}", result.sent));
    refresh();
  }

  function toast(text) {
    const el = document.getElementById("outbox-toast");
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (el.hidden = true), 6000);
  }

  window.GzApp = { refresh, flush, toast, csrf };
  window.addEventListener("gz:outbox", refresh);
  if (GzOutbox.channel) GzOutbox.channel.addEventListener("message", refresh);
  window.addEventListener("online", () => {
    refresh();
    flush();
  });
  window.addEventListener("offline", refresh);
  refresh();
  flush();

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker
      .register(S.sw, { scope: "/" })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => {
        const warm = (S.warm || "").split(" ").filter(Boolean);
        if (registration.active) registration.active.postMessage({ type: "user", user: S.user, warm: warm });
      })
      .catch(() => null);
  }

  // The install prompt (Chromium): a button in the outbox badge's place once the browser offers it.
  const install = document.getElementById("install-app");
  if (install) {
    let deferred = null;
    window.addEventListener("beforeinstallprompt", (event) => {
      event.preventDefault();
      deferred = event;
      install.hidden = false;
    });
    install.addEventListener("click", async () => {
      if (!deferred) return;
      install.hidden = true;
      deferred.prompt();
      await deferred.userChoice.catch(() => null);
      deferred = null;
    });
    window.addEventListener("appinstalled", () => (install.hidden = true));
  }
})();
