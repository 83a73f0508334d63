"""The inbox bell in a real browser, on a 360 px phone: a message arrives → the bell's count rises without a reload
(HTMX polls the count) → the message leads to its object and is read → the count falls."""

from __future__ import annotations

import pytest
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.messaging import services
from gongzhi.messaging.services import Recipient
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bell_count_rises_and_the_message_leads_to_its_object(live_server, make_page, login, results_dir, settings):
    settings.GONGZHI_MESSAGING_CHANNELS = {"sms": "gongzhi.messaging.tests.fakes.FakeChannel",
                                           "email": "gongzhi.messaging.tests.fakes.FakeChannel"}  # fmt: skip
    tree = build_tree()
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    page = make_page(width=360, height=740)
    login(page, worker)
    page.goto(f"{live_server.url}/messages/")
    assert page.locator("#bell-count").count() == 0
    services.notify(actor=None, recipients=[Recipient(worker.pk)], kind="case.dispatched",
                    text=_("Case %(number)s has been reported."), params={"number": "GZ-7"},
                    link="/", obj=None, dedupe="case:7")  # fmt: skip
    page.evaluate(  # what the 30 s poll does, now
        "htmx.ajax('GET', '/messages/bell/', {target: '#bell', swap: 'outerHTML'})"
    )
    page.wait_for_selector("#bell-count")
    assert page.inner_text("#bell-count") == "1"
    page.reload()
    assert "案件 GZ-7 已上报。" in page.inner_text("#message-list")
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] + 1, f"no sideways scroll on a phone: {width}"
    page.screenshot(path=str(results_dir / "messaging-inbox-phone.png"), full_page=True)
    with page.expect_navigation():
        page.click("#message-list .msg-open")
    assert page.url == f"{live_server.url}/"
    assert page.locator("#bell-count").count() == 0
