"""One's own channels (issue 17, "Channels"): the preferences page and API (validation, one's own only), quiet hours
set on the page, the subdistrict's defaults per role, the daily digest (recording channel and a real SMTP server),
and a body's WeCom duty group (told once per body, its webhook URL a secret)."""

from __future__ import annotations

import datetime
import json
import urllib.parse
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.accounts.tests.factories import UserFactory, user_with_role
from gongzhi.core.errors import NotFound
from gongzhi.core.models import AuditLog
from gongzhi.messaging import prefs, schedule, services, tasks
from gongzhi.messaging.choices import DeliveryState
from gongzhi.messaging.models import Delivery, DutyGroup, Message, Preference, RoleDefault
from gongzhi.messaging.services import Recipient
from gongzhi.messaging.tests import test_channels

provider = test_channels.provider  # the local HTTP server that plays the WeCom robot (a fixture)
smtp = test_channels.smtp  # the local SMTP server (aiosmtpd; a fixture)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXT = _("Case %(number)s has been reported.")
URL = "/api/v1/inbox/preferences"
PAGE = "/messages/preferences/"


def _at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2030, 1, day, hour, minute, tzinfo=SHANGHAI)


def _tell(user_ids, dedupe: str, *, urgency: str = "", now=None, bodies=(), obj=None):  # type: ignore[no-untyped-def]
    return services.notify(actor=None, recipients=[Recipient(u) for u in user_ids], kind="case.dispatched",
                           text=TEXT, params={"number": dedupe}, link="/cases/1/", obj=obj, urgency=urgency,
                           dedupe=dedupe, bodies=bodies, now=now or _at(1, 12))  # fmt: skip


@pytest.fixture
def worker(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.GRID_WORKER, node=tree.grids[0], email="")


# --- the API --------------------------------------------------------------------------------------------------------


def test_api_reads_and_writes_ones_own_preferences(api, worker):  # type: ignore[no-untyped-def]
    client = api.as_user(worker)
    got = client.get(URL).json()
    assert got == {"in_app": True, "sms": True, "email": True, "quiet_start": "22:00:00", "quiet_end": "07:00:00",
                   "digest": False, "chosen": False, "phone_known": True, "email_known": False,
                   "duty_groups": []}  # fmt: skip
    body = {"sms": True, "email": False, "quiet_start": "21:00", "quiet_end": "08:00", "digest": True}
    response = client.put(URL, body)
    assert response.status_code == 200, response.content
    assert response.json() | {} == got | {"email": False, "quiet_start": "21:00:00", "quiet_end": "08:00:00",
                                          "digest": True, "chosen": True}  # fmt: skip
    pref = Preference.objects.get(user=worker)
    assert (pref.sms, pref.email, pref.quiet_start, pref.digest) == (True, False, datetime.time(21), True)
    log = AuditLog.objects.get(action="messaging.preferences")
    assert log.actor == worker and log.before is None and log.after["quiet_start"] == "21:00:00"


