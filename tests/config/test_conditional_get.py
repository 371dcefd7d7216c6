"""config.conditional: If-None-Match as RFC 9110 reads it, the 304's headers, and what goes into an ETag.

The hamlet list is the vehicle here; each endpoint's own validator is tested beside its other tests
(test_*_conditional.py in tests/areas, teams, members, activities and coverage).
"""

from __future__ import annotations

import pytest

from config.conditional import ConditionalGetMixin, etag_matches

pytestmark = pytest.mark.django_db

URL = "/api/v1/hamlets/"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"abc"', True),
        ('W/"abc"', True),  # weak comparison: W/ is ignored on either side
        ('"x", "abc"', True),
        ('"x",W/"abc" , "y"', True),
        ('"x"', False),
        ('"abcd"', False),
        ("abc", False),  # not a tag: unquoted
        ("", False),
        (None, False),
        ("*", None),  # any current representation: the view decides whether there is one
        (" * ", None),
    ],
)
def test_if_none_match_is_read_as_rfc_9110_says(header, expected):
    assert etag_matches(header, '"abc"') is expected
    assert etag_matches(header, 'W/"abc"') is expected


def test_the_views_that_serve_it_say_so_for_the_schema():
    from activities.apis import ActivityTypeListApi
    from areas.apis import HamletDetailApi, HamletListApi
    from coverage import apis as coverage
    from members.apis import MemberListApi, TeamMembersApi
    from teams.apis import TeamDetailApi

    served = [
        HamletListApi,
        TeamDetailApi,
        TeamMembersApi,
        ActivityTypeListApi,
        coverage.NationalCoverageApi,
        coverage.ProvinceCoverageListApi,
        coverage.ProvinceCoverageDetailApi,
        coverage.ProvinceCommunesCoverageApi,
        coverage.CommuneCoverageApi,
    ]
    assert all(issubclass(view, ConditionalGetMixin) and view.conditional_get for view in served)
    exports = [coverage.NationalCoverageExportApi, coverage.CommuneCoverageExportApi]
    assert not any(getattr(view, "conditional_get", False) for view in [*exports, HamletDetailApi, MemberListApi])


def test_a_200_carries_the_etag_and_a_304_keeps_the_headers_without_a_body(world, api):
    client = api(world.hoa)
    first = client.get(URL)
    assert first.status_code == 200
    tag = first["ETag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 10
    assert first["Cache-Control"] == "private, no-cache"
    again = client.get(URL, HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304
    assert again.content == b""
    assert "Content-Type" not in again
    assert again["ETag"] == tag
    assert again["Cache-Control"] == "private, no-cache"
    vary = {v.strip() for v in again["Vary"].split(",")}
    assert {"Accept-Language", "Authorization"} <= vary
    assert {v.strip() for v in first["Vary"].split(",")} == vary


@pytest.mark.parametrize("form", ["{tag}", "W/{tag}", '"other", {tag}', 'W/"other",W/{tag}', "*"])
def test_every_form_of_a_current_tag_gives_304(world, api, form):
    client = api(world.hoa)
    tag = client.get(URL)["ETag"]
    assert client.get(URL, HTTP_IF_NONE_MATCH=form.format(tag=tag)).status_code == 304


@pytest.mark.parametrize("header", ['"other"', 'W/"other", "x"', "garbage"])
def test_a_mismatching_tag_gives_the_full_answer_with_the_etag(world, api, header):
    client = api(world.hoa)
    tag = client.get(URL)["ETag"]
    response = client.get(URL, HTTP_IF_NONE_MATCH=header)
    assert response.status_code == 200
    assert response["ETag"] == tag
    assert response.data["count"] == 1


def test_star_on_a_page_past_the_end_is_404_not_304(world, api):
    client = api(world.hoa)
    assert client.get(URL, {"page": 1}, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.get(URL, {"page": "last"}, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.get(URL, {"page": 2}, HTTP_IF_NONE_MATCH="*").status_code == 404
    assert client.get(URL, {"page": "x"}, HTTP_IF_NONE_MATCH="*").status_code == 404


def test_the_query_string_the_language_and_the_requester_are_in_the_etag(world, api):
    hoa = api(world.hoa)
    plain = hoa.get(URL)["ETag"]
    tags = {
        plain,
        hoa.get(URL, {"commune": "00001"})["ETag"],
        hoa.get(URL, {"page_size": 10})["ETag"],
        hoa.get(URL, {"active": "true"})["ETag"],
        api(world.hoa, language="en").get(URL)["ETag"],
        api(world.lan).get(URL)["ETag"],
        api(world.tuan).get(URL)["ETag"],
    }
    assert len(tags) == 7
    assert hoa.get(URL)["ETag"] == plain  # and nothing else: the same request, the same tag
    assert api(world.hoa, language="vi").get(URL)["ETag"] == plain  # vi is the default language


def test_another_users_tag_never_gives_a_304(world, api):
    tag = api(world.hoa).get(URL, {"commune": "00001"})["ETag"]
    other = api(world.hai).get(URL, {"commune": "00001"}, HTTP_IF_NONE_MATCH=tag)
    assert other.status_code == 200 and other.data["count"] == 0
    assert other["ETag"] != tag


def test_an_anonymous_request_is_401_whatever_it_sends(world, api):
    tag = api(world.hoa).get(URL)["ETag"]
    for header in (tag, "*"):
        assert api(None).get(URL, HTTP_IF_NONE_MATCH=header).status_code == 401


def test_writes_ignore_if_none_match(world, api):
    client = api(world.hoa)
    tag = client.get(URL)["ETag"]
    created = client.post(URL, {"commune": "00001", "name": "Thôn Bắc", "kind": "thon"}, HTTP_IF_NONE_MATCH=tag)
    assert created.status_code == 201
    assert "ETag" not in created
