"""Following a case without an account (查询进度): the tracking code is the secret.

A new case's tracking code is 16 characters of Crockford's base 32 (digits and letters without I, L, O, U: 80
random bits), shown in groups of four (``7KQ2-M9XD-…``); typing is forgiving (lower case, spaces, dashes, O for 0,
I and L for 1). A code alone finds the case, so a case reported without a phone can be followed; a phone, if given,
must be the reporter's. The 8-hex-digit codes of cases taken in before (32 bits, too short to be a secret on their
own) still work, together with the reporter's phone, and so does the case number with the phone.

Guesses are limited per client address in the shared counters (``core.throttle``): every look-up counts towards
``public_track`` (the endpoints' throttle), and each one that finds nothing towards ``public_track_miss``; past that
limit the address gets 429 until the window has passed, right answers included.
"""

from __future__ import annotations

import base64
import secrets

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gongzhi.cases import selectors
from gongzhi.cases.models import Case
from gongzhi.core import throttle
from gongzhi.core.errors import DomainError
from gongzhi.core.http import client_ip

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
LENGTH = 16
ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
MISS_SCOPE = "public_track_miss"


# base64's base 32 (RFC 4648: A–Z, 2–7) letter for letter into Crockford's: the same 5 random bits a character.
_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def new_code() -> str:
    return new_codes(1)[0]


def new_codes(n: int) -> list[str]:
    """``n`` new tracking codes: 80 random bits each (``secrets``), written in :data:`ALPHABET`. One draw of random
    bytes for them all (a 12345 batch takes ten thousand at once; a ``secrets.choice`` per character cost more than
    writing the cases)."""
    text = base64.b32encode(secrets.token_bytes(LENGTH * 5 // 8 * n)).decode("ascii").translate(_FROM_RFC4648)
    return [text[i : i + LENGTH] for i in range(0, LENGTH * n, LENGTH)]


def normalise(text: str) -> str:
    return text.strip().upper().translate(ALIASES)


def display(code: str) -> str:
    """``7KQ2M9XD…`` → ``7KQ2-M9XD-…`` (an old 8-digit code is shown as it is)."""
    if len(code) != LENGTH:
        return code
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


class TooManyGuesses(DomainError):
    def __init__(self) -> None:
        super().__init__(
            message=str(_("Too many attempts from this connection. Please wait a while and try again.")),
            code="throttled",
            status=429,
        )


def find(request: HttpRequest, *, code: str = "", number: str = "", phone: str = "") -> Case | None:
    """The case a resident may follow with this tracking code (or case number) and phone; ``None`` when nothing
    matches. Raises :class:`TooManyGuesses` when this client address has missed too often lately."""
    rate, address = throttle.rate_of(MISS_SCOPE), client_ip(request)
    if throttle.count(MISS_SCOPE, address, rate) >= rate.limit:
        raise TooManyGuesses
    case = selectors.public_case(code=normalise(code), number=number, phone=phone, full_length=LENGTH)
    if case is None:
        throttle.add(MISS_SCOPE, address, rate)
    return case
