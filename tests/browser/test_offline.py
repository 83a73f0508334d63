"""The offline app on a phone (docs/offline.md): the service worker installs and keeps the grid worker's pages; in
a basement with no connection the to-do list still opens (served by the service worker), a report with a photo and a
household visit wait in the outbox ("2 条待发送"); back online they are sent by themselves, each arrives exactly once
and the outbox empties. A 4,000 × 3,000 photo is made smaller on the phone before it goes: at most 500 KB, the long
side at most 1,600 px, its EXIF GPS position kept."""

from __future__ import annotations

import pytest
from django.conf import settings

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category, new_case
from gongzhi.registry.tests.factories import make_person
from gongzhi.territory.tests.factories import build_tree
from gongzhi.visits.models import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GPS = {"latitude": 41.9041, "longitude": 123.4041}

# A 4,000 × 3,000 JPEG drawn in the page (gradients, shapes, some grain: a photo's worth of detail), with EXIF that
# says where it was taken and that it was held on its side (orientation 6), put in the form's photo field.
BIG_PHOTO = """async (selector) => {
  const c = new OffscreenCanvas(4000, 3000);
  const g = c.getContext('2d');
  const grad = g.createLinearGradient(0, 0, 4000, 3000);
  grad.addColorStop(0, '#3a6'); grad.addColorStop(1, '#a53');
  g.fillStyle = grad; g.fillRect(0, 0, 4000, 3000);
  for (let i = 0; i < 400; i++) {
    g.fillStyle = `hsl(${(i * 37) % 360},60%,${30 + (i % 40)}%)`;
    g.fillRect((i * 97) % 4000, (i * 61) % 3000, 40 + (i % 200), 30 + (i % 150));
  }
  const img = g.getImageData(0, 0, 4000, 3000);
  for (let i = 0; i < img.data.length; i += 4 * 7) img.data[i] = (img.data[i] + (i % 23) * 3) & 255;
  g.putImageData(img, 0, 0);
  const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
  const dataUrl = await new Promise((ok) => { const r = new FileReader(); r.onload = () => ok(r.result); r.readAsDataURL(blob); });
  const gps = {};
  gps[piexif.GPSIFD.GPSLatitudeRef] = 'N';
  gps[piexif.GPSIFD.GPSLatitude] = piexif.GPSHelper.degToDmsRational(41.9041);
  gps[piexif.GPSIFD.GPSLongitudeRef] = 'E';
  gps[piexif.GPSIFD.GPSLongitude] = piexif.GPSHelper.degToDmsRational(123.4041);
  const zeroth = {}; zeroth[piexif.ImageIFD.Orientation] = 6;
  const withExif = piexif.insert(piexif.dump({ '0th': zeroth, GPS: gps }), dataUrl);
  const bytes = Uint8Array.from(atob(withExif.split(',')[1]), (ch) => ch.charCodeAt(0));
  const file = new File([bytes], 'big.jpg', { type: 'image/jpeg' });
  const input = document.querySelector(selector);
  const dt = new DataTransfer(); dt.items.add(file); input.files = dt.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
  return file.size;
}"""

# What the field holds once the phone has made it smaller: its size, its pixels (upright), its EXIF.
SENT_PHOTO = """async (selector) => {
  const input = document.querySelector(selector);
  const f = input.files[0];
  const bitmap = await createImageBitmap(f);
  const dataUrl = await new Promise((ok) => { const r = new FileReader(); r.onload = () => ok(r.result); r.readAsDataURL(f); });
  const exif = piexif.load(dataUrl);
  const lat = exif.GPS[piexif.GPSIFD.GPSLatitude];
  return { size: f.size, type: f.type, width: bitmap.width, height: bitmap.height,
           lat: lat ? piexif.GPSHelper.dmsRationalToDeg(lat, exif.GPS[piexif.GPSIFD.GPSLatitudeRef]) : null,
           orientation: exif['0th'][piexif.ImageIFD.Orientation] };
}"""


def _wait_for_service_worker(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=20_000)


