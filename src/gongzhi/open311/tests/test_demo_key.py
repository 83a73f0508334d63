from __future__ import annotations

from gongzhi.demo import names
from gongzhi.demo import open311 as demo_open311
from gongzhi.open311.models import ApiKey
from gongzhi.territory.tests.factories import build_tree


def test_the_demo_key_works_on_the_demo_and_goes_with_reset(db, client):  # type: ignore[no-untyped-def]
    said: list[str] = []
    assert not demo_open311.ensure_key(said.append)  # no demo subdistrict yet
    tree = build_tree(code=names.street_code(0))
    assert demo_open311.ensure_key(said.append) and demo_open311.ensure_key(said.append)
    assert ApiKey.objects.get().subdistrict == tree.subdistrict and len(said) == 1
    response = client.get("/open311/v2/requests.json", {"api_key": demo_open311.DEMO_KEY})
    assert response.status_code == 200 and response.json() == []
    assert demo_open311.DEMO_KEY in demo_open311.line()
    assert demo_open311.reset_open311(tree.subdistrict.code, None, said.append) == 1
    assert not ApiKey.objects.exists()
