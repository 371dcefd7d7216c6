"""Name matching ignores Unicode form, tone-mark placement and case, but not the tone itself."""

import unicodedata

import pytest

from areas.names import clean_name, fold, name_key, validate_name
from config.errors import DomainError


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Hoá", "Hóa"),
        ("Thuỵ", "Thụy"),
        ("Thanh Hoá", "THANH  HÓA"),
        (unicodedata.normalize("NFD", "Thanh Hóa"), unicodedata.normalize("NFC", "Thanh Hóa")),
        ("Khoẻ", "Khỏe"),
        ("Hoà\u200bBình", "Hòa Bình".replace(" ", "")),
    ],
)
def test_equivalent_spellings_share_a_key(left, right):
    assert name_key(left) == name_key(right)


@pytest.mark.parametrize(("left", "right"), [("Hòa", "Hóa"), ("Ma", "Mã"), ("Đông", "Dong")])
def test_different_words_keep_different_keys(left, right):
    assert name_key(left) != name_key(right)


def test_clean_name_is_nfc_trimmed_single_spaced():
    cleaned = clean_name("  Thôn \u200b " + unicodedata.normalize("NFD", "Đông") + "   Hải ")
    assert cleaned == unicodedata.normalize("NFC", cleaned)
    assert cleaned == "Thôn Đông Hải"


def test_fold_drops_every_diacritic():
    assert fold("Đắk Lắk") == "dak lak"


def _validate(raw):
    return validate_name(raw, field="title", max_length=5, messages=("blank", "at most %(max)d"))


def test_validate_name_returns_the_cleaned_name():
    assert _validate("  Ấp \u200b1 ") == "Ấp 1"


@pytest.mark.parametrize(("raw", "message"), [(None, "blank"), (" \u200b ", "blank"), ("Thôn 12", "at most 5")])
def test_validate_name_names_its_field_and_fills_the_limit(raw, message):
    with pytest.raises(DomainError) as caught:
        _validate(raw)
    assert caught.value.fields == {"title": [message]}