def test_offline_report_and_visit_arrive_once(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    water = category("0105")
    household = tree.households[0]
    make_person(household, name="孙奶奶")
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王专职")
    new_case(worker, tree.grids[0], title="楼道堆物待清理")

    phone = make_page(width=390, height=844)
    phone.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone.context.set_geolocation(GPS)
    # Headless chromium gives the service worker's own requests no Accept-Language: the language chosen on the site
    # (its cookie) is what a phone's pages come in then, as they do after 中文 in the top bar.
    phone.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}])
    login(phone, worker)
    manifest = phone.evaluate("() => fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    # Online once: the service worker installs and keeps the to-do list, the report form and the household.
    phone.goto(f"{live_server.url}/cases/")
    _wait_for_service_worker(phone)
    phone.reload()
    _wait_for_service_worker(phone)
    # Installable: Chromium finds nothing missing (manifest, icons, a service worker with a fetch handler) but that
    # a test's browser context is incognito, where no app is installed.
    cdp = phone.context.new_cdp_session(phone)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == [], errors
    phone.goto(f"{live_server.url}/cases/new/")
    phone.wait_for_function("() => window.imageCompression && window.piexif && window.GzOutbox")
    phone.goto(f"{live_server.url}/visits/households/{household.pk}/")
    phone.wait_for_selector("#visit-form")

    # --- the basement: no connection ------------------------------------------------------------------------------
    phone.context.set_offline(True)
    phone.goto(f"{live_server.url}/cases/")  # the service worker serves the to-do list it kept
    assert "楼道堆物待清理" in phone.inner_text("main")
    phone.goto(f"{live_server.url}/cases/new/")
    phone.fill("#id_title", "地下室消防通道堆物")
    phone.fill("#id_category_search", "积水")
    phone.locator(f'.cat-option[data-value="{water.pk}"]').tap()
    phone.fill("#id_lat", str(GPS["latitude"]))
    phone.fill("#id_lng", str(GPS["longitude"]))
    original = phone.evaluate(BIG_PHOTO, "#id_photos")
    assert original > 500 * 1024
    phone.wait_for_selector("[data-offline-note]:not([hidden])")
    phone.wait_for_function("() => document.querySelector('#id_photos').files[0].size < 1000000", timeout=30_000)
    sent = phone.evaluate(SENT_PHOTO, "#id_photos")
    assert sent["size"] <= 500 * 1024 and sent["type"] == "image/jpeg", sent
    # Held on its side: turned upright (3,000 wide, 4,000 high → 1,200 × 1,600), the EXIF orientation reset.
    assert max(sent["width"], sent["height"]) <= 1600 and sent["orientation"] == 1, sent
    assert abs(sent["lat"] - GPS["latitude"]) < 1e-3, sent
    phone.click("#report-submit")
    phone.wait_for_function("() => document.getElementById('outbox-badge').dataset.count === '1'")
    assert "1 条待发送" in phone.inner_text("#outbox-badge")
    assert "已保存在本机" in phone.inner_text("[data-offline-note]")

    phone.goto(f"{live_server.url}/visits/households/{household.pk}/")
    phone.check('input[name="outcome"][value="met"]')
    phone.fill("#id_needs", "楼道灯不亮")
    phone.click("#visit-submit")
    phone.wait_for_function("() => document.getElementById('outbox-badge').dataset.count === '2'")
    assert "2 条待发送" in phone.inner_text("#outbox-badge")
    phone.screenshot(path=str(results_dir / "offline-1-queued-phone.png"), full_page=True)
    assert not Case.objects.filter(title="地下室消防通道堆物").exists() and not Visit.objects.exists()

    # --- back in the open: sent by themselves, each once ---------------------------------------------------------------
    phone.context.set_offline(False)
    phone.goto(f"{live_server.url}/outbox/")
    phone.click("#outbox-send")  # the button sends what waits (and the page load did already: each goes once)
    phone.wait_for_selector("#outbox-empty:not([hidden])", timeout=30_000)
    phone.click("#outbox-send")
    assert Case.objects.filter(title="地下室消防通道堆物").count() == 1
    case = Case.objects.get(title="地下室消防通道堆物")
    photo = case.attachments.get()
    assert photo.size <= 500 * 1024 and photo.content_type == "image/jpeg"
    assert Visit.objects.filter(household=household).count() == 1
    assert Visit.objects.get().needs == "楼道灯不亮"
    assert phone.locator("#outbox-badge").is_hidden()
    phone.screenshot(path=str(results_dir / "offline-2-sent-phone.png"), full_page=True)
    assert not phone.gongzhi_errors, phone.gongzhi_errors


def test_photos_for_a_case_closed_meanwhile_are_kept_with_a_clear_message(live_server, make_page, login):  # type: ignore[no-untyped-def]
    tree = build_tree()
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王专职")
    case = new_case(worker, tree.grids[0], title="井盖松动")
    phone = make_page(width=390, height=844)
    phone.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}])
    login(phone, worker)
    phone.goto(f"{live_server.url}/cases/{case.pk}/")
    _wait_for_service_worker(phone)
    phone.reload()
    _wait_for_service_worker(phone)

    phone.context.set_offline(True)
    phone.goto(f"{live_server.url}/cases/{case.pk}/")  # the case page as it was kept
    phone.click("#action-attach")
    jpeg = phone.evaluate(
        """async () => { const c = new OffscreenCanvas(800, 600); const g = c.getContext('2d');
           g.fillStyle = '#468'; g.fillRect(0, 0, 800, 600);
           const b = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
           const f = new File([b], 'cover.jpg', { type: 'image/jpeg' });
           const input = document.querySelector('#form-attach input[type=file]');
           const dt = new DataTransfer(); dt.items.add(f); input.files = dt.files;
           input.dispatchEvent(new Event('change', { bubbles: true })); return f.size; }"""
    )
    assert jpeg > 0
    phone.fill("#form-attach textarea, #form-attach input[name$='note']", "井盖已翘起，拍照留证")
    phone.wait_for_selector("#form-attach [data-offline-note]:not([hidden])")
    phone.click("#form-attach button[type=submit]")
    phone.wait_for_function("() => document.getElementById('outbox-badge').dataset.count === '1'")
    Case.objects.filter(pk=case.pk).update(status="closed")  # someone else closed it meanwhile

    phone.context.set_offline(False)
    phone.goto(f"{live_server.url}/outbox/")
    reason = phone.locator(".outbox-refused .outbox-reason")
    reason.wait_for(timeout=20_000)
    assert case.number in reason.inner_text() and "已结案" in reason.inner_text()
    assert "1 条未被接收" in phone.inner_text("#outbox-badge")
    phone.locator(".outbox-refused details.outbox-kept summary").click()
    kept = phone.inner_text(".outbox-refused details.outbox-kept")
    assert "井盖已翘起，拍照留证" in kept and "cover.jpg" in kept  # nothing typed is lost
    assert "说明" in kept and "attach-note" not in kept  # as the form showed it
    assert not case.attachments.exists()
