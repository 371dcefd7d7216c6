"""Query counts of the area APIs: the province, commune and hamlet lists and details."""

import pytest

pytestmark = pytest.mark.django_db


def test_list_query_count_does_not_grow_with_page_size(world, api, django_assert_num_queries):
    from tests.factories import HamletFactory

    HamletFactory.create_batch(30, commune=world.a1)
    client = api(world.minh)
    # 1: count, 2: page of hamlets joined with commune and province.
    with django_assert_num_queries(2):
        small = client.get("/api/v1/hamlets/", {"page_size": 2})
    with django_assert_num_queries(2):
        large = client.get("/api/v1/hamlets/", {"page_size": 40})
    assert len(small.data["results"]) == 2 and len(large.data["results"]) == 33
    with django_assert_num_queries(2):
        client.get("/api/v1/communes/", {"page_size": 3})


def test_province_list_and_every_detail_are_fixed_query_counts(world, api, django_assert_num_queries):
    from tests.factories import ProvinceFactory

    ProvinceFactory.create_batch(5)
    client = api(world.minh)
    # 1: count; 2: the page of current provinces.
    with django_assert_num_queries(2):
        listed = client.get("/api/v1/provinces/", {"page_size": 3})
    assert listed.data["count"] == 7 and len(listed.data["results"]) == 3
    # 1: the current province in scope.
    with django_assert_num_queries(1):
        assert client.get("/api/v1/provinces/01/").data["name"] == world.a.name
    # 1: the current commune in scope joined with its province.
    with django_assert_num_queries(1):
        assert client.get("/api/v1/communes/00002/").data["province"] == "01"
    # 1: the hamlet in scope joined with its commune and province.
    with django_assert_num_queries(1):
        assert client.get(f"/api/v1/hamlets/{world.hamlets.b1.pk}/").data["commune"] == "00003"
