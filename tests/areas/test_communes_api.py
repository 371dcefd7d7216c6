"""GET /api/v1/communes/: filters by province and tone-aware search."""

import pytest

from tests.areas.support import codes

pytestmark = pytest.mark.django_db


def test_commune_filters_and_search(world, api):
    client = api(world.minh)
    assert codes(client.get("/api/v1/communes/", {"province": "01"})) == ["00001", "00002"]
    # Tone placement and case do not matter ("Hoà" is stored, "HÒA" typed); no tones at all matches too.
    assert codes(client.get("/api/v1/communes/", {"search": "HÒA BÌNH"})) == ["00001"]
    assert codes(client.get("/api/v1/communes/", {"search": "thụy"})) == ["00002"]
    assert codes(client.get("/api/v1/communes/", {"search": "binh"})) == ["00001", "00003"]
    # A different tone is a different word.
    assert codes(client.get("/api/v1/communes/", {"search": "hóa bình"})) == []


def test_commune_filters_match_the_database(world, api):
    from areas.models import Commune

    client = api(world.minh)
    assert codes(client.get("/api/v1/communes/", {"province": "01"})) == sorted(
        Commune.objects.filter(province=world.a).values_list("code", flat=True)
    )
    # Typed without tones, every tone matches; with tones, they must match.
    assert codes(client.get("/api/v1/communes/", {"search": "thuy khue"})) == ["00002"]
    assert codes(client.get("/api/v1/communes/", {"search": "Thụy Khuê"})) == ["00002"]
    assert codes(client.get("/api/v1/communes/", {"search": "Thúy Khuê"})) == []
    # Codes match as typed, as they always have.
    assert codes(client.get("/api/v1/communes/", {"province": " 01"})) == []