def test_api_refuses_a_channel_that_cannot_reach_the_user(api, tree):  # type: ignore[no-untyped-def]
    nobody = user_with_role(Role.GRID_WORKER, node=tree.grids[0], email="", phone="")
    client = api.as_user(nobody)
    body = {"sms": True, "email": True, "quiet_start": "22:00", "quiet_end": "07:00", "digest": False}
    response = client.put(URL, body, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert {d["field"]: d["message"] for d in error["details"]} == {
        "sms": "要接收短信，您的账号需要有手机号码。", "email": "要接收电子邮件，您的账号需要有电子邮箱地址。",
    }  # fmt: skip
    assert not Preference.objects.filter(user=nobody).exists()
    # The schema's own checks, in the one error shape, the field named.
    bad = client.put(URL, body | {"sms": False, "email": False, "quiet_start": "25:00"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "quiet_start"
    assert "HH:MM" in bad.json()["error"]["details"][0]["message"]
    extra = client.put(URL, body | {"sms": False, "email": False, "user_id": 1})
    assert extra.status_code == 400 and extra.json()["error"]["details"][0]["field"] == "user_id"


def test_nobody_reads_or_edits_another_persons_preferences(api, tree, worker):  # type: ignore[no-untyped-def]
    Preference.objects.create(user=worker, sms=False, digest=True)
    admin = user_with_role(Role.ADMIN, email="root@example.org")
    other = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    # Only one's own: the admin's page and API show the admin's (defaults), never the worker's choice.
    assert api.as_user(admin).get(URL).json()["digest"] is False
    body = {"sms": False, "email": False, "quiet_start": "20:00", "quiet_end": "09:00", "digest": False}
    assert api.as_user(other).put(URL, body).status_code == 200
    mine = Preference.objects.get(user=worker)
    assert (mine.sms, mine.digest, mine.quiet_start) == (False, True, datetime.time(22))
    # No address names another's preferences; the rows are one's own only (a 404 through restrict).
    assert not Preference.objects.restrict(other, "view").filter(user=worker).exists()
    assert api.as_user(other).get(f"{URL}/{worker.pk}").status_code == 404
    assert api.as_user(other).put(f"{URL}/{worker.pk}", body).status_code in (404, 405)


# --- the page ---------------------------------------------------------------------------------------------------------


def test_page_is_reached_from_the_inbox_and_the_user_menu_and_saves(client, tree):  # type: ignore[no-untyped-def]
    for role, node in ((Role.GRID_WORKER, tree.grids[0]), (Role.RESIDENT, None), (Role.DEPARTMENT_HANDLER, None)):
        user = user_with_role(role, node=node, body=tree.department if role == Role.DEPARTMENT_HANDLER else None)
        client.force_login(user)
        inbox = client.get("/messages/").content.decode()
        assert (
            f'href="{PAGE}" id="inbox-preferences"' in inbox and f'id="whoami" title="通知设置" href="{PAGE}"' in inbox
        )
        assert client.get(PAGE).status_code == 200, role


def test_page_names_the_field_in_chinese_and_saves(client, tree):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0], email="", phone="13911112222")
    client.force_login(user)
    page = client.get(PAGE).content.decode()
    assert "站内消息（始终开启）" in page and "每日汇总，代替逐条发送" in page
    assert 'name="sms" id="id_sms" checked' in page and 'name="email" id="id_email"' in page
    assert 'name="email" id="id_email" checked' not in page, "no address: e-mail not offered as on"
    form = {"sms": "on", "email": "on", "quiet_start": "21:00", "quiet_end": "08:00"}
    refused = client.post(PAGE, form)
    assert refused.status_code == 400
    assert '<p class="field-error" data-field="email">要接收电子邮件，您的账号需要有电子邮箱地址。</p>' in (
        refused.content.decode()
    )
    assert not Preference.objects.filter(user=user).exists()
    form.pop("email")
    assert client.post(PAGE, form).status_code == 302
    assert "已保存" in client.get(PAGE).content.decode()


def test_quiet_hours_set_on_the_page_hold_sms_until_they_end(client, worker):  # type: ignore[no-untyped-def]
    client.force_login(worker)
    assert client.post(PAGE, {"sms": "on", "quiet_start": "21:00", "quiet_end": "08:00"}).status_code == 302
    _tell([worker.pk], "late", now=_at(1, 21, 30))
    sms = Delivery.objects.get(channel="sms", message__dedupe_key="late")
    assert sms.next_attempt_at == _at(2, 8)
    assert tasks.attempt(sms.pk, now=_at(1, 21, 30)) == "not due"
    assert tasks.attempt(sms.pk, now=_at(2, 8)) == "sent"
    _tell([worker.pk], "urgent", urgency="A", now=_at(1, 21, 30))
    assert Delivery.objects.get(channel="sms", message__dedupe_key="urgent").next_attempt_at is None
    # Built-in hours (22:00) would have sent the 21:30 message at once: the user's own hours count.
    assert _at(1, 21, 30).hour < 22


# --- the subdistrict's defaults per role --------------------------------------------------------------------------


def test_role_defaults_apply_to_users_who_never_chose(client, tree, other_tree):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    client.force_login(operator)
    page = client.get("/messages/role-defaults/").content.decode()
    assert 'data-role="grid_worker"' in page and 'data-role="admin"' not in page
    assert f'id="defaults-{tree.subdistrict.code}"' in page and other_tree.subdistrict.code not in page
    form = {"node": tree.subdistrict.pk, "grid_worker-sms": "on", "department_handler-email": "on"}
    assert client.post("/messages/role-defaults/", form).status_code == 302
    assert RoleDefault.objects.get(node=tree.subdistrict, role=Role.GRID_WORKER).sms
    assert AuditLog.objects.filter(action="messaging.role_defaults", actor=operator).count() == 1

    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], email="w@example.org")  # SMS only
    handler = user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department, email="h@example.org")  # e-mail only
    both = user_with_role(Role.GRID_WORKER, node=tree.grids[1], email="b@example.org")
    RoleAssignment.objects.create(user=both, role=Role.DEPARTMENT_HANDLER, body=tree.department)  # the union
    chose = user_with_role(Role.GRID_WORKER, node=tree.grids[0], email="c@example.org")
    Preference.objects.create(user=chose, sms=False, email=True)  # their own choice beats the role's
    elsewhere = user_with_role(Role.GRID_WORKER, node=other_tree.grids[0], email="e@example.org")  # built-in
    users = [worker, handler, both, chose, elsewhere]
    _tell([u.pk for u in users], "defaults")
    channels = {u.pk: set(Delivery.objects.filter(message__user=u).values_list("channel", flat=True)) for u in users}
    assert channels == {worker.pk: {"sms"}, handler.pk: {"email"}, both.pk: {"sms", "email"},
                        chose.pk: {"email"}, elsewhere.pk: {"sms", "email"}}  # fmt: skip
    api_view = prefs.effective([worker.pk])[worker.pk]
    assert (api_view[0].sms, api_view[0].email, api_view[1]) == (True, False, False)


