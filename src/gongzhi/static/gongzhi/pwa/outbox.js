/* The phone's outbox (docs/offline.md): submissions made without a connection wait in IndexedDB (through idb) until
   they are sent — by the service worker's Background Sync, on the next page load, or the outbox page's button.
   Loaded by the pages and by the service worker (importScripts): no DOM here. Each item keeps everything typed and
   the photos (as Blobs), and its idempotency key, so that sending it twice is still one record on the server.

   An item: {key, kind: "report" | "visit" | "attach", label, url, fields: [[name, value]], files: [[name, Blob,
   filename]], created, state: "waiting" | "sending" | "refused", status, body, tries}. */
(function (scope) {
  "use strict";
  const DB = "gongzhi-outbox";
  const STORE = "items";
  const SYNC_TAG = "gz-outbox";
  const SEND_TIMEOUT_MS = 20 * 1000; // a basement's connection can hang a request: give up and try later
  const STALE_SENDING_MS = 25 * 1000; // a send cut off (the page closed): try again
  const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("gz-outbox") : null;
  let dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = scope.idb.openDB(DB, 1, {
        upgrade(database) {
          const store = database.createObjectStore(STORE, { keyPath: "key" });
          store.createIndex("created", "created");
        },
      });
    }
    return dbPromise;
  }

  function changed() {
    if (channel) channel.postMessage({ type: "changed" });
    if (typeof scope.dispatchEvent === "function" && typeof CustomEvent !== "undefined") {
      scope.dispatchEvent(new CustomEvent("gz:outbox"));
    }
  }

  async function all() {
    return (await db()).getAllFromIndex(STORE, "created");
  }

  async function add(item) {
    const full = Object.assign({ created: Date.now(), state: "waiting", tries: 0, status: 0, body: "" }, item);
    await (await db()).put(STORE, full);
    changed();
    return full;
  }

  async function remove(key) {
    await (await db()).delete(STORE, key);
    changed();
  }

  async function counts() {
    const items = await all();
    return {
      waiting: items.filter((i) => i.state !== "refused").length,
      refused: items.filter((i) => i.state === "refused").length,
    };
  }

  function formData(item) {
    const fd = new FormData();
    for (const [name, value] of item.fields) fd.append(name, value);
    for (const [name, blob, filename] of item.files || []) fd.append(name, blob, filename);
    fd.set("idempotency_key", item.key);
    return fd;
  }

  async function update(key, patch) {
    const database = await db();
    const item = await database.get(STORE, key);
    if (!item) return null;
    Object.assign(item, patch);
    await database.put(STORE, item);
    return item;
  }

  // Send one item. "sent", "refused" (the server said no: kept, with its answer) or "offline" (try later).
  async function send(item, csrf) {
    await update(item.key, { state: "sending", sendingSince: Date.now(), tries: (item.tries || 0) + 1 });
    const headers = { "Idempotency-Key": item.key, "X-Requested-With": "gz-outbox" };
    const token = csrf || item.csrf;
    if (token) headers["X-CSRFToken"] = token;
    let response;
    try {
      response = await fetch(item.url, {
        method: "POST",
        body: formData(item),
        headers: headers,
        credentials: "same-origin",
        redirect: "follow",
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
    } catch (e) {
      await update(item.key, { state: "waiting" });
      return "offline";
    }
    const landed = new URL(response.url || item.url, scope.location.href);
    if (response.ok && !/\/(accounts\/)?login\//.test(landed.pathname)) {
      await remove(item.key);
      if (channel) channel.postMessage({ type: "sent", key: item.key, label: item.label, url: response.url });
      return "sent";
    }
    if (response.status >= 500 || response.status === 429) {
      await update(item.key, { state: "waiting", status: response.status });
      return "offline";
    }
    // Refused (a form error, a case closed meanwhile, the session ended): nothing typed is lost; the outbox page
    // shows the server's message and the item until the worker sends it again or lets it go.
    const body = (await response.text()).slice(0, 200000);
    await update(item.key, { state: "refused", status: response.ok ? 401 : response.status, body: body });
    changed();
    return "refused";
  }

  let flushing = null;

  // Send everything waiting, oldest first; stop at the first sign of no connection.
  async function flush(options) {
    if (flushing) return flushing;
    const csrf = (options && options.csrf) || null;
    const retryRefused = !!(options && options.retryRefused);
    const force = !!(options && options.force); // the worker pressed "send": whatever is not refused
    // One sender at a time across the pages and the service worker (Web Locks); a sender that died (a worker stopped
    // mid-send) lets go of the lock with it, so an item still "sending" under the lock was cut off: send it again
    // (its idempotency key makes that safe). Without Web Locks, a "sending" item is left alone for a while.
    const locks = scope.navigator && scope.navigator.locks;
    const run = (fn) => (locks ? locks.request("gz-outbox-send", fn) : fn());
    flushing = run(async () => {
      const result = { sent: 0, refused: 0, offline: false };
      try {
        for (const item of await all()) {
          if (item.state === "refused" && !retryRefused) continue;
          const busy = !locks && item.state === "sending" && Date.now() - (item.sendingSince || 0) < STALE_SENDING_MS;
          if (busy && !force) continue;
          const outcome = await send(item, csrf);
          if (outcome === "sent") result.sent += 1;
          else if (outcome === "refused") result.refused += 1;
          else {
            result.offline = true;
            break;
          }
        }
      } finally {
        flushing = null;
        changed();
      }
      return result;
    });
    return flushing;
  }

  scope.GzOutbox = { SYNC_TAG, db, all, add, remove, counts, flush, formData, channel };
})(self);
