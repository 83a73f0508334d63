{% load static %}/* Gongzhi's service worker (config/pwa.py, docs/offline.md), version {{ version }}. Built with Workbox from npm,
   served from /static/vendor/workbox/ (no CDN). */
importScripts("{% static 'vendor/workbox/workbox-sw.js' %}");
importScripts("{% static 'vendor/idb/umd.js' %}");
importScripts("{% static 'gongzhi/pwa/outbox.js' %}");

workbox.setConfig({ modulePathPrefix: "{{ workbox_prefix }}", debug: false });
workbox.core.setCacheNameDetails({ prefix: "gongzhi" });
workbox.core.clientsClaim();

const { precacheAndRoute, matchPrecache } = workbox.precaching;
const { registerRoute, setCatchHandler } = workbox.routing;
const { NetworkFirst, CacheFirst, StaleWhileRevalidate } = workbox.strategies;
const { ExpirationPlugin } = workbox.expiration;
const { CacheableResponsePlugin } = workbox.cacheableResponse;

const OFFLINE_URL = "{{ offline_url }}";
const PAGES = "gongzhi-pages";
const DAY = 24 * 3600;

// The app shell: our CSS/JS and the libraries the phone pages load, each with the hash of its content.
precacheAndRoute({{ precache|safe }});

// Pages the worker opens (the to-do list, the report form, a household and its visit form, the map): the network
// first, the last copy when there is none. Never the admin, the API or the log-in pages.
const NO_CACHE = /^\/(admin|api|accounts|login|logout|i18n|sw\.js|media)\b/;
registerRoute(
  ({ request, url }) => request.mode === "navigate" && url.origin === self.location.origin && !NO_CACHE.test(url.pathname),
  new NetworkFirst({
    cacheName: PAGES,
    networkTimeoutSeconds: 6,
    matchOptions: { ignoreVary: true }, // pages vary on the cookie and the language; this phone has one user
    plugins: [
      new CacheableResponsePlugin({ statuses: [200] }),
      new ExpirationPlugin({ maxEntries: 150, maxAgeSeconds: 14 * DAY }),
    ],
  })
);

// The worker's to-do list for the API (phone clients) too.
registerRoute(
  ({ url, request }) => request.method === "GET" && url.origin === self.location.origin && url.pathname === "/api/v1/cases/todo",
  new NetworkFirst({ cacheName: "gongzhi-api", networkTimeoutSeconds: 6, plugins: [new CacheableResponsePlugin({ statuses: [200] })] })
);

// Other static files: what is there, refreshed behind.
registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname.startsWith("{% get_static_prefix %}"),
  new StaleWhileRevalidate({ cacheName: "gongzhi-static", plugins: [new ExpirationPlugin({ maxEntries: 200 })] })
);

// Map tiles the worker looked at (a tile server elsewhere, or our own): kept a month, 3,000 at most.
registerRoute(
  ({ request, url }) => request.destination === "image" && (url.origin !== self.location.origin || /\/tiles?\//.test(url.pathname)),
  new CacheFirst({
    cacheName: "gongzhi-tiles",
    plugins: [
      new CacheableResponsePlugin({ statuses: [0, 200] }),
      new ExpirationPlugin({ maxEntries: 3000, maxAgeSeconds: 30 * DAY, purgeOnQuotaError: true }),
    ],
  })
);

// A page never opened while online: say so, and point at the outbox.
setCatchHandler(async ({ request }) => {
  if (request.mode === "navigate") {
    return (await matchPrecache(OFFLINE_URL)) || Response.error();
  }
  return Response.error();
});

self.addEventListener("install", () => self.skipWaiting());

const WARM_AGE_MS = 10 * 60 * 1000;
const WARM_LINKS = /data-gz-warm="([^"]*)"/g;

async function keep(pages, url) {
  const r = await fetch(url, { credentials: "same-origin" }).catch(() => null);
  if (!r || !r.ok || r.redirected) return null;
  await pages.put(url, r.clone());
  return r;
}

async function warm(urls) {
  const pages = await caches.open(PAGES);
  const linked = new Set();
  await Promise.all(
    urls.map(async (url) => {
      let page = await pages.match(url, { ignoreVary: true });
      const kept = page ? Date.parse(page.headers.get("Date") || "") : NaN;
      if (!page || !(Date.now() - kept < WARM_AGE_MS)) page = (await keep(pages, url)) || page;
      if (!page) return;
      const text = await page.text();
      for (const m of text.matchAll(WARM_LINKS)) m[1].split(/\s+/).filter(Boolean).forEach((u) => linked.add(u));
    })
  );
  await Promise.all(
    Array.from(linked, async (url) => {
      if (await pages.match(url, { ignoreVary: true })) return; // opened already: that copy is newer
      await keep(pages, url);
    })
  );
}

// Background Sync: the outbox is sent when the connection is back, even with the app closed.
self.addEventListener("sync", (event) => {
  if (event.tag === GzOutbox.SYNC_TAG) {
    event.waitUntil(GzOutbox.flush({ csrf: null }));
  }
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "user") {
    // Another person signed in on this phone: the pages kept for the one before are not theirs to see.
    event.waitUntil(
      (async () => {
        const cache = await caches.open("gongzhi-meta");
        const known = await cache.match("/__user");
        const before = known ? await known.text() : "";
        if (before !== String(data.user)) {
          await caches.delete(PAGES);
          await caches.delete("gongzhi-api");
          await cache.put("/__user", new Response(String(data.user)));
        }
        // Keep the worker's own pages ready for the basement: the to-do lists and the forms, fetched anew when the
        // copy kept is older than WARM_AGE; and the pages a to-do list names (data-gz-warm: the form of each round
        // due), each fetched once.
        await warm(data.warm || []);
      })()
    );
  } else if (data.type === "flush") {
    event.waitUntil(GzOutbox.flush({ csrf: null }));
  }
});
