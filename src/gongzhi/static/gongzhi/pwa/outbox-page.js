/* The outbox page (/outbox/): what waits on this phone, each with its state; a refused one with the server's message
   and everything that was typed, to send again or let go; the "send now" button (docs/offline.md). */
(function () {
  "use strict";
  const list = document.getElementById("outbox-list");
  if (!list || !window.GzOutbox) return;
  const S = list.dataset;
  const status = document.getElementById("outbox-status");

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  }

  // The message of the server's refusal: its page's error texts (form errors, the conflict's message).
  function reason(item) {
    if (item.status === 401) return S.login;
    const doc = new DOMParser().parseFromString(item.body || "", "text/html");
    const texts = Array.from(
      doc.querySelectorAll(".form-errors li, .form-errors p, .field-error, .errorlist li, .error-message, .error-page h1 + p, .error-page > p:not(.error-code)")
    )
      .map((el) => el.textContent.trim())
      .filter(Boolean);
    return Array.from(new Set(texts)).join(" ") || String(item.status);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function render() {
    const items = await GzOutbox.all();
    list.innerHTML = "";
    document.getElementById("outbox-empty").hidden = items.length > 0;
    for (const item of items) {
      const li = el("li", "card outbox-item outbox-" + item.state);
      li.dataset.key = item.key;
      const head = el("p", "outbox-head");
      head.append(el("strong", "", S["kind" + item.kind.charAt(0).toUpperCase() + item.kind.slice(1)] || item.kind));
      head.append(" · ", el("span", "outbox-state", S[item.state] || item.state));
      head.append(" · ", el("time", "muted", new Date(item.created).toLocaleString()));
      li.append(head);
      if (item.label) li.append(el("p", "outbox-label", item.label));
      if (item.files && item.files.length) li.append(el("p", "muted", fmt(S.photos, { n: item.files.length })));
      if (item.state === "refused") {
        li.append(el("p", "outbox-reason field-error", reason(item)));
        const kept = el("details", "outbox-kept");
        kept.append(el("summary", "", S.kept));
        const dl = el("dl");
        for (const [label, value] of item.shown || []) dl.append(el("dt", "", label), el("dd", "", value));
        kept.append(dl);
        for (const [, blob, filename] of item.files || []) {
          const a = el("a", "outbox-photo", filename);
          a.href = URL.createObjectURL(blob);
          a.download = filename;
          kept.append(a, " ");
        }
        li.append(kept);
        const actions = el("p", "form-actions");
        const retry = el("button", "button button-small", S.retry);
        retry.type = "button";
        retry.addEventListener("click", async () => {
          const db = await GzOutbox.db();
          const fresh = await db.get("items", item.key);
          fresh.state = "waiting";
          await db.put("items", fresh);
          send();
        });
        const discard = el("button", "button button-small button-quiet", S.discard);
        discard.type = "button";
        discard.addEventListener("click", async () => {
          if (window.confirm(S.confirm)) await GzOutbox.remove(item.key);
        });
        actions.append(retry, " ", discard);
        li.append(actions);
      }
      list.append(li);
    }
  }

  async function send() {
    if (!navigator.onLine) {
      status.textContent = S.offline || status.dataset.offline;
      return;
    }
    const csrf = window.GzApp ? window.GzApp.csrf() : null;
    const result = await GzOutbox.flush({ csrf: csrf, force: true });
    status.textContent = result.offline ? status.dataset.offline : fmt(status.dataset.done, result);
    render();
  }

  document.getElementById("outbox-send").addEventListener("click", send);
  window.addEventListener("gz:outbox", render);
  if (GzOutbox.channel) GzOutbox.channel.addEventListener("message", render);
  render();
})();
