"""The grid worker in a basement on a 360 px phone (issue 19's "done means"): online once, the service worker keeps
their rounds due and each round's form; offline they open a due round from the kept list, complete it with a photo
of the failed item (made smaller on the phone), report a case too; both wait in the outbox ("2 条待发送"); back
online each arrives exactly once and the outbox empties."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.inspections import services
from gongzhi.inspections.models import ChecklistItem, Hazard, Round, RoundPhoto
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GPS = {"latitude": 41.9041, "longitude": 123.4041}

# A 3,200 × 2,400 JPEG with detail (well over 500 KB), put in the file field ``selector``.
BIG_PHOTO = """async (selector) => {
  const c = new OffscreenCanvas(3200, 2400);
  const g = c.getContext('2d');
  for (let i = 0; i < 600; i++) {
    g.fillStyle = `hsl(${(i * 37) % 360},60%,${30 + (i % 40)}%)`;
    g.fillRect((i * 97) % 3200, (i * 61) % 2400, 30 + (i % 200), 20 + (i % 150));
  }
  const img = g.getImageData(0, 0, 3200, 2400);
  for (let i = 0; i < img.data.length; i += 4 * 5) img.data[i] = (img.data[i] + (i % 29) * 7) & 255;
  g.putImageData(img, 0, 0);
  const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
  const file = new File([blob], 'lane.jpg', { type: 'image/jpeg' });
  const input = document.querySelector(selector);
  const dt = new DataTransfer(); dt.items.add(file); input.files = dt.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
  return file.size;
}"""

KEPT = """async (url) => { const c = await caches.open('gongzhi-pages');
  return !!(await c.match(url, { ignoreVary: true })); }"""


def test_offline_round_and_report_arrive_once(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    tree = build_tree()
    water = category("0105")
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王专职")
    services.ensure_checklists(actor=operator, subdistrict_id=tree.subdistrict.pk)
    services.create_plan(actor=staff, area_id=tree.communities[0].pk, kind="residential", every_months=1)
    round_ = Round.objects.filter(assignee=worker).order_by("building__code").first()
    assert round_ is not None
    Round.objects.filter(pk=round_.pk).update(due=timezone.localdate())
    round_url = f"/inspections/rounds/{round_.pk}/"
    items = list(ChecklistItem.objects.filter(checklist=round_.checklist, is_active=True).order_by("position"))
    failed = next(i for i in items if i.photo_required)

    phone = make_page(width=360, height=740)
    phone.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}])
    login(phone, worker)
    # Online once, on the workbench only: the service worker installs and keeps the rounds due and their forms.
    phone.goto(f"{live_server.url}/")
    phone.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=20_000
    )
    phone.reload()
    phone.wait_for_function(f"() => ({KEPT})('{round_url}')", timeout=20_000, polling=200)
    phone.wait_for_function("() => (" + KEPT + ")('/cases/new/')", timeout=20_000, polling=200)

    # --- the basement -------------------------------------------------------------------------------------------------
    phone.context.set_offline(True)
    phone.goto(f"{live_server.url}/inspections/")  # the to-do list the service worker kept
    phone.click(f'[data-round-id="{round_.pk}"] a')
    phone.wait_for_selector("#round-form")
    phone.wait_for_function("() => window.imageCompression && window.GzOutbox")
    for item in items:
        row = phone.locator(f'.insp-item[data-item-id="{item.pk}"]')
        row.locator(f'input[value="{"fail" if item == failed else "pass"}"]').check()
    row = f'.insp-item[data-item-id="{failed.pk}"]'
    phone.fill(f"{row} input[type=text]", "消防通道堆放纸箱")
    original = phone.evaluate(BIG_PHOTO, f"{row} input[type=file]")
    assert original > 500 * 1024
    phone.wait_for_function(
        f"() => document.querySelector('{row} input[type=file]').files[0].size <= 500 * 1024", timeout=30_000
    )
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    phone.click("#round-submit")
    phone.wait_for_function("() => document.getElementById('outbox-badge').dataset.count === '1'")
    assert "已保存在本机" in phone.inner_text("#round-form [data-offline-note]")

    phone.goto(f"{live_server.url}/cases/new/")
    phone.fill("#id_title", "地下室消防通道堆物")
    phone.fill("#id_category_search", "积水")
    phone.locator(f'.cat-option[data-value="{water.pk}"]').tap()
    phone.fill("#id_lat", str(GPS["latitude"]))
    phone.fill("#id_lng", str(GPS["longitude"]))
    phone.click("#report-submit")
    phone.wait_for_function("() => document.getElementById('outbox-badge').dataset.count === '2'")
    assert "2 条待发送" in phone.inner_text("#outbox-badge")
    phone.goto(f"{live_server.url}/outbox/")
    phone.wait_for_selector(".outbox-item")
    assert "巡查任务" in phone.inner_text("#outbox-list")
    phone.screenshot(path=str(results_dir / "offline-round-1-queued-phone.png"), full_page=True)
    assert (
        Round.objects.get(pk=round_.pk).done_at is None and not Case.objects.filter(title="地下室消防通道堆物").exists()
    )

    # --- back in the open ---------------------------------------------------------------------------------------------
    phone.context.set_offline(False)
    phone.goto(f"{live_server.url}/outbox/")
    phone.click("#outbox-send")
    phone.wait_for_selector("#outbox-empty:not([hidden])", timeout=30_000)
    phone.click("#outbox-send")  # again: nothing more arrives
    done = Round.objects.get(pk=round_.pk)
    assert done.done_by == worker and done.failed == 1
    photo = RoundPhoto.objects.get(round=done)
    assert photo.item_id == failed.pk and photo.size <= 500 * 1024 and photo.content_type == "image/jpeg"
    assert Hazard.objects.filter(round=done).count() == 1
    assert Case.objects.filter(title="地下室消防通道堆物").count() == 1
    assert phone.locator("#outbox-badge").is_hidden()
    phone.goto(f"{live_server.url}{round_url}")
    phone.wait_for_selector("#round-record")
    phone.screenshot(path=str(results_dir / "offline-round-2-sent-phone.png"), full_page=True)
    assert not phone.gongzhi_errors, phone.gongzhi_errors
