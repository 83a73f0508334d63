"""Inspection pages: my rounds, a round's form (a replayed post with its client key is one submission), the
building's hazard register, re-check and case buttons, the figures whose numbers are their record lists, and the
fragments the case and place pages load."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.inspections.models import ChecklistItem, Hazard, Round, RoundPhoto
from gongzhi.inspections.tests.conftest import answers

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 200


def _form(round_: Round, fail: dict[int, str], key: str) -> dict[str, object]:
    data: dict[str, object] = {"client_key": key, "note": "巡查"}
    for a in answers(round_, fail):
        data[f"result_{a['item']}"] = a["result"]
        data[f"severity_{a['item']}"] = a["severity"] or "minor"
    return data


def test_my_rounds_show_the_round_due_today_on_a_phone(client, ground, round_):  # type: ignore[no-untyped-def]
    Round.objects.filter(pk=round_.pk).update(due=timezone.localdate())
    for user in (ground["worker"], ground["head"]):
        client.force_login(user)
        page = client.get("/inspections/").content.decode()
        assert f'data-round-id="{round_.pk}"' in page and 'data-badge="due-today"' in page
        assert 'id="nav-inspections"' in page
        home = client.get("/").content.decode()  # the workbench's block of rounds to do
        assert 'id="wb-rounds"' in home and f'data-round-id="{round_.pk}"' in home
    client.force_login(ground["staff"])
    assert 'id="wb-rounds"' not in client.get("/").content.decode()  # the desk plans, it does not walk
    client.force_login(user_with_role(Role.MEDIATOR, node=ground["staff"].role_assignments.get().node))
    assert client.get("/inspections/").status_code == 403


def test_a_round_missed_long_ago_leaves_the_to_do_list(client, ground, round_):  # type: ignore[no-untyped-def]
    Round.objects.filter(pk=round_.pk).update(due=timezone.localdate() - timedelta(days=40))
    client.force_login(ground["worker"])
    assert f'data-round-id="{round_.pk}"' not in client.get("/inspections/").content.decode()
    assert (
        f'data-round-id="{round_.pk}"' in client.get(f"/inspections/buildings/{round_.building_id}/").content.decode()
    )


def test_round_form_posted_twice_with_its_key_is_one_submission(client, ground, round_):  # type: ignore[no-untyped-def]
    client.force_login(ground["head"])
    page = client.get(f"/inspections/rounds/{round_.pk}/").content.decode()
    key = re.search(r'name="client_key" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    item = ChecklistItem.objects.get(checklist=round_.checklist, position=1)
    missing = client.post(f"/inspections/rounds/{round_.pk}/", _form(round_, {1: "major"}, key))
    assert missing.status_code == 400 and 'id="round-errors"' in missing.content.decode()  # the photo is required
    for _ in range(3):
        data = {**_form(round_, {1: "major"}, key), f"photo_{item.pk}": SimpleUploadedFile("a.jpg", JPEG, "image/jpeg")}
        reply = client.post(f"/inspections/rounds/{round_.pk}/", data)
        assert reply.status_code == 302
    assert Hazard.objects.filter(round=round_).count() == 1 and RoundPhoto.objects.filter(round=round_).count() == 1
    record = client.get(f"/inspections/rounds/{round_.pk}/").content.decode()
    assert 'id="round-record"' in record and "inspections/photos/" in record


def test_register_recheck_and_case_pages(client, ground, round_, tree):  # type: ignore[no-untyped-def]
    client.force_login(ground["worker"])
    client.post(f"/inspections/rounds/{round_.pk}/", _form(round_, {8: "major"}, "k1"))
    hazard = Hazard.objects.get(round=round_)
    register = client.get(f"/inspections/buildings/{tree.buildings[0].pk}/").content.decode()
    assert f'data-hazard-id="{hazard.pk}"' in register
    client.post(f"/inspections/hazards/{hazard.pk}/case/")
    hazard.refresh_from_db()
    assert hazard.case_id is not None
    fragment = client.get(f"/inspections/cases/{hazard.case_id}/hazards/").content.decode()
    assert f'data-hazard-id="{hazard.pk}"' in fragment
    assert "case-hazard-link" in client.get(f"/cases/{hazard.case_id}/").content.decode()
    client.post(f"/inspections/hazards/{hazard.pk}/recheck/", {"rectified": "1"})
    hazard.refresh_from_db()
    assert hazard.status == "closed"
    assert 'data-status="closed"' in client.get(f"/inspections/hazards/{hazard.pk}/").content.decode()


def test_every_figure_opens_its_records(client, ground, round_, tree):  # type: ignore[no-untyped-def]
    client.force_login(ground["worker"])
    client.post(f"/inspections/rounds/{round_.pk}/", _form(round_, {8: "major"}, "k1"))
    client.force_login(ground["staff"])
    page = client.get(f"/inspections/figures/?place={tree.communities[0].pk}").content.decode()
    cards = re.findall(r'<a href="([^"]+)" data-count="(\d+)">', page)
    assert len(cards) == 9
    for url, count in cards:
        records = client.get(url.replace("&amp;", "&")).content.decode()
        assert f'data-total="{count}"' in records, url
    panel = client.get(f"/inspections/figures/panel/?place={tree.communities[0].pk}").content.decode()
    assert 'id="place-inspections"' in panel
    assert "node-inspections" in client.get(f"/territory/nodes/{tree.communities[0].pk}/").content.decode()


def test_checklists_and_plans_pages(client, ground, tree):  # type: ignore[no-untyped-def]
    client.force_login(ground["operator"])
    page = client.get("/inspections/checklists/").content.decode()
    assert "消防通道" in page and "insp-item-form" in page
    client.force_login(ground["staff"])
    assert "insp-item-form" not in client.get("/inspections/checklists/").content.decode()
    reply = client.post(
        "/inspections/plans/", {"area": tree.communities[0].pk, "kind": "residential", "every_months": 1}
    )
    assert reply.status_code == 302
    assert Round.objects.filter(plan__area=tree.communities[0]).count() == 2


def test_the_admin_lists_checklists_with_their_items(client, ground, tree):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import Checklist

    client.force_login(user_with_role(Role.ADMIN))
    checklist = Checklist.objects.filter(area=tree.subdistrict).first()
    assert client.get("/admin/inspections/checklist/").status_code == 200
    page = client.get(f"/admin/inspections/checklist/{checklist.pk}/change/").content.decode()
    assert "消防通道" in page
    assert client.get("/admin/inspections/plan/").status_code == 200
