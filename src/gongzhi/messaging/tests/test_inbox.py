"""The inbox: one's own messages only (another's is a 404, admins included), the API, the bell, the pages."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.messaging import services
from gongzhi.messaging.channels.base import SendResult
from gongzhi.messaging.models import Delivery, Message
from gongzhi.messaging.services import Recipient
from gongzhi.messaging.tests.test_services import _noon

pytestmark = pytest.mark.django_db

TEXT = _("Case %(number)s has been reported.")


def _tell(user, n: int, kind: str = "case.dispatched", link: str = "/cases/1/"):  # type: ignore[no-untyped-def]
    for i in range(n):
        services.notify(actor=None, recipients=[Recipient(user.pk)], kind=kind, text=TEXT,
                        params={"number": f"GZ-{kind}-{i}"}, link=link, obj=None, dedupe=f"{kind}:{i}", now=_noon())  # fmt: skip
    return list(Message.objects.filter(user=user).order_by("id"))


@pytest.fixture
def worker(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0])


@pytest.fixture
def other(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0])


def test_api_inbox_count_and_read(api, worker, other):  # type: ignore[no-untyped-def]
    mine = _tell(worker, 3)
    _tell(worker, 1, kind="case.closed")
    theirs = _tell(other, 1)[0]
    client = api.as_user(worker)
    assert client.get("/api/v1/inbox/unread-count").json() == {"unread": 4}
    assert client.post(f"/api/v1/inbox/{mine[0].pk}/read").status_code == 200
    listed = client.get("/api/v1/inbox").json()
    assert listed["count"] == 4
    ids = [m["id"] for m in listed["items"]]
    assert ids[-1] == mine[0].pk, "unread first, the read one last"
    assert listed["items"][0]["read_at"] is None and "GZ-" in listed["items"][0]["text"]
    assert client.get("/api/v1/inbox?kind=case.closed").json()["count"] == 1
    assert client.get("/api/v1/inbox/unread-count").json() == {"unread": 3}
    assert client.post("/api/v1/inbox/read-all").json() == {"marked": 3}
    assert client.get("/api/v1/inbox/unread-count").json() == {"unread": 0}
    # Nobody sees or touches another person's inbox: a 404, and their message stays unread.
    response = client.post(f"/api/v1/inbox/{theirs.pk}/read")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert theirs.pk not in [m["id"] for m in client.get("/api/v1/inbox").json()["items"]]


def test_an_admin_does_not_read_anyone_elses_inbox(api, worker):  # type: ignore[no-untyped-def]
    message = _tell(worker, 1)[0]
    admin = user_with_role(Role.ADMIN)
    client = api.as_user(admin)
    assert client.get("/api/v1/inbox").json()["count"] == 0
    assert client.post(f"/api/v1/inbox/{message.pk}/read").status_code == 404


def test_bell_list_open_and_read_all_pages(client, worker, other, monkeypatch):  # type: ignore[no-untyped-def]
    from gongzhi.messaging import kinds

    monkeypatch.setitem(kinds.LABELS, "case.closed", "已办结")
    mine = _tell(worker, 2)
    _tell(worker, 1, kind="case.closed")
    Message.objects.filter(kind="case.closed").update(read_at="2026-12-07T12:00:00+08:00")
    theirs = _tell(other, 1)[0]
    client.force_login(worker)
    home = client.get("/messages/").content.decode()
    assert 'id="bell-count">2<' in home and 'hx-trigger="every 30s"' in home
    assert "GZ-case.dispatched-0" in home and "GZ-case.dispatched" in home
    assert "全部标为已读" in home, "the page is Chinese by default"
    assert '<option value="case.closed">已办结</option>' in home, "a kind is filtered by its name"
    assert "GZ-case.closed" not in client.get("/messages/?kind=case.dispatched").content.decode()
    bell = client.get("/messages/bell/").content.decode()
    assert 'id="bell-count">2<' in bell
    response = client.post(f"/messages/{mine[0].pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/cases/1/"
    assert 'id="bell-count">1<' in client.get("/messages/bell/").content.decode()
    assert client.post(f"/messages/{theirs.pk}/open/").status_code == 404
    client.post("/messages/read-all/")
    assert "bell-count" not in client.get("/messages/bell/").content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_failed_deliveries_page_and_resend(client, tree, worker, fake_channels, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    services.notify(actor=None, recipients=[Recipient(None, phone="13500000009")], kind="case.closed", text=TEXT,
                    params={"number": "GZ-9"}, link="", obj=tree.grids[0], dedupe="closed", now=_noon())  # fmt: skip
    d = Delivery.objects.get()
    from gongzhi.messaging import tasks

    fake_channels.answers.append(SendResult(ok=False, permanent=True, answer="400 bad number"))
    tasks.attempt(d.pk)
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client.force_login(worker)
    assert client.get("/messages/deliveries/").status_code in (403, 404)
    client.force_login(operator)
    page = client.get("/messages/deliveries/").content.decode()
    assert "400 bad number" in page and "13500000009" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/messages/deliveries/{d.pk}/resend/")
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == "sent" and d.attempts == 1, "queued again, and sent by the task after commit"
