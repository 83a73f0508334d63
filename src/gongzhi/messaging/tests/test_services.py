"""notify: who gets an inbox message and which sends; the delivery task: idempotent, retries, gives up."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.tests.factories import UserFactory
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.models import AuditLog
from gongzhi.messaging import services, tasks
from gongzhi.messaging.channels.base import SendResult
from gongzhi.messaging.choices import DeliveryState
from gongzhi.messaging.models import Delivery, Message, Preference
from gongzhi.messaging.services import Recipient

pytestmark = pytest.mark.django_db

TEXT = _("Case %(number)s has been reported.")  # a msgid the catalogue translates
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _notify(actor, recipients, *, dedupe="case:1:dispatch", urgency="", now=None):  # type: ignore[no-untyped-def]
    return services.notify(
        actor=actor, recipients=recipients, kind="case.dispatched", text=TEXT, params={"number": "GZ-1"},
        link="/cases/1/", obj=None, urgency=urgency, dedupe=dedupe, now=now or _noon(),
    )  # fmt: skip


def _noon() -> datetime.datetime:
    return datetime.datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)


def test_notify_skips_the_actor_and_tells_nobody_twice(django_capture_on_commit_callbacks, fake_channels):  # type: ignore[no-untyped-def]
    actor, worker, leader = UserFactory(email="a@example.org"), UserFactory(email=""), UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        result = _notify(actor, [Recipient(actor.pk), Recipient(worker.pk), Recipient(worker.pk), Recipient(leader.pk)])
    assert result.messages == 2
    assert sorted(Message.objects.values_list("user_id", flat=True)) == sorted([worker.pk, leader.pk])
    assert not Message.objects.filter(user=actor).exists(), "nobody is told about their own act"
    # One SMS each (their phones; no e-mail address), sent after commit by the task.
    assert sorted(m.address for m in fake_channels.sent) == sorted([worker.phone, leader.phone])
    link = f"{settings.GONGZHI_SITE_URL.rstrip('/')}/cases/1/"
    assert all(m.body == f"案件 GZ-1 已上报。\n{link}" for m in fake_channels.sent), "in the site's language"
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert AuditLog.objects.filter(action="messaging.notify").count() == 1

    # The same thing again (another role, an overlapping body): nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = _notify(None, [Recipient(worker.pk), Recipient(leader.pk)])
    assert again.messages == 0 and again.deliveries == []
    assert Message.objects.count() == 2 and len(fake_channels.sent) == 2


def test_message_text_is_shown_in_the_readers_language() -> None:
    worker = UserFactory()
    _notify(None, [Recipient(worker.pk)])
    message = Message.objects.get(user=worker)
    assert message.text == {"msgid": "Case %(number)s has been reported.", "params": {"number": "GZ-1"}}
    assert message.body == "Case GZ-1 has been reported."
    from django.utils import translation

    with translation.override("zh-hans"):
        assert message.body == "案件 GZ-1 已上报。"


def test_preferences_choose_the_channels_and_phones_without_account_get_sms() -> None:
    both = UserFactory(email="both@example.org")
    email_only = UserFactory(email="e@example.org")
    Preference.objects.create(user=email_only, sms=False)
    none = UserFactory(email="n@example.org")
    Preference.objects.create(user=none, sms=False, email=False)
    _notify(None, [Recipient(both.pk), Recipient(email_only.pk), Recipient(none.pk),
                   Recipient(None, phone="13512345678"), Recipient(None, phone="13512345678")])  # fmt: skip
    rows = set(Delivery.objects.values_list("channel", "address"))
    assert rows == {
        ("sms", both.phone), ("email", "both@example.org"), ("email", "e@example.org"), ("sms", "13512345678"),
    }  # fmt: skip
    assert Message.objects.filter(user=none).exists(), "the inbox is always told"
    phone_only = Delivery.objects.get(address="13512345678")
    assert phone_only.message is None


def test_a_text_read_outside_the_site_carries_an_absolute_link(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GONGZHI_SITE_URL = "https://gz.example.gov.cn/"
    _notify(None, [Recipient(None, phone="13512345678")])
    body = Delivery.objects.get(address="13512345678").body
    assert body.endswith("\nhttps://gz.example.gov.cn/cases/1/"), body


def test_quiet_hours_hold_sms_until_morning_except_urgency_a() -> None:
    night = datetime.datetime(2030, 1, 1, 23, 30, tzinfo=SHANGHAI)
    worker = UserFactory(email="w@example.org")
    _notify(None, [Recipient(worker.pk)], now=night)
    sms = Delivery.objects.get(channel="sms")
    assert sms.next_attempt_at == datetime.datetime(2030, 1, 2, 7, 0, tzinfo=SHANGHAI)
    assert Delivery.objects.get(channel="email").next_attempt_at is None, "quiet hours hold SMS only"
    assert tasks.attempt(sms.pk, now=night) == "not due"
    sms.refresh_from_db()
    assert (sms.state, sms.attempts) == (DeliveryState.QUEUED, 0)
    assert tasks.attempt(sms.pk, now=datetime.datetime(2030, 1, 2, 7, 1, tzinfo=SHANGHAI)) == "sent"

    _notify(None, [Recipient(worker.pk)], dedupe="urgent", urgency="A", now=night)
    urgent = Delivery.objects.get(channel="sms", message__dedupe_key="urgent")
    assert urgent.next_attempt_at is None, "urgency A is sent at night too"

    early = datetime.datetime(2030, 1, 2, 6, 0, tzinfo=SHANGHAI)
    Preference.objects.create(user=worker, quiet_start=datetime.time(23, 0), quiet_end=datetime.time(6, 30))
    _notify(None, [Recipient(worker.pk)], dedupe="early", now=early)
    assert Delivery.objects.get(channel="sms", message__dedupe_key="early").next_attempt_at == early.replace(minute=30)
    _notify(None, [Recipient(worker.pk)], dedupe="day", now=_noon())
    assert Delivery.objects.get(channel="sms", message__dedupe_key="day").next_attempt_at is None


def test_deliver_is_idempotent(fake_channels) -> None:  # type: ignore[no-untyped-def]
    _notify(None, [Recipient(None, phone="13500000001")])
    d = Delivery.objects.get()
    assert tasks.attempt(d.pk) == "sent"
    assert tasks.attempt(d.pk) == "already sent"
    assert tasks.deliver.call(d.pk) == "already sent"
    assert len(fake_channels.sent) == 1, "a retry or a second task never sends twice"
    d.refresh_from_db()
    assert (d.state, d.attempts, d.provider_id, d.last_answer) == (DeliveryState.SENT, 1, "p1", "200 OK")
    assert fake_channels.sent[0].key == d.key


def test_a_failure_that_may_pass_is_retried_with_backoff_then_gives_up(fake_channels) -> None:  # type: ignore[no-untyped-def]
    _notify(None, [Recipient(None, phone="13500000001")])
    d = Delivery.objects.get()
    now = _noon()
    fake_channels.answers.extend(SendResult(ok=False, answer="503 busy") for _ in range(5))
    waits = []
    for _attempt in range(4):
        assert tasks.attempt(d.pk, now=now) == "failed"
        d.refresh_from_db()
        waits.append(d.next_attempt_at - now)
        assert tasks.attempt(d.pk, now=now) == "not due", "not before the pause is over"
        now = d.next_attempt_at
    assert waits == list(tasks.BACKOFF)
    assert tasks.attempt(d.pk, now=now) == "gave_up"
    d.refresh_from_db()
    assert (d.state, d.attempts, d.last_answer) == (DeliveryState.GAVE_UP, 5, "503 busy")
    assert len(fake_channels.sent) == 5


def test_retry_then_success_and_a_permanent_failure_gives_up_at_once(fake_channels) -> None:  # type: ignore[no-untyped-def]
    _notify(None, [Recipient(None, phone="13500000001"), Recipient(None, phone="13500000002")])
    first, second = Delivery.objects.order_by("address")
    fake_channels.answers.append(SendResult(ok=False, answer="timeout"))
    assert tasks.attempt(first.pk, now=_noon()) == "failed"
    assert tasks.attempt(first.pk, now=_noon() + datetime.timedelta(minutes=1)) == "sent"
    fake_channels.answers.append(SendResult(ok=False, permanent=True, answer="400 bad number"))
    assert tasks.attempt(second.pk) == "gave_up"
    second.refresh_from_db()
    assert (second.attempts, second.last_answer) == (1, "400 bad number")


def test_requeue_due_sends_what_lost_its_task(fake_channels) -> None:  # type: ignore[no-untyped-def]
    _notify(None, [Recipient(None, phone="13500000001")])
    d = Delivery.objects.get()
    fake_channels.answers.append(SendResult(ok=False, answer="503"))
    tasks.attempt(d.pk, now=_noon())
    d.refresh_from_db()
    assert tasks.requeue_due(now=d.next_attempt_at - datetime.timedelta(seconds=1)) == 0
    assert tasks.requeue_due(now=d.next_attempt_at) == 1  # the immediate backend runs it at once
    d.refresh_from_db()
    assert d.state == DeliveryState.SENT


def test_resend_queues_a_failed_delivery_again(tree, fake_channels) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    services.notify(actor=None, recipients=[Recipient(None, phone="13500000001")], kind="case.closed", text=TEXT,
                    params={"number": "GZ-2"}, link="", obj=tree.grids[0], dedupe="x", now=_noon())  # fmt: skip
    d = Delivery.objects.get()
    assert d.node_code == tree.grids[0].code
    fake_channels.answers.append(SendResult(ok=False, permanent=True, answer="400"))
    tasks.attempt(d.pk)
    with pytest.raises(ValidationFailed):
        queued = Delivery.objects.create(channel="sms", address="1", body="b", key="k2", node_code=d.node_code)
        services.resend(actor=operator, delivery_id=queued.pk)
    services.resend(actor=operator, delivery_id=d.pk)
    d.refresh_from_db()
    assert (d.state, d.attempts) == (DeliveryState.QUEUED, 0)
    assert AuditLog.objects.filter(action="messaging.resend", actor=operator).count() == 1


def test_a_retried_sms_keeps_the_quiet_hours(fake_channels) -> None:  # type: ignore[no-untyped-def]
    _notify(None, [Recipient(None, phone="13500000001")])
    d = Delivery.objects.get()
    late = datetime.datetime(2026, 12, 7, 21, 59, 30, tzinfo=SHANGHAI)
    fake_channels.answers.append(SendResult(ok=False, answer="503"))
    assert tasks.attempt(d.pk, now=late) == "failed"
    d.refresh_from_db()
    assert d.next_attempt_at == datetime.datetime(2026, 12, 8, 7, 0, tzinfo=SHANGHAI), "not 21:59:30 + 1 min = 22:00:30"


def test_a_send_to_many_phones_writes_each_delivery_once_and_queues_them_in_chunks(  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks, fake_channels
) -> None:
    """A notice-sized send (one COPY on PostgreSQL): every phone once, the ids returned are the rows, the sends
    queued as tasks of 200 deliveries; the same send again writes nothing."""
    phones = [f"135{i:08d}" for i in range(services.COPY_FROM + 101)]
    with django_capture_on_commit_callbacks(execute=True) as queued:
        done = _notify(None, [Recipient(None, phone=p) for p in phones + phones[:5]], dedupe="many")
    assert sorted(done.deliveries) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert sorted(Delivery.objects.values_list("address", flat=True)) == phones
    assert len(queued) == 1 and len(fake_channels.sent) == len(phones)  # all sent by the tasks of 200
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    again = _notify(None, [Recipient(None, phone=p) for p in phones], dedupe="many")
    assert again.deliveries == [] and Delivery.objects.count() == len(phones)
