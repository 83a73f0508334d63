"""WeCom (企业微信) group robots: a body's duty group is told through its robot's webhook.

The address is the robot's webhook URL (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``: the key is in the
URL, so the URL is a secret). The message is POSTed as JSON, ``{"msgtype": "markdown", "markdown": {"content": …}}``
or ``{"msgtype": "text", "text": {"content": …}}`` (``GONGZHI_WECOM_MSGTYPE``, markdown by default); the robot answers
``{"errcode": 0, "errmsg": "ok"}``. WeCom caps a text at 2,048 bytes and a markdown at 4,096 bytes (UTF-8): a longer
message is cut with an ellipsis. 45009 (too many calls: a robot takes 20 messages a minute), a 5xx or a network
problem is tried again; any other errcode (a removed robot, a bad key) is given up.
"""

from __future__ import annotations

import json

from django.conf import settings

from . import _http
from .base import Outgoing, SendResult

LIMITS = {"text": 2048, "markdown": 4096}  # bytes of UTF-8 content
RATE_LIMITED = 45009
RETRY_ERRCODES = {RATE_LIMITED, -1}  # -1: "system busy"
ELLIPSIS = "…"


def cut_bytes(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-8 bytes, ending in an ellipsis when it had to be cut (never mid-character)."""
    if len(text.encode()) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    return text.encode()[:room].decode("utf-8", "ignore") + ELLIPSIS


class WeComRobotChannel:
    name = "wecom"

    def __init__(self) -> None:
        msgtype = str(getattr(settings, "GONGZHI_WECOM_MSGTYPE", "markdown"))
        self.msgtype = msgtype if msgtype in LIMITS else "markdown"

    def content(self, message: Outgoing) -> str:
        if self.msgtype == "markdown":
            text = f"**{message.subject}**\n{message.body}" if message.subject else message.body
        else:
            text = f"{message.subject}\n{message.body}" if message.subject else message.body
        return cut_bytes(text, LIMITS[self.msgtype])

    def send(self, message: Outgoing) -> SendResult:
        payload = {"msgtype": self.msgtype, self.msgtype: {"content": self.content(message)}}
        reply = _http.request(
            message.address,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        answer = reply.json()
        if reply.transient:
            return SendResult(ok=False, permanent=False, answer=reply.describe())
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        if reply.status == 200 and errcode == 0:
            return SendResult(ok=True, answer=reply.describe())
        return SendResult(ok=False, permanent=errcode not in RETRY_ERRCODES, answer=reply.describe())
