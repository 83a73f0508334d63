"""The offline app's server side (config/pwa.py, docs/offline.md): the manifest, the service worker built from
Workbox served from our own static files (no CDN), its precached shell present, the outbox page."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.config import pwa


def test_manifest_makes_the_site_installable(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["display"] == "standalone" and data["start_url"].startswith("/") and data["scope"] == "/"
    assert data["name"] == "共治网格工作"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes and any(i.get("purpose") == "maskable" for i in data["icons"])
    for icon in data["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon
        with open(str(path), "rb") as f:
            head = f.read(24)
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_service_worker_is_workbox_from_our_own_static_files(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert 'importScripts("/static/vendor/workbox/workbox-sw.js")' in body
    assert 'modulePathPrefix: "/static/vendor/workbox"' in body
    assert not re.search(r"https?://", body.split("*/", 1)[1]), "nothing from another origin (no CDN)"
    # Every module workbox-sw will load is there, under the prefix.
    for module in ("core", "routing", "strategies", "expiration", "cacheable-response", "precaching"):
        assert finders.find(f"vendor/workbox/workbox-{module}.prod.js"), module
    assert "GzOutbox.flush" in body and '"sync"' in body


def test_precached_shell_is_every_file_with_its_revision() -> None:
    entries = pwa.precache_manifest()
    urls = {e["url"] for e in entries}
    assert len(entries) == len(pwa.SHELL) + 1, "a shell file is missing from the static files"
    assert "/static/gongzhi/pwa/outbox.js" in urls and "/offline/" in urls
    assert all(re.fullmatch(r"[0-9a-f]{16}", e["revision"]) for e in entries)


@pytest.mark.django_db
def test_outbox_page_and_badge(client, tree) -> None:  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(worker)
    page = client.get("/outbox/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="outbox-send"' in page and "待发送" in page
    assert 'data-waiting="{n} 条待发送"' in page  # the badge, in base.html
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    report = client.get("/cases/new/").content.decode()
    assert 'data-offline="report"' in report and 'name="idempotency_key"' in report
    assert "vendor/image-compression/browser-image-compression.js" in report
    assert client.get("/offline/").status_code == 200
