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
    data: dict[str, object] = {"idempotency_key": key, "note": "巡查"}
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


def test_round_form_posted_ten_times_with_its_key_is_one_submission(client, ground, round_):  # type: ignore[no-untyped-def]
    """The round's form works offline like the report's (data-offline, the shared idempotency key): the outbox
    sending it ten times makes one submission, and each send gets the first answer."""
    client.force_login(ground["head"])
    page = client.get(f"/inspections/rounds/{round_.pk}/").content.decode()
    assert 'data-offline="round"' in page and "gongzhi/pwa/forms.js" in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]+)"', page).group(1)  # type: ignore[union-attr]
    item = ChecklistItem.objects.get(checklist=round_.checklist, position=1)
    missing = client.post(f"/inspections/rounds/{round_.pk}/", _form(round_, {1: "major"}, key))
    assert missing.status_code == 400 and 'id="round-errors"' in missing.content.decode()  # the photo is required
    replies = []
    for _ in range(10):  # the same key again: a refusal kept no key
        data = {**_form(round_, {1: "major"}, key), f"photo_{item.pk}": SimpleUploadedFile("a.jpg", JPEG, "image/jpeg")}
        replies.append(client.post(f"/inspections/rounds/{round_.pk}/", data, headers={"Idempotency-Key": key}))
    assert {(r.status_code, r["Location"]) for r in replies} == {(302, f"/inspections/rounds/{round_.pk}/")}
    assert [r.headers.get("Idempotent-Replayed") for r in replies] == [None] + ["true"] * 9
    assert Hazard.objects.filter(round=round_).count() == 1 and RoundPhoto.objects.filter(round=round_).count() == 1
    assert Round.objects.get(pk=round_.pk).client_key == key
    # The phone follows the redirect to the same address with the key still on it (fetch keeps the header): a read,
    # the round's record — not a submission with another body.
    record = client.get(f"/inspections/rounds/{round_.pk}/", headers={"Idempotency-Key": key})
    assert record.status_code == 200 and 'id="round-record"' in record.content.decode()
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


def test_a_round_done_meanwhile_is_a_conflict_the_outbox_can_show(client, ground, round_):  # type: ignore[no-untyped-def]
    """The worker's round, sent from the outbox after the building head did it: 409 with the page's message in the
    form errors (what the outbox page shows), the head's record shown, nothing recorded for the worker."""
    client.force_login(ground["head"])
    client.post(f"/inspections/rounds/{round_.pk}/", _form(round_, {}, "head-key"))
    client.force_login(ground["worker"])
    late = client.post(f"/inspections/rounds/{round_.pk}/", _form(round_, {8: "major"}, "worker-key"))
    page = late.content.decode()
    assert late.status_code == 409
    errors = re.search(r'<div class="card form-errors"[^>]*id="round-errors"><ul><li>(.*?)</li>', page)
    assert errors is not None and str(ground["head"]) in errors.group(1), page
    assert 'id="round-record"' in page and 'id="round-form"' not in page
    assert not Hazard.objects.filter(round=round_).exists()
    assert Round.objects.get(pk=round_.pk).done_by == ground["head"]


def test_the_service_worker_is_told_to_keep_the_rounds_due_and_their_forms(client, ground, round_):  # type: ignore[no-untyped-def]
    """The badge's data-warm names the to-do list of rounds for whoever inspects (the worker, the building head);
    that list names each round's form (data-gz-warm), which the service worker then keeps for the basement."""
    warm = re.compile(r'id="outbox-badge"[^>]*data-warm="([^"]*)"')
    for user in (ground["worker"], ground["head"]):
        client.force_login(user)
        assert "/inspections/" in warm.search(client.get("/").content.decode()).group(1).split()  # type: ignore[union-attr]
        todo = re.search(r'data-gz-warm="([^"]*)"', client.get("/inspections/").content.decode())
        assert todo is not None and f"/inspections/rounds/{round_.pk}/" in todo.group(1).split()
    client.force_login(user_with_role(Role.MEDIATOR, node=ground["staff"].role_assignments.get().node))
    assert "/inspections/" not in warm.search(client.get("/").content.decode()).group(1).split()  # type: ignore[union-attr]
