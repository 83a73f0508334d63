"""GB 11643 ID numbers: checksum, embedded birth date, sex, and field errors for bad input."""

from __future__ import annotations

import datetime

import pytest

from gongzhi.core.errors import ValidationFailed
from gongzhi.registry.idcard import CHECK_CHARS, WEIGHTS, check_char, id_number_errors, parse_id_number


def _by_hand(first17: str) -> str:
    """The checksum spelled out independently of the module: sum(a_i * w_i) mod 11 → 10X98765432."""
    total = 0
    for i, digit in enumerate(first17):
        total += int(digit) * (2 ** (17 - i) % 11)  # w_i = 2^(18-i-1) mod 11, the ISO 7064 MOD 11-2 weights
    return "10X98765432"[total % 11]


def test_weights_and_check_chars_are_the_standard_ones() -> None:
    assert tuple(2 ** (17 - i) % 11 for i in range(17)) == WEIGHTS
    assert CHECK_CHARS == "10X98765432"


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "11010519491231002x", "34052419800101001X", "110101199003074477"]
)
def test_published_examples_are_valid(number: str) -> None:
    assert id_number_errors(number) == []
    assert parse_id_number(number).number == number.upper()


def test_published_example_parts() -> None:
    card = parse_id_number("11010519491231002X")
    assert card.region == "110105"
    assert card.birth_date == datetime.date(1949, 12, 31)
    assert card.sex == "female"  # 17th digit 2 is even


@pytest.mark.parametrize(
    ("prefix", "born", "serial", "sex"),
    [
        ("320102", "19900101", "123", "male"),
        ("210113", "20000229", "456", "female"),
        ("330902", "19751130", "001", "male"),
        ("310230", "19681010", "998", "female"),
    ],
)
def test_computed_numbers_are_valid(prefix: str, born: str, serial: str, sex: str) -> None:
    first17 = prefix + born + serial
    number = first17 + _by_hand(first17)
    assert check_char(first17) == number[-1]
    card = parse_id_number(number)
    assert card.sex == sex
    assert card.birth_date.strftime("%Y%m%d") == born
    # every other check character is refused
    for wrong in set("0123456789X") - {number[-1]}:
        assert id_number_errors(first17 + wrong) == ["the check character does not match (GB 11643 checksum)"]


def _with_check(first17: str) -> str:
    return first17 + _by_hand(first17)


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("11010519491231002", "18 characters"),
        ("11010519491231002X1", "18 characters"),
        ("", "18 characters"),
        ("1101051949123100AX", "17 digits followed by"),
        ("X1010519491231002X", "17 digits followed by"),
        (_with_check("11010519490230002"), "not a real date"),  # 30 February
        (_with_check("11010519491301002"), "not a real date"),  # month 13
        (_with_check("21011319010229001"), "not a real date"),  # 1901 is no leap year
        (_with_check("11010518991231002"), "out of range"),
        ("440524188001010014", "out of range"),  # a published example: right checksum, but born 1880
        (_with_check("11010530000101002"), "out of range"),
        ("110105194912310021", "checksum"),
    ],
)
def test_bad_numbers_are_refused_with_a_field_error(number: str, fragment: str) -> None:
    errors = id_number_errors(number)
    assert errors and any(fragment in e for e in errors), errors
    with pytest.raises(ValidationFailed) as caught:
        parse_id_number(number, field="id_number")
    details = caught.value.as_dict()["error"]["details"]
    assert details and all(d["field"] == "id_number" for d in details)
    assert caught.value.status == 400
