"""Registry test helpers: valid ID numbers computed from the GB 11643 algorithm, and people in households."""

from __future__ import annotations

import datetime
import itertools

from gongzhi.registry.idcard import check_char
from gongzhi.registry.models import Person, Residence

_seq = itertools.count(1)


def make_id_number(region: str = "320102", born: str = "19900101", serial: str | None = None) -> str:
    """A valid 18-digit ID number (``serial``: three digits; the last one's parity is the sex, odd = male)."""
    first17 = f"{region}{born}{serial or f'{next(_seq) % 1000:03d}'}"
    return first17 + check_char(first17)


def make_person(household, name: str = "张三", phone: str = "", id_number: str | None = None, **extra) -> Person:  # type: ignore[no-untyped-def]
    n = next(_seq)
    person = Person.objects.create(
        name=name,
        household=household,
        phone=phone or f"138{n:08d}",
        id_number=id_number if id_number is not None else make_id_number(serial=f"{n % 1000:03d}"),
        **extra,
    )
    if household is not None:
        Residence.objects.create(person=person, household=household, moved_in=datetime.date(2020, 1, 1))
    return person
