"""GET /api/v1/activity-types/ is conditional: the app polls it, and it rarely changes."""

from __future__ import annotations

import pytest

from activities.models import ActivityType

pytestmark = pytest.mark.django_db

URL = "/api/v1/activity-types/"


def test_a_repeated_read_is_304_in_one_query_instead_of_two(world, api, django_assert_num_queries):
    client = api(world.tuan)
    # 1: the count and the latest change of the types (the validator, also the page's count); 2: the page.
    with django_assert_num_queries(2):
        first = client.get(URL)
    assert first.status_code == 200 and first.data["count"] == ActivityType.objects.count()
    # 1: the validator alone.
    with django_assert_num_queries(1):
        again = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]


def test_a_new_type_and_a_renamed_one_change_the_etag(world, api):
    leader = api(world.tuan)
    tag = leader.get(URL)["ETag"]
    created = api(world.minh).post(URL, {"code": "ai_basics", "name_vi": "AI cơ bản", "name_en": "AI basics"})
    assert created.status_code == 201
    after_create = leader.get(URL, HTTP_IF_NONE_MATCH=tag)
    assert after_create.status_code == 200 and "ai_basics" in [t["code"] for t in after_create.data["results"]]
    renamed = api(world.minh).patch(f"{URL}ai_basics/", {"name_en": "Everyday AI"})
    assert renamed.status_code == 200
    after_rename = leader.get(URL, HTTP_IF_NONE_MATCH=after_create["ETag"])
    assert after_rename.status_code == 200
    assert {t["code"]: t["name_en"] for t in after_rename.data["results"]}["ai_basics"] == "Everyday AI"
    assert leader.get(URL, HTTP_IF_NONE_MATCH=after_rename["ETag"]).status_code == 304


def test_a_filter_another_language_or_another_user_gets_another_etag(world, api):
    tag = api(world.tuan).get(URL)["ETag"]
    others = [
        api(world.tuan).get(URL, {"active": "true"}, HTTP_IF_NONE_MATCH=tag),
        api(world.tuan, language="en").get(URL, HTTP_IF_NONE_MATCH=tag),
        api(world.hoa).get(URL, HTTP_IF_NONE_MATCH=tag),
    ]
    assert [r.status_code for r in others] == [200, 200, 200]
    assert len({tag, *(r["ETag"] for r in others)}) == 4


def test_no_scope_is_an_empty_list_never_a_304(world, api):
    tag = api(world.tuan).get(URL)["ETag"]
    response = api(world.nobody).get(URL, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200 and response.data["count"] == 0
