"""The whole way through the delivery job (issue 17), nothing of the transport mocked: ``notify`` in a transaction,
the commit, the real ``messaging.tasks.deliver`` task on the Tasks API backend the tests use, the e-mail channel
talking to an aiosmtpd server on a free local port, the SMS channel to a local HTTP server playing Aliyun (it checks
the signature): the mail that arrived is read back; an SMS that fails on a 5xx is retried and then sent; one refused
with a 4xx is given up at once."""

from __future__ import annotations

import datetime
from email import message_from_bytes, policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.tests.factories import UserFactory
from gongzhi.messaging import services, tasks
from gongzhi.messaging.choices import DeliveryState
from gongzhi.messaging.models import Delivery, Preference
from gongzhi.messaging.services import Recipient
from gongzhi.messaging.tests.test_channels import FakeServer, Mailbox, provider, smtp  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

TEXT = _("Case %(number)s has been reported.")  # a msgid the catalogue translates
NOON = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # outside the quiet hours
CHANNELS = {
    "email": "gongzhi.messaging.channels.email.EmailChannel",
    "sms": "gongzhi.messaging.channels.sms.AliyunSmsChannel",
}


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    """These tests count the deliveries and what the requeue sweep sends: they start from an empty outbox (rows a
    demo build in another module committed on this database are not theirs; the test's transaction puts them back)."""
    Delivery.objects.all().delete()


def _notify(recipients: list[Recipient], dedupe: str) -> None:
    services.notify(
        actor=None, recipients=recipients, kind="case.dispatched", text=TEXT, params={"number": "GZ-2026-7"},
        link="/cases/7/", urgency="", dedupe=dedupe, now=NOON,
    )  # fmt: skip


def test_an_email_goes_through_the_deliver_job_to_a_real_smtp_server(
    smtp: Mailbox,  # noqa: F811
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.GONGZHI_MESSAGING_CHANNELS = CHANNELS
    settings.GONGZHI_SITE_URL = "https://gongzhi.example.org"
    settings.LANGUAGE_CODE = "zh-hans"
    worker = UserFactory(email="worker@example.org", phone="")
    Preference.objects.create(user=worker, sms=False, email=True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify([Recipient(worker.pk)], "e2e:mail")
        assert smtp.messages == [], "nothing is sent inside the transaction"
    assert len(callbacks) == 1  # the deliveries' task, queued on commit
    delivery = Delivery.objects.get(channel="email")
    assert (delivery.state, delivery.attempts, delivery.address) == (DeliveryState.SENT, 1, "worker@example.org")
    [raw] = smtp.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "worker@example.org"
    assert mail["Subject"] == "案件 GZ-2026-7 已上报。"
    lines = [line.strip() for line in mail.get_content().strip().splitlines()]
    assert lines == ["案件 GZ-2026-7 已上报。", "https://gongzhi.example.org/cases/7/"]  # Chinese, an absolute link
    assert mail["Message-ID"] == delivery.provider_id
    # The task run again (a lost acknowledgement, the sweep) sends nothing twice.
    assert tasks.deliver.enqueue(delivery.pk).return_value == "already sent"
    assert len(smtp.messages) == 1


def test_an_sms_failing_on_a_5xx_is_retried_by_the_job_then_sent(
    provider: FakeServer,  # noqa: F811
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.GONGZHI_MESSAGING_CHANNELS = CHANNELS
    provider.mode = "500"
    with django_capture_on_commit_callbacks(execute=True):
        _notify([Recipient(None, phone="13500000001")], "e2e:sms-retry")
    d = Delivery.objects.get()
    assert (d.state, d.attempts) == (DeliveryState.FAILED, 1) and "500" in d.last_answer
    assert d.next_attempt_at is not None
    provider.mode = "ok"
    # The pause is over (moved back rather than waited for): the scheduler's sweep queues the job again.
    Delivery.objects.filter(pk=d.pk).update(next_attempt_at=datetime.datetime.now(datetime.UTC))
    assert tasks.requeue_due() == 1
    d.refresh_from_db()
    assert (d.state, d.attempts, d.provider_id) == (DeliveryState.SENT, 2, "900619746936498440^0")
    assert len(provider.requests) == 2
    assert tasks.requeue_due() == 0 and len(provider.requests) == 2, "sent once, never again"


def test_an_sms_refused_with_a_4xx_is_given_up_by_the_job_at_once(
    provider: FakeServer,  # noqa: F811
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.GONGZHI_MESSAGING_CHANNELS = CHANNELS
    settings.GONGZHI_SMS_ALIYUN = {**settings.GONGZHI_SMS_ALIYUN, "access_key_secret": "wrong"}  # 400: bad signature
    with django_capture_on_commit_callbacks(execute=True):
        _notify([Recipient(None, phone="13500000002")], "e2e:sms-4xx")
    d = Delivery.objects.get()
    assert (d.state, d.attempts, d.next_attempt_at) == (DeliveryState.GAVE_UP, 1, None)
    assert "400" in d.last_answer and "SignatureDoesNotMatch" in d.last_answer
    assert tasks.requeue_due() == 0 and len(provider.requests) == 1, "a 4xx that will not change is not tried again"
