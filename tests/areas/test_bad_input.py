"""Bad input gets a 400 with a message per field, Vietnamese by default and English on request; never a 500."""

import unicodedata

import pytest

from areas.models import Hamlet

pytestmark = pytest.mark.django_db

URL = "/api/v1/hamlets/"


def post(api, world, language=None, **payload):
    body = {"commune": "00001", "name": "Thôn Hợp Lệ", "kind": "thon"} | payload
    before = Hamlet.objects.count()
    response = api(world.hoa, language=language).post(URL, body)
    assert response.status_code == 400, response.data
    assert Hamlet.objects.count() == before
    return response.data


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"commune": "99999"}, "commune"),
        ({"commune": "1"}, "commune"),
        ({"name": ""}, "name"),
        ({"name": "   \u200b "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"kind": "village"}, "kind"),
        ({"kind": None}, "kind"),
    ],
)
def test_each_bad_field_is_named(world, api, payload, field):
    data = post(api, world, **payload)
    assert data["code"] == "invalid"
    assert data["errors"][field]


def test_messages_are_vietnamese_by_default_and_english_on_request(world, api):
    vi = post(api, world, name="x" * 101, kind="village")["errors"]
    en = post(api, world, language="en", name="x" * 101, kind="village")["errors"]
    assert vi["name"] != en["name"] and vi["kind"] != en["kind"]
    assert "100" in vi["name"][0] and "100" in en["name"][0]
    assert "characters" in en["name"][0]
    assert "ký tự" in vi["name"][0]
    assert "không phải là một lựa chọn hợp lệ" in vi["kind"][0]


@pytest.mark.parametrize(
    "variant",
    [
        unicodedata.normalize("NFD", "Thôn Đông"),
        "THÔN ĐÔNG",
        "Thôn  Đông ",
        "Thôn Đông\u200b",
    ],
)
def test_duplicate_names_in_other_spellings_are_refused(world, api, variant):
    data = post(api, world, name=variant)
    assert data["code"] == "duplicate"
    assert data["existing_id"] == str(world.hamlets.a1.pk)
    assert "đã có" in data["errors"]["name"][0]


def test_tone_placement_variants_are_duplicates(world, api):
    first = api(world.hoa).post(URL, {"commune": "00001", "name": "Thôn Hoà Thuỵ", "kind": "thon"})
    assert first.status_code == 201
    data = post(api, world, name="Thôn Hòa Thụy")
    assert data["code"] == "duplicate"


def test_the_same_name_in_another_commune_is_fine(world, api):
    response = api(world.lan).post(URL, {"commune": "00002", "name": "Thôn Đông", "kind": "thon"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("commune=00001", "application/x-www-form-urlencoded"),
        ("[]", "application/json"),
    ],
)
def test_malformed_bodies_are_4xx_not_500(world, api, body, content_type):
    response = api(world.hoa).generic("POST", URL, body, content_type=content_type)
    assert 400 <= response.status_code < 500
