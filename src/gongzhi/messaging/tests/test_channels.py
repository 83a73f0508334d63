"""The channels against real local servers (issue 17): an SMTP server (aiosmtpd) and an HTTP server that plays Aliyun
SMS, Tencent Cloud SMS and a WeCom robot, checks each request's signature with its own copy of the secret and can
answer 500, a throttling code, or hang past the timeout. Nothing in the transport is mocked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gongzhi.messaging.channels import base
from gongzhi.messaging.channels.base import Outgoing, SendResult
from gongzhi.messaging.channels.email import EmailChannel, message_id
from gongzhi.messaging.channels.record import RecordingChannel
from gongzhi.messaging.channels.sms import AliyunSmsChannel, TencentSmsChannel
from gongzhi.messaging.channels.wecom import WeComRobotChannel, cut_bytes

TIMEOUT = 0.5  # seconds the channels wait in these tests; the "hang" answer waits longer
ALIYUN_SECRET = "aliyun-secret"
TENCENT_SECRET = "tencent-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def outgoing(channel: str, address: str, **kw: Any) -> Outgoing:
    values: dict[str, Any] = {
        "subject": "案件已派遣 GZ-2026-000123",
        "body": "您有一个新案件:楼道堆物 https://gongzhi.example/cases/123",
        "key": "delivery-42",
        "template_code": "SMS_123456",
        "params": {"number": "GZ-2026-000123", "title": "楼道 堆物*~+"},
    }
    values.update(kw)
    return Outgoing(channel=channel, address=address, **values)


# ---- the fake providers ------------------------------------------------------------------------------------------


def aliyun_check(params: dict[str, str]) -> bool:
    """The server side of Aliyun's RPC signature, written from the documentation independently of the channel."""
    given = params.pop("Signature", "")

    def enc(value: str) -> str:
        return urllib.parse.quote(value, safe="~").replace("%7E", "~")

    canonical = "&".join(f"{enc(k)}={enc(params[k])}" for k in sorted(params))
    to_sign = "POST&%2F&" + enc(canonical)
    expected = base64.b64encode(hmac.new((ALIYUN_SECRET + "&").encode(), to_sign.encode(), hashlib.sha1).digest())
    return hmac.compare_digest(expected.decode(), given)


