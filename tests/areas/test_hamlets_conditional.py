"""GET /api/v1/hamlets/?commune=... (and the list without a filter) is conditional: an ETag, and 304 from one query."""

from __future__ import annotations

import pytest

from areas.models import Hamlet
from tests.factories import HamletFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/hamlets/"
A1 = {"commune": "00001"}


def test_a_communes_hamlets_answer_304_in_one_query_instead_of_two(world, api, django_assert_num_queries):
    HamletFactory.create_batch(4, commune=world.a1)
    client = api(world.hoa)
    # 1: the count and the latest change of the commune's hamlets in scope (the validator, also the page's
    # count); 2: the page with communes and provinces.
    with django_assert_num_queries(2):
        first = client.get(URL, A1)
    assert first.status_code == 200 and first.data["count"] == 5
    # 1: the validator alone; nothing is fetched or serialized.
    with django_assert_num_queries(1):
        again = client.get(URL, A1, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    # The list in general: the same two, and one for a 304.
    with django_assert_num_queries(2):
        everything = client.get(URL)
    with django_assert_num_queries(1):
        assert client.get(URL, HTTP_IF_NONE_MATCH=everything["ETag"]).status_code == 304


def test_a_new_hamlet_changes_the_etag(world, api):
    client = api(world.hoa)
    tag = client.get(URL, A1)["ETag"]
    assert client.post(URL, {**A1, "name": "Thôn Bắc", "kind": "thon"}).status_code == 201
    after = client.get(URL, A1, HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after["ETag"] != tag
    assert sorted(h["name"] for h in after.data["results"]) == ["Thôn Bắc", "Thôn Đông"]
    assert client.get(URL, A1, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_rename_changes_the_etag(world, api):
    client = api(world.hoa)
    tag = client.get(URL, A1)["ETag"]
    renamed = client.patch(f"{URL}{world.hamlets.a1.pk}/", {"name": "Thôn Đông Mới"})
    assert renamed.status_code == 200
    after = client.get(URL, A1, HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after["ETag"] != tag
    assert after.data["results"][0]["name"] == "Thôn Đông Mới"


def test_a_hamlet_that_leaves_the_list_changes_the_etag(world, api):
    spare = HamletFactory(commune=world.a1, name="Thôn Phụ")
    client = api(world.hoa)
    active = {**A1, "active": "true"}
    tag = client.get(URL, active)["ETag"]
    assert client.delete(f"{URL}{spare.pk}/").status_code == 204  # retired: inactive, valid_to today
    after = client.get(URL, active, HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after["ETag"] != tag
    assert [h["name"] for h in after.data["results"]] == ["Thôn Đông"]


def test_a_row_deleted_outright_changes_the_etag(world, api):
    spare = HamletFactory(commune=world.a1, name="Thôn Phụ")
    client = api(world.hoa)
    tag = client.get(URL, A1)["ETag"]
    Hamlet.objects.filter(pk=spare.pk).delete()  # no API deletes a hamlet; the count still tells
    assert client.get(URL, A1, HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_another_language_or_another_user_gets_another_etag(world, api):
    tag = api(world.hoa).get(URL, A1)["ETag"]
    english = api(world.hoa, language="en").get(URL, A1, HTTP_IF_NONE_MATCH=tag)
    assert english.status_code == 200 and english["ETag"] != tag
    admin = api(world.lan).get(URL, A1, HTTP_IF_NONE_MATCH=tag)
    assert admin.status_code == 200 and admin["ETag"] not in {tag, english["ETag"]}


def test_another_communes_officer_never_gets_a_304_for_this_communes_hamlets(world, api):
    tag = api(world.hoa).get(URL, A1)["ETag"]
    response = api(world.hai).get(URL, A1, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200 and response.data["count"] == 0  # out of scope: an empty list, as ever
