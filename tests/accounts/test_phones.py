"""Canonical phone numbers."""

import pytest

from accounts.phones import InvalidPhone, canonical_phone
from config.masking import mask_phone


@pytest.mark.parametrize("raw", ["0912345678", "+84912345678", "84 912 345 678", "0912.345.678", "(+84) 912-345-678"])
def test_spellings_are_one_number(raw):
    assert canonical_phone(raw) == "0912345678"


@pytest.mark.parametrize(
    "raw", ["02438256789", "091234567", "09123456789", "09abc45678", "", "0112345678", "０９１２３４５６７８"]
)
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        canonical_phone(raw)


def test_mask_keeps_only_the_ends():
    assert mask_phone("0912345678") == "091****678"