def test_only_the_subdistrict_sets_its_role_defaults(client, tree, other_tree):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(worker)
    assert client.get("/messages/role-defaults/").status_code == 403
    stranger = user_with_role(Role.SUBDISTRICT_OPERATOR, node=other_tree.subdistrict)
    with pytest.raises(NotFound):
        services.set_role_defaults(actor=stranger, node_id=tree.subdistrict.pk, defaults={"grid_worker": (True, True)})
    client.force_login(stranger)
    response = client.post("/messages/role-defaults/", {"node": tree.subdistrict.pk, "grid_worker-sms": "on"})
    assert response.status_code == 404
    assert not RoleDefault.objects.exists()


# --- the daily digest -----------------------------------------------------------------------------------------------


def test_digest_sends_one_message_a_day_and_never_twice(fake_channels, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    user = UserFactory(email="d@example.org")
    Preference.objects.create(user=user, sms=True, email=True, digest=True)
    with django_capture_on_commit_callbacks(execute=True):
        for i, hour in enumerate((9, 11, 15)):
            _tell([user.pk], f"GZ-{i}", now=_at(1, hour))
        _tell([user.pk], "GZ-urgent", urgency="A", now=_at(1, 16))
    assert Message.objects.filter(user=user).count() == 4, "the inbox is told at once"
    assert sorted(m.body.split("\n")[0] for m in fake_channels.sent) == ["案件 GZ-urgent 已上报。"] * 2, (
        "urgent: at once"
    )
    assert Delivery.objects.filter(state=DeliveryState.HELD).count() == 6

    fake_channels.reset()
    with django_capture_on_commit_callbacks(execute=True):
        ids = services.send_digests(now=_at(1, 18))
    assert len(ids) == 2
    assert sorted(m.channel for m in fake_channels.sent) == ["email", "sms"]
    email = next(m for m in fake_channels.sent if m.channel == "email")
    assert email.subject == "您的每日汇总：3 条消息" and email.address == "d@example.org"
    assert [email.body.count(f"案件 GZ-{i} 已上报。") for i in range(3)] == [1, 1, 1]
    assert not Delivery.objects.filter(state=DeliveryState.HELD).exists()
    assert Delivery.objects.filter(state=DeliveryState.DIGESTED, digest_id__in=ids).count() == 6

    # A rerun the same day sends nothing; what arrives after waits for the next day's digest.
    with django_capture_on_commit_callbacks(execute=True):
        _tell([user.pk], "GZ-late", now=_at(1, 19))
        assert services.send_digests(now=_at(1, 20)) == []
    assert len(fake_channels.sent) == 2
    with django_capture_on_commit_callbacks(execute=True):
        next_day = services.send_digests(now=_at(2, 18))
    assert len(next_day) == 2 and len(fake_channels.sent) == 4
    assert "GZ-late" in fake_channels.sent[-1].body and "GZ-0" not in fake_channels.sent[-1].body
    assert AuditLog.objects.filter(action="messaging.digest").count() == 4


def test_digest_sms_keeps_the_quiet_hours_and_turning_it_off_releases_what_it_held(  # type: ignore[no-untyped-def]
    fake_channels, django_capture_on_commit_callbacks
):
    user = UserFactory(email="")
    Preference.objects.create(user=user, digest=True, quiet_start=datetime.time(17), quiet_end=datetime.time(7))
    _tell([user.pk], "held")
    [digest_id] = services.send_digests(now=_at(1, 18))
    assert Delivery.objects.get(pk=digest_id).next_attempt_at == _at(2, 7)
    _tell([user.pk], "held-2")
    with django_capture_on_commit_callbacks(execute=True):
        services.save_preferences(actor=user, sms=True, email=False, quiet_start=datetime.time(22),
                                  quiet_end=datetime.time(7), digest=False)  # fmt: skip
    released = Delivery.objects.get(message__dedupe_key="held-2")
    assert released.state in (DeliveryState.QUEUED, DeliveryState.SENT) and released.digest_id is None


def test_the_digest_job_waits_for_its_hour_and_goes_through_the_tasks_api(  # type: ignore[no-untyped-def]
    fake_channels, settings, django_capture_on_commit_callbacks
):
    settings.GONGZHI_MESSAGING_DIGEST_HOUR = 18
    user = UserFactory(email="")
    Preference.objects.create(user=user, digest=True, quiet_start=datetime.time(0), quiet_end=datetime.time(0))
    _tell([user.pk], "job", now=_at(1, 9))
    assert schedule.enqueue_digests(now=_at(1, 17, 59)) == "not yet"
    assert Delivery.objects.filter(state=DeliveryState.HELD).count() == 1
    with django_capture_on_commit_callbacks(execute=True):  # the immediate backend runs it (after commit)
        assert schedule.enqueue_digests(now=_at(1, 18)).startswith("enqueued")
    assert Delivery.objects.filter(state=DeliveryState.DIGESTED).count() == 1
    assert len(fake_channels.sent) == 1 and fake_channels.sent[0].subject == "您的每日汇总：1 条消息"
    assert "messaging_digest" in [job.name for job in schedule.JOBS]


def test_digest_arrives_by_smtp(smtp, settings, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    settings.GONGZHI_MESSAGING_CHANNELS = {**settings.GONGZHI_MESSAGING_CHANNELS,
                                           "email": "gongzhi.messaging.channels.email.EmailChannel"}  # fmt: skip
    user = UserFactory(email="digest@example.org")
    Preference.objects.create(user=user, sms=False, email=True, digest=True)
    with django_capture_on_commit_callbacks(execute=True):
        _tell([user.pk], "GZ-A", now=_at(1, 9))
        _tell([user.pk], "GZ-B", now=_at(1, 10))
    assert smtp.messages == [], "held for the digest"
    with django_capture_on_commit_callbacks(execute=True):
        services.send_digests(now=_at(1, 18))
    with django_capture_on_commit_callbacks(execute=True):
        services.send_digests(now=_at(1, 18, 10))
    [raw] = smtp.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "digest@example.org" and mail["Subject"] == "您的每日汇总：2 条消息"
    text = mail.get_content()
    assert "案件 GZ-A 已上报。" in text and "案件 GZ-B 已上报。" in text


# --- a body's WeCom duty group ------------------------------------------------------------------------------------


def test_duty_group_page_keeps_the_webhook_secret(client, tree):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    client.force_login(operator)
    secret = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    assert client.get("/messages/duty-groups/").status_code == 200
    response = client.post("/messages/duty-groups/", {"body": tree.department.pk, "webhook_url": secret,
                                                      "is_active": "on"})  # fmt: skip
    assert response.status_code == 302
    assert DutyGroup.objects.get(body=tree.department).webhook_url == secret
    page = client.get("/messages/duty-groups/").content.decode()
    assert "693a91f6" not in page and "key=…5aaa" in page
    log = AuditLog.objects.get(action="messaging.duty_group")
    assert "693a91f6" not in json.dumps(log.after)
    # Saving without a new URL keeps the stored one; a URL that is not one is refused, the field named.
    client.post("/messages/duty-groups/", {"body": tree.department.pk, "webhook_url": ""})
    assert DutyGroup.objects.get(body=tree.department).webhook_url == secret
    bad = client.post("/messages/duty-groups/", {"body": tree.department.pk, "webhook_url": "robot-key"})
    assert bad.status_code == 400 and "粘贴机器人的完整推送地址" in bad.content.decode()
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(worker)
    assert client.get("/messages/duty-groups/").status_code == 403


def test_a_case_dispatched_to_a_body_tells_its_duty_group_once(  # type: ignore[no-untyped-def]
    tree,
    provider,
    settings,
    django_capture_on_commit_callbacks,
):
    from gongzhi.cases import workflow
    from gongzhi.cases.tests.factories import new_case

    settings.GONGZHI_MESSAGING_CHANNELS = {**settings.GONGZHI_MESSAGING_CHANNELS,
                                           "wecom": "gongzhi.messaging.channels.wecom.WeComRobotChannel"}  # fmt: skip
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    handlers = [user_with_role(Role.DEPARTMENT_HANDLER, body=tree.department) for _ in range(3)]
    services.set_duty_group(actor=operator, body_id=tree.department.pk,
                            webhook_url=f"{provider.url}/cgi-bin/webhook/send?key=robot-key")  # fmt: skip
    services.set_duty_group(actor=operator, body_id=tree.committees[0].pk,
                            webhook_url=f"{provider.url}/cgi-bin/webhook/send?key=desk-key")  # fmt: skip
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    case = new_case(worker, tree.grids[0])
    assert case.owner_body_id == tree.committees[0].pk
    assert not Delivery.objects.filter(channel="wecom").exists(), "a new case is not posted to the desk's group"
    with django_capture_on_commit_callbacks(execute=True):
        workflow.perform(actor=operator, case_id=case.pk, action="accept", note="", payload={})
        workflow.perform(actor=operator, case_id=case.pk, action="dispatch", note="请处理",
                         payload={"handler_body_id": tree.department.pk})  # fmt: skip
    assert Message.objects.filter(kind="case.dispatched").count() == len(handlers)
    [group] = Delivery.objects.filter(channel="wecom")
    assert group.address.startswith("dutygroup:") and "robot-key" not in group.address, "the secret stays off the row"
    assert (group.state, group.kind, group.node_code) == (DeliveryState.SENT, "case.dispatched", case.place_code)
    [(path, _headers, body)] = provider.requests
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(path).query) == {"key": ["robot-key"]}
    assert case.number in json.loads(body)["markdown"]["content"]
    # A handler's own page says their body's duty group is told.
    assert selectors_duty_groups(handlers[0]) == [tree.department.name]


def selectors_duty_groups(user):  # type: ignore[no-untyped-def]
    from gongzhi.messaging import selectors

    return selectors.my_preferences(user=user)["duty_groups"]


def test_a_removed_duty_group_is_not_told_and_a_pending_send_gives_up(tree, fake_channels):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    services.set_duty_group(actor=operator, body_id=tree.department.pk,
                            webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")  # fmt: skip
    result = _tell([], "to-body", bodies=[tree.department.pk, tree.department.pk, tree.office.pk])
    assert len(result.deliveries) == 1, "once per body; the office has no duty group"
    assert _tell([], "to-body", bodies=[tree.department.pk]).deliveries == [], "nobody twice"
    services.set_duty_group(actor=operator, body_id=tree.department.pk, webhook_url="")
    assert tasks.attempt(result.deliveries[0]) == DeliveryState.GAVE_UP
    assert fake_channels.sent == []
    assert _tell([], "after", bodies=[tree.department.pk]).deliveries == []
