"""The installable offline app over the existing pages (docs/offline.md): its manifest, its service worker and the
phone's outbox page.

The service worker is built with Workbox from npm (``workbox-sw`` loading its modules from ``/static/vendor/workbox/``,
``modulePathPrefix``; no CDN): the app shell is precached (each file with a revision, the hash of its content), the
pages a worker opens (the to-do list, the forms, households) are network-first with the last copy kept, the map tiles
they looked at cache-first. Submissions made offline wait in IndexedDB (``gongzhi/pwa/outbox.js``, through ``idb``) and
are sent by Background Sync where the browser has it, else on the next page load or the outbox page's button; each
carries its idempotency key (``core.idempotency``), so a send repeated is still one record.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from gongzhi.core.http import AuthedRequest

# What a worker needs to open a form with no connection: our CSS/JS, the vendored libraries those pages load, and the
# offline app's own scripts. Anything else under /static/ is cached the first time it is used.
SHELL = [
    "gongzhi/app.css",
    "gongzhi/app.js",
    "gongzhi/favicon.svg",
    "gongzhi/basemap.js",
    "gongzhi/pwa/outbox.js",
    "gongzhi/pwa/register.js",
    "gongzhi/pwa/forms.js",
    "gongzhi/pwa/outbox-page.js",
    "gongzhi/pwa/icon-192.png",
    "vendor/htmx/htmx.min.js",
    "vendor/idb/umd.js",
    "vendor/image-compression/browser-image-compression.js",
    "vendor/piexif/piexif.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/markercluster/leaflet.markercluster.js",
    "vendor/markercluster/MarkerCluster.css",
    "vendor/markercluster/MarkerCluster.Default.css",
    "cases/cases.css",
    "cases/cases.js",
    "cases/location.js",
    "cases/category-picker.css",
    "cases/category-picker.js",
    "visits/household.js",
    "inspections/inspections.css",
]


@functools.cache
def _revision(path: str) -> str:
    found = finders.find(path)
    if not found:
        return ""
    return hashlib.sha256(Path(str(found)).read_bytes()).hexdigest()[:16]


def precache_manifest() -> list[dict[str, str]]:
    """Workbox's precache list: each shell file's URL and the hash of its content (a changed file is fetched anew)."""
    entries = [{"url": static(p), "revision": _revision(p)} for p in SHELL if _revision(p)]
    entries.append({"url": reverse("pwa-offline"), "revision": _revision("gongzhi/pwa/outbox.js")})
    return entries


def version() -> str:
    return hashlib.sha256(json.dumps(precache_manifest()).encode()).hexdigest()[:12]


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: installable, standalone, starting on the worker's to-do list."""
    data = {
        "name": _("Gongzhi grid work"),
        "short_name": _("Gongzhi"),
        "description": _("Report, visit and inspect in the grid, with or without a connection."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("home") + "?source=app",
        "scope": "/",
        "id": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#fbf8f1",
        "theme_color": "#8b1a1a",
        "icons": [
            {"src": static("gongzhi/pwa/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("gongzhi/pwa/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("gongzhi/pwa/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "shortcuts": [
            {"name": _("Report a problem"), "url": reverse("cases-report")},
            {"name": _("My to-do"), "url": reverse("cases-todo")},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, at the site's root so that it controls every page; never cached by HTTP (the browser
    checks it on each visit, and a changed shell makes it a new worker)."""
    context = {
        "precache": json.dumps(precache_manifest()),
        "version": version(),
        # A folder, not a file: the manifest storage has no hashed name for it (workbox-sw adds the file names).
        "workbox_prefix": f"{settings.STATIC_URL}vendor/workbox",
        "offline_url": reverse("pwa-offline"),
    }
    response = render(request, "pwa/sw.js", context, content_type="application/javascript")
    # The worker fetches map tiles from the configured tile hosts: its own policy lets it.
    hosts = " ".join(["'self'", *getattr(settings, "GONGZHI_CSP_IMG_HOSTS", [])])
    response["Content-Security-Policy"] = f"default-src 'self'; connect-src {hosts}; script-src 'self'"
    return response


@login_required
def outbox(request: AuthedRequest) -> HttpResponse:
    """What waits on this phone to be sent (read from IndexedDB by ``outbox-page.js``), with the send button."""
    return render(request, "pwa/outbox.html")


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page shown for a page never opened while online (precached: no user data)."""
    return render(request, "pwa/offline.html")
