"""A hamlet's old-map commune: filled in where the crosswalk makes it certain, otherwise recorded by an
officer (or an import) and checked against the crosswalk, in the service and in the database."""

import pytest
from django.db import IntegrityError, connection, transaction

from areas.models import MAP_2024, MAP_2025, CommuneLink, Hamlet
from areas.services import hamlets_fill_old_commune
from tests.areas.old_map import build_old_map
from tests.factories import CommuneFactory, HamletFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def old(world):
    found = build_old_map(world)
    # A new commune of A made of exactly one old commune (which went whole into it).
    found.a3 = CommuneFactory(code="00005", name="Xã Thử Duy Nhất", province=world.a)
    found.only = CommuneFactory(
        code="00006", name="Xã Cũ Duy Nhất", province=found.provinces.p01, valid_from=MAP_2024, valid_to=MAP_2025
    )
    CommuneLink.objects.create(old_commune=found.only, new_commune=found.a3, whole=True, is_default=True)
    return found


def test_a_hamlet_created_where_the_crosswalk_is_certain_records_its_old_commune(world, old, api):
    created = api(world.lan).post("/api/v1/hamlets/", {"commune": "00005", "name": "Thôn Mới", "kind": "thon"})
    assert created.status_code == 201, created.data
    assert (created.data["old_commune"], created.data["old_commune_source"]) == ("00006", "crosswalk")
    # In a commune made of several old communes it stays unknown: nothing is guessed.
    other = api(world.lan).post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn Khác", "kind": "thon"})
    assert (other.data["old_commune"], other.data["old_commune_source"]) == (None, None)


def test_an_officer_records_a_predecessor_and_nothing_else(world, old, api):
    hamlet = world.hamlets.a1  # in A1, made of old 00001 (whole) and part of old 00004
    client = api(world.hoa)
    url = f"/api/v1/hamlets/{hamlet.pk}/"
    refused = client.patch(url, {"old_commune": "09999"}, format="json")  # went into A2, not A1
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["old_commune"]
    assert "09999" in refused.json()["errors"]["old_commune"][0]
    assert client.patch(url, {"old_commune": "00003"}, format="json").status_code == 400  # a new code, not old
    assert Hamlet.objects.get(pk=hamlet.pk).old_commune_id is None

    recorded = client.patch(url, {"old_commune": "00004"}, format="json")
    assert recorded.status_code == 200, recorded.data
    assert (recorded.data["old_commune"], recorded.data["old_commune_name"]) == ("00004", "Phường Trúc Bạch")
    assert recorded.data["old_commune_source"] == "officer"
    stored = Hamlet.objects.get(pk=hamlet.pk)
    assert (stored.old_commune_id, stored.old_commune_source) == (old.communes.truc_bach.pk, "officer")

    forgotten = client.patch(url, {"old_commune": None}, format="json")
    assert (forgotten.data["old_commune"], forgotten.data["old_commune_source"]) == (None, None)


def test_the_database_refuses_an_old_commune_that_is_not_a_predecessor(world, old):
    hamlet = world.hamlets.a1
    with pytest.raises(IntegrityError), transaction.atomic():
        Hamlet.objects.filter(pk=hamlet.pk).update(old_commune=old.communes.ha_tay, old_commune_source="officer")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError), transaction.atomic():  # a source says who recorded it
        Hamlet.objects.filter(pk=hamlet.pk).update(old_commune=old.communes.phuc_xa)


def test_fill_records_only_the_certain_ones_in_one_statement(world, old, django_assert_num_queries):
    before = HamletFactory.create_batch(3, commune=old.a3)  # created by a factory: nothing filled in
    assert all(h.old_commune_id is None for h in before)
    # A savepoint around: 1: the communes touched; 2: the UPDATE; 3: their coverage marks.
    with django_assert_num_queries(3 + 2):
        assert hamlets_fill_old_commune() == 3
    assert set(Hamlet.objects.filter(commune=old.a3).values_list("old_commune_id", "old_commune_source")) == {
        (old.only.pk, "crosswalk")
    }
    assert Hamlet.objects.filter(commune__in=[world.a1, world.a2, world.b1], old_commune__isnull=False).count() == 0
    assert hamlets_fill_old_commune() == 0  # idempotent
    from areas.models import DirtyCommune

    assert DirtyCommune.objects.filter(commune=old.a3).exists()


def names(response) -> list[str]:
    return sorted(h["name"] for h in response.data["results"])


def test_hamlets_by_old_commune_and_those_still_missing_it(world, old, api):
    client = api(world.lan)
    client.patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00004"}, format="json")
    client.patch(f"/api/v1/hamlets/{world.hamlets.a2.pk}/", {"old_commune": "00004"}, format="json")
    assert names(client.get("/api/v1/hamlets/", {"map": "2024", "commune": "00004"})) == ["Thôn Tây", "Thôn Đông"]
    assert names(client.get("/api/v1/hamlets/", {"map": "2024", "commune": "00001"})) == []
    # Without the map, 00001 is the current commune A1.
    assert names(client.get("/api/v1/hamlets/", {"commune": "00001"})) == ["Thôn Đông"]
    HamletFactory(commune=world.a1, name="Thôn Chưa Rõ")
    assert names(client.get("/api/v1/hamlets/", {"old_commune_missing": "true"})) == ["Thôn Chưa Rõ"]
    assert names(client.get("/api/v1/hamlets/", {"old_commune_missing": "false"})) == ["Thôn Tây", "Thôn Đông"]


def test_coverage_counts_the_hamlets_still_missing_their_old_commune(world, old, api):
    from coverage.services import recompute_all, recompute_dirty

    recompute_all()  # the figures as they stand; what follows reaches them through the incremental path
    lan = api(world.lan)
    lan.patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00004"}, format="json")
    for name in ("Thôn Một", "Thôn Hai"):
        assert lan.post("/api/v1/hamlets/", {"commune": "00001", "name": name, "kind": "thon"}).status_code == 201
    recompute_dirty()
    minh = api(world.minh)
    assert minh.get("/api/v1/coverage/communes/00001/").data["hamlets_old_commune_missing"] == 2
    assert minh.get("/api/v1/coverage/communes/00002/").data["hamlets_old_commune_missing"] == 1
    assert minh.get("/api/v1/coverage/provinces/01/").data["hamlets_old_commune_missing"] == 3
    missing = Hamlet.objects.filter(active=True, old_commune__isnull=True).count()
    assert minh.get("/api/v1/coverage/national/").data["hamlets_old_commune_missing"] == missing
