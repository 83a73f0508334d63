"""A channel for tests: a real class, configured through ``GONGZHI_MESSAGING_CHANNELS``, that keeps what it was
asked to send and answers what the test queued (``ok`` when nothing is queued)."""

from __future__ import annotations

from typing import ClassVar

from gongzhi.messaging.channels.base import Outgoing, SendResult


class FakeChannel:
    name = "fake"
    sent: ClassVar[list[Outgoing]] = []
    answers: ClassVar[list[SendResult]] = []

    @classmethod
    def reset(cls) -> None:
        cls.sent.clear()
        cls.answers.clear()

    def send(self, message: Outgoing) -> SendResult:
        FakeChannel.sent.append(message)
        if FakeChannel.answers:
            return FakeChannel.answers.pop(0)
        return SendResult(ok=True, provider_id=f"p{len(FakeChannel.sent)}", answer="200 OK")


PATH = "gongzhi.messaging.tests.fakes.FakeChannel"
CHANNELS = {"sms": PATH, "email": PATH, "wecom": PATH}
