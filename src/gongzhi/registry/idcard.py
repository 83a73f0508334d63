"""18-digit PRC resident ID numbers (GB 11643): structure, embedded birth date, sex and the ISO 7064 checksum."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ErrorDetail, Text, ValidationFailed
from gongzhi.core.messages import fmt

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"\d{17}[\dX]")
EARLIEST_BIRTH = datetime.date(1900, 1, 1)


@dataclass(frozen=True)
class IdCard:
    number: str
    region: str
    birth_date: datetime.date
    sex: str  # "male" / "female", from the 17th digit (odd = male)


def normalise(value: str) -> str:
    return value.strip().upper()


def check_char(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("expected 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def id_number_errors(value: str, today: datetime.date | None = None) -> list[Text]:
    """What is wrong with ``value`` (empty when it is a valid ID number)."""
    number = normalise(value)
    if len(number) != 18:
        return [fmt(_("an ID number has 18 characters, not %(n)s"), n=len(number))]
    if not _SHAPE.fullmatch(number):
        return [_("an ID number is 17 digits followed by a digit or X")]
    errors: list[Text] = []
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        errors.append(fmt(_("the birth date %(value)s is not a real date"), value=number[6:14]))
    else:
        if born < EARLIEST_BIRTH or born > (today or datetime.date.today()):
            errors.append(fmt(_("the birth date %(value)s is out of range"), value=born.isoformat()))
    if check_char(number[:17]) != number[17]:
        errors.append(_("the check character does not match (GB 11643 checksum)"))
    return errors


def parse_id_number(value: str, field: str = "id_number") -> IdCard:
    """A valid ID number's parts; :class:`ValidationFailed` with field errors otherwise."""
    errors = id_number_errors(value)
    if errors:
        raise ValidationFailed(_("The ID number is not valid."), [ErrorDetail(field=field, message=m) for m in errors])
    return card_of(value)


def card_of(value: str) -> IdCard:
    """The parts of an ID number already found valid (:func:`id_number_errors` empty): not checked again."""
    number = normalise(value)
    return IdCard(
        number=number,
        region=number[:6],
        birth_date=datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        sex="male" if int(number[16]) % 2 else "female",
    )
