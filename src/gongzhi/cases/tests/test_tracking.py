"""Following a case without an account: the tracking code is the secret, the phone is optional, guesses are limited."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gongzhi.cases import tracking, workflow
from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category, new_case

pytestmark = pytest.mark.django_db
TRACK = "/api/v1/cases/public/track"


def _report(api, tree, **extra):  # type: ignore[no-untyped-def]
    payload = {"title": "路灯不亮", "category_id": category("0701").pk, "address": tree.buildings[0].name, **extra}
    response = api.client.post("/api/v1/cases/public/report", data=payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_case_reported_without_a_phone_is_followed_by_its_code(tree, api, admin):  # type: ignore[no-untyped-def]
    reported = _report(api, tree)
    code = reported["tracking_code"]
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}", code), code  # 16 x 5 = 80 bits
    case = Case.objects.get(number=reported["number"])
    assert case.reporter_phone == "" and case.tracking_code == code.replace("-", "")
    track = api.client.get(f"{TRACK}?code={code}")
    assert track.status_code == 200 and track.json()["number"] == case.number
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")  # forgiving typing
    assert api.client.get(f"{TRACK}", {"code": typed}).status_code == 200
    assert api.client.get(f"{TRACK}?code={code}&phone=13900000000").status_code == 404, "a given phone must match"
    # Rated by the code alone once closed.
    for action in ("accept", "dispatch", "acknowledge", "start", "dispose", "verify", "close"):
        payload = {"handler_node_id": tree.grids[0].pk} if action == "dispatch" else {}
        workflow.perform(actor=admin, case_id=case.pk, action=action, note="处理", payload=payload)
    rate = {"code": code, "rating": "satisfied"}
    response = api.client.post("/api/v1/cases/public/rate", data=rate, content_type="application/json")
    assert response.status_code == 200 and response.json()["rating"] == "satisfied"


def test_with_a_phone_the_code_needs_that_phone_and_the_number_needs_it(tree, api):  # type: ignore[no-untyped-def]
    reported = _report(api, tree, reporter_phone="13700001234")
    code, number = reported["tracking_code"], reported["number"]
    assert api.client.get(f"{TRACK}?code={code}").status_code == 200
    assert api.client.get(f"{TRACK}?code={code}&phone=13700001234").status_code == 200
    assert api.client.get(f"{TRACK}?number={number}&phone=13700001234").status_code == 200
    assert api.client.get(f"{TRACK}?number={number}").status_code == 404, "a case number is no secret"
    response = api.client.get(TRACK)
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "code"


def test_an_old_short_code_still_works_but_only_with_the_phone(tree, api, admin):  # type: ignore[no-untyped-def]
    case = new_case(None, tree.buildings[0], channel="resident", reporter_phone="13700005678")
    Case.objects.filter(pk=case.pk).update(tracking_code="0A1B2C3D")
    assert api.client.get(f"{TRACK}?code=0A1B2C3D&phone=13700005678").status_code == 200
    assert api.client.get(f"{TRACK}?code=0a1b2c3d").status_code == 404, "32 bits are too few to be the secret alone"


def test_guesses_are_limited_per_address(tree, api, settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_RATES = {**settings.GONGZHI_RATES, "public_track_miss": "3/h"}
    code = _report(api, tree)["tracking_code"]
    for i in range(3):
        assert api.client.get(f"{TRACK}?code=ZZZZZZZZZZZZZZ{i:02d}").status_code == 404
    response = api.client.get(f"{TRACK}?code={code}")
    assert response.status_code == 429 and response.json()["error"]["code"] == "throttled", "even a right code"
    page = api.client.post(reverse("cases-public-track"), {"code": code})
    assert page.status_code == 429, "the page shares the count"
    assert api.client.get(f"{TRACK}?code={code}", REMOTE_ADDR="203.0.113.5").status_code == 200


def test_the_page_reports_without_a_phone_and_follows_by_code(client, tree):  # type: ignore[no-untyped-def]
    cat = category("0701")
    response = client.post(
        reverse("cases-public-report"),
        {"title": "井盖松动", "major": cat.parent_id, "category": cat.pk, "address": tree.buildings[0].name},
    )
    assert response.status_code == 302
    case = Case.objects.get(title="井盖松动")
    done = client.get(response["Location"]).content.decode()
    shown = tracking.display(case.tracking_code)
    assert f'id="tracking-code">{shown}<' in done and len(case.tracking_code) == 16
    page = client.post(reverse("cases-public-track"), {"code": shown})
    assert page.status_code == 200 and "井盖松动" in page.content.decode()
    assert client.post(reverse("cases-public-track"), {"code": case.number}).status_code == 404, "number needs phone"


def test_a_batch_of_codes_is_one_draw_of_80_random_bits_a_code_in_crockfords_base_32(monkeypatch):  # type: ignore[no-untyped-def]
    """``new_codes`` draws the random bytes of a whole batch at once (a draw a character cost more than writing the
    cases of a 12345 batch) and writes each code's 80 bits as 16 digits of :data:`tracking.ALPHABET`, 5 bits each."""
    draws: list[int] = []
    data = bytes(range(7, 7 + 30))

    def token_bytes(n: int) -> bytes:
        draws.append(n)
        return data[:n]

    monkeypatch.setattr(tracking.secrets, "token_bytes", token_bytes)
    codes = tracking.new_codes(3)
    assert draws == [30]
    expected = []
    for k in range(3):
        bits = int.from_bytes(data[10 * k : 10 * k + 10], "big")
        expected.append("".join(tracking.ALPHABET[(bits >> (5 * (15 - i))) & 31] for i in range(16)))
    assert codes == expected
    assert tracking.new_code() == expected[0][:16] and tracking.new_codes(0) == []
