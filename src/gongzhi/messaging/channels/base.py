"""What every channel takes and answers: the contract between the delivery job (``messaging.tasks``) and a channel.

A channel never raises for a failed send: it answers a :class:`SendResult` that says whether to try again
(``permanent=False``: a network error, a timeout, a 5xx, a provider's "too many requests") or to give up
(``permanent=True``: a 4xx that will not change, a bad number, a rejected template). It must be safe to call again
with the same ``Outgoing.key`` after an unknown outcome: providers that take an idempotency token get the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

# Channel names, as stored on a delivery and chosen in a user's preferences.
IN_APP = "in_app"  # the inbox: no delivery job, the message row is the delivery
SMS = "sms"
EMAIL = "email"
WECOM = "wecom"  # a body's duty group, through its 企业微信 group robot webhook
CHANNELS = (IN_APP, SMS, EMAIL, WECOM)


@dataclass(frozen=True)
class Outgoing:
    """One message to one address on one channel."""

    channel: str
    address: str  # a phone number (SMS), an e-mail address, a WeCom webhook URL
    subject: str  # rendered, in the recipient's language (e-mail subject; the first line elsewhere)
    body: str  # rendered text, with the link to the object
    key: str  # the delivery's idempotency key: the same key is never sent twice by a provider that honours it
    template_code: str = ""  # SMS: the provider's approved template (SMS_123456 / a Tencent template id)
    params: dict[str, str] = field(default_factory=dict)  # SMS: the template's parameters, by name (Aliyun) or order


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False  # only when not ok: True = give up, False = retry later
    provider_id: str = ""  # the provider's message id, when it gives one
    answer: str = ""  # what the provider said (status line and body, cut to a few hundred characters)


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> SendResult: ...


def get(name: str) -> Channel:
    """The channel configured for ``name`` (``settings.GONGZHI_MESSAGING_CHANNELS[name]``: a dotted class path,
    instantiated without arguments; it reads its own settings)."""
    paths: dict[str, str] = getattr(settings, "GONGZHI_MESSAGING_CHANNELS", {})  # a project setting the stubs know not
    path = paths[name]
    channel: Channel = import_string(path)()
    return channel