def tencent_check(headers: Any, body: bytes) -> bool:
    """The server side of TC3-HMAC-SHA256, written from the documentation independently of the channel."""
    auth = headers.get("Authorization", "")
    timestamp = headers.get("X-TC-Timestamp", "")
    date = datetime.fromtimestamp(int(timestamp), UTC).date().isoformat()
    canonical = (
        f"POST\n/\n\ncontent-type:{headers.get('Content-Type')}\nhost:{headers.get('Host')}\n\n"
        f"content-type;host\n{hashlib.sha256(body).hexdigest()}"
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    k = hmac.new(("TC3" + TENCENT_SECRET).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"sms", hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    expected = f"TC3-HMAC-SHA256 Credential=AKID-test/{scope}, SignedHeaders=content-type;host, Signature={signature}"
    return hmac.compare_digest(expected, auth)


class Provider(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append((self.path, self.headers, body))
        mode = self.server.mode
        if mode == "hang":
            time.sleep(TIMEOUT * 3)
            return
        if mode == "500":
            self.reply(500, {"error": "internal"})
            return
        if self.path.startswith("/aliyun"):
            self.aliyun(body, mode)
        elif self.path.startswith("/tencent"):
            self.tencent(body, mode)
        else:
            self.wecom(body, mode)

    def aliyun(self, body: bytes, mode: str) -> None:
        params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
        if not aliyun_check(dict(params)):
            self.reply(400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"})
        elif mode == "throttle":
            self.reply(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"})
        elif mode == "reject":
            self.reply(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
        else:
            self.reply(200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r1"})

    def tencent(self, body: bytes, mode: str) -> None:
        if self.headers.get("X-TC-Action") != "SendSms" or self.headers.get("X-TC-Version") != "2021-01-11":
            self.reply(200, {"Response": {"Error": {"Code": "InvalidAction", "Message": "?"}, "RequestId": "r"}})
        elif not tencent_check(self.headers, body):
            error = {
                "Code": "AuthFailure.SignatureFailure",
                "Message": "The provided credentials could not be validated.",
            }
            self.reply(200, {"Response": {"Error": error, "RequestId": "r2"}})
        elif mode == "throttle":
            self.reply(
                200, {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}, "RequestId": "r"}}
            )
        elif mode == "reject":
            status = {"SerialNo": "", "Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "bad number"}
            self.reply(200, {"Response": {"SendStatusSet": [status], "RequestId": "r3"}})
        else:
            sent = json.loads(body)
            status = {
                "SerialNo": "5000:1045710669157053657849499619",
                "PhoneNumber": sent["PhoneNumberSet"][0],
                "Code": "Ok",
                "Message": "send success",
                "SessionContext": sent["SessionContext"],
            }
            self.reply(200, {"Response": {"SendStatusSet": [status], "RequestId": "r4"}})

    def wecom(self, body: bytes, mode: str) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if query.get("key") != ["robot-key"]:
            self.reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        elif mode == "throttle":
            self.reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
        else:
            self.reply(200, {"errcode": 0, "errmsg": "ok"})


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Provider)
        self.mode = "ok"
        self.requests: list[tuple[str, Any, bytes]] = []  # path, headers (case-insensitive), body

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def provider(settings: Any) -> Iterator[FakeServer]:
    server = FakeServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.GONGZHI_MESSAGING_TIMEOUT = TIMEOUT
    settings.GONGZHI_SMS_ALIYUN = {
        "access_key_id": "LTAI-test",
        "access_key_secret": ALIYUN_SECRET,
        "sign_name": "共治街道",
        "endpoint": f"{server.url}/aliyun/",
    }
    settings.GONGZHI_SMS_TENCENT = {
        "secret_id": "AKID-test",
        "secret_key": TENCENT_SECRET,
        "sdk_app_id": "1400000001",
        "sign_name": "共治街道",
        "endpoint": f"{server.url}/tencent/",
    }
    yield server
    server.shutdown()
    server.server_close()


# ---- recording ---------------------------------------------------------------------------------------------------


def test_the_recording_channel_sends_nothing_and_says_so(settings: Any) -> None:
    settings.GONGZHI_MESSAGING_CHANNELS = {"sms": "gongzhi.messaging.channels.record.RecordingChannel"}
    channel = base.get("sms")
    assert isinstance(channel, RecordingChannel)
    assert channel.send(outgoing("sms", "13800000000")) == SendResult(ok=True, answer="recorded")


# ---- Aliyun SMS ----------------------------------------------------------------------------------------------------


def test_aliyun_sends_a_signed_request_the_provider_accepts(provider: FakeServer) -> None:
    result = AliyunSmsChannel().send(outgoing("sms", "13800000000"))
    assert result == SendResult(ok=True, provider_id="900619746936498440^0", answer=result.answer)
    _path, _headers, body = provider.requests[-1]
    params = dict(urllib.parse.parse_qsl(body.decode()))
    assert params["Action"] == "SendSms" and params["Version"] == "2017-05-25"
    assert params["SignatureMethod"] == "HMAC-SHA1" and params["SignatureVersion"] == "1.0"
    assert params["PhoneNumbers"] == "13800000000" and params["SignName"] == "共治街道"
    assert params["TemplateCode"] == "SMS_123456" and params["OutId"] == "delivery-42"
    assert json.loads(params["TemplateParam"]) == {"number": "GZ-2026-000123", "title": "楼道 堆物*~+"}
    assert params["SignatureNonce"] and params["Timestamp"].endswith("Z")


def test_aliyun_with_a_wrong_secret_is_refused_and_given_up(provider: FakeServer, settings: Any) -> None:
    settings.GONGZHI_SMS_ALIYUN = {**settings.GONGZHI_SMS_ALIYUN, "access_key_secret": "wrong"}
    result = AliyunSmsChannel().send(outgoing("sms", "13800000000"))
    assert not result.ok and result.permanent
    assert "SignatureDoesNotMatch" in result.answer


@pytest.mark.parametrize(
    ("mode", "permanent", "seen"),
    [
        ("throttle", False, "isv.BUSINESS_LIMIT_CONTROL"),
        ("500", False, "HTTP 500"),
        ("hang", False, "timed out"),
        ("reject", True, "isv.MOBILE_NUMBER_ILLEGAL"),
    ],
)
def test_aliyun_failures_are_retried_or_given_up(provider: FakeServer, mode: str, permanent: bool, seen: str) -> None:
    provider.mode = mode
    started = time.monotonic()
    result = AliyunSmsChannel().send(outgoing("sms", "13800000000"))
    assert time.monotonic() - started < TIMEOUT * 2.5
    assert not result.ok and result.permanent is permanent
    assert seen in result.answer


# ---- Tencent Cloud SMS -------------------------------------------------------------------------------------------


def test_tencent_sends_a_signed_request_the_provider_accepts(provider: FakeServer) -> None:
    result = TencentSmsChannel().send(outgoing("sms", "13800000000"))
    assert result.ok and result.provider_id == "5000:1045710669157053657849499619"
    _path, headers, body = provider.requests[-1]
    assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Version"] == "2021-01-11"
    assert headers["X-TC-Region"] == "ap-guangzhou"
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID-test/")
    sent = json.loads(body)
    assert sent == {
        "PhoneNumberSet": ["+8613800000000"],
        "SmsSdkAppId": "1400000001",
        "SignName": "共治街道",
        "TemplateId": "SMS_123456",
        "TemplateParamSet": ["GZ-2026-000123", "楼道 堆物*~+"],
        "SessionContext": "delivery-42",
    }


def test_tencent_with_a_wrong_secret_is_refused_and_given_up(provider: FakeServer, settings: Any) -> None:
    settings.GONGZHI_SMS_TENCENT = {**settings.GONGZHI_SMS_TENCENT, "secret_key": "wrong"}
    result = TencentSmsChannel().send(outgoing("sms", "13800000000"))
    assert not result.ok and result.permanent
    assert "AuthFailure.SignatureFailure" in result.answer


@pytest.mark.parametrize(
    ("mode", "permanent", "seen"),
    [
        ("throttle", False, "RequestLimitExceeded"),
        ("500", False, "HTTP 500"),
        ("hang", False, "timed out"),
        ("reject", True, "InvalidParameterValue.IncorrectPhoneNumber"),
    ],
)
def test_tencent_failures_are_retried_or_given_up(provider: FakeServer, mode: str, permanent: bool, seen: str) -> None:
    provider.mode = mode
    result = TencentSmsChannel().send(outgoing("sms", "13800000000"))
    assert not result.ok and result.permanent is permanent
    assert seen in result.answer


def test_an_sms_provider_that_is_not_there_is_retried(settings: Any) -> None:
    settings.GONGZHI_MESSAGING_TIMEOUT = TIMEOUT
    settings.GONGZHI_SMS_ALIYUN = {"access_key_secret": "x", "endpoint": f"http://127.0.0.1:{free_port()}/"}
    result = AliyunSmsChannel().send(outgoing("sms", "13800000000"))
    assert not result.ok and not result.permanent
    assert "Connection" in result.answer or "refused" in result.answer


# ---- WeCom robots ------------------------------------------------------------------------------------------------


def test_wecom_posts_markdown_to_the_robot(provider: FakeServer) -> None:
    result = WeComRobotChannel().send(outgoing("wecom", f"{provider.url}/cgi-bin/webhook/send?key=robot-key"))
    assert result.ok and not result.permanent
    path, _headers, body = provider.requests[-1]
    assert path == "/cgi-bin/webhook/send?key=robot-key"
    sent = json.loads(body)
    assert sent["msgtype"] == "markdown"
    assert (
        sent["markdown"]["content"]
        == "**案件已派遣 GZ-2026-000123**\n您有一个新案件:楼道堆物 https://gongzhi.example/cases/123"
    )


def test_wecom_text_is_cut_to_the_robot_limit(provider: FakeServer, settings: Any) -> None:
    settings.GONGZHI_WECOM_MSGTYPE = "text"
    message = outgoing("wecom", f"{provider.url}/cgi-bin/webhook/send?key=robot-key", body="长" * 3000)
    assert WeComRobotChannel().send(message).ok
    content = json.loads(provider.requests[-1][2])["text"]["content"]
    assert len(content.encode()) <= 2048 and content.endswith("…")
    assert content.startswith("案件已派遣 GZ-2026-000123\n长长")


def test_cut_bytes_never_splits_a_character() -> None:
    assert cut_bytes("abc", 3) == "abc"
    cut = cut_bytes("共治" * 10, 10)  # 3 bytes each; the ellipsis takes 3
    assert cut == "共治…" and len(cut.encode()) <= 10


@pytest.mark.parametrize(
    ("mode", "key", "permanent", "seen"),
    [
        ("throttle", "robot-key", False, "45009"),
        ("500", "robot-key", False, "HTTP 500"),
        ("hang", "robot-key", False, "timed out"),
        ("ok", "removed-robot", True, "93000"),
    ],
)
def test_wecom_failures_are_retried_or_given_up(
    provider: FakeServer, mode: str, key: str, permanent: bool, seen: str
) -> None:
    provider.mode = mode
    result = WeComRobotChannel().send(outgoing("wecom", f"{provider.url}/cgi-bin/webhook/send?key={key}"))
    assert not result.ok and result.permanent is permanent
    assert seen in result.answer


# ---- e-mail --------------------------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "gongzhi@example.org"
    settings.GONGZHI_MESSAGING_TIMEOUT = TIMEOUT
    yield mailbox
    controller.stop()


def test_an_email_arrives_with_its_subject_body_and_message_id(smtp: Mailbox) -> None:
    result = EmailChannel().send(outgoing("email", "worker@example.org"))
    assert result.ok and result.provider_id == message_id("delivery-42")
    [raw] = smtp.messages
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "案件已派遣 GZ-2026-000123"
    assert mail["To"] == "worker@example.org" and mail["From"] == "gongzhi@example.org"
    assert mail["Message-ID"] == message_id("delivery-42")
    assert mail.get_content().strip() == "您有一个新案件:楼道堆物 https://gongzhi.example/cases/123"


def test_the_message_id_follows_the_delivery_key() -> None:
    assert message_id("delivery-42") == message_id("delivery-42") != message_id("delivery-43")
    assert message_id("a key with <odd> @ chars").endswith("@gongzhi.invalid>")


@pytest.mark.parametrize(
    ("address", "permanent", "seen"), [("gone@example.org", True, "550"), ("busy@example.org", False, "450")]
)
def test_a_refused_recipient_is_given_up_on_5xx_and_retried_on_4xx(
    smtp: Mailbox, address: str, permanent: bool, seen: str
) -> None:
    result = EmailChannel().send(outgoing("email", address))
    assert not result.ok and result.permanent is permanent
    assert seen in result.answer
    assert smtp.messages == []


def test_an_smtp_server_that_is_not_there_is_retried(settings: Any) -> None:
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    result = EmailChannel().send(outgoing("email", "worker@example.org"))
    assert not result.ok and not result.permanent


def test_an_smtp_server_that_never_answers_times_out_and_is_retried(settings: Any) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says hello
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent.getsockname()[1]
        settings.GONGZHI_MESSAGING_TIMEOUT = TIMEOUT
        started = time.monotonic()
        result = EmailChannel().send(outgoing("email", "worker@example.org"))
    assert time.monotonic() - started < TIMEOUT * 3
    assert not result.ok and not result.permanent
    assert "timed out" in result.answer


def test_aliyun_takes_mainland_numbers_without_the_country_code(provider: FakeServer) -> None:
    assert AliyunSmsChannel().send(outgoing("sms", "+8613800000000")).ok
    assert dict(urllib.parse.parse_qsl(provider.requests[-1][2].decode()))["PhoneNumbers"] == "13800000000"
