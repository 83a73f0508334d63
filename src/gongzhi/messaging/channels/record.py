"""The recording channel: sends nothing and answers "recorded". The demo's and the tests' default for SMS, e-mail and
WeCom (in the spirit of Django's console e-mail backend): the delivery rows themselves are the record of what would
have been sent, shown to administrators."""

from __future__ import annotations

from .base import Outgoing, SendResult


class RecordingChannel:
    name = "record"

    def send(self, message: Outgoing) -> SendResult:
        return SendResult(ok=True, answer="recorded")
