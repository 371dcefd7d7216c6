"""The five coverage reads are conditional: one query (coverage.freshness) decides a 304 before any figure is read.

The validator covers the units the answer shows, in the caller's scope: their figures' computed_at, the outbox
marks that make them stale, the nation's valid_until and today, the map's load log, and the day's snapshots
for ?as_of=. Exports are files and are not conditional.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from areas.models import DirtyCommune
from config.celery import app
from config.conditional import KEPT_BODIES, KeptBodies
from coverage import services
from tests.conftest import build_world
from tests.coverage.support import BASE
from tests.factories import HamletFactory, UserFactory

pytestmark = pytest.mark.django_db

# name: (path, persona, queries of the full JSON answer, each named in the test that pins it).
ENDPOINTS = {
    # the national row, current provinces with their communes counted and covered, outbox marks
    "national": ("national/", "minh", 3),
    # current provinces in scope with their communes counted, province figures, outbox marks,
    # the national row's valid_until
    "provinces": ("provinces/", "lan", 4),
    # the same for one province
    "province": ("provinces/01/", "lan", 4),
    # the province in scope, current communes with their provinces, commune figures, outbox marks,
    # the national row's valid_until
    "communes": ("provinces/01/communes/", "lan", 5),
    # the commune with its province, its figures, outbox marks, the national row's valid_until,
    # the commune in scope again (for its hamlets), its hamlets with whether each has an active team
    "commune": ("communes/00001/", "hoa", 6),
}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_repeated_read_is_304_in_one_query(figures, api, django_assert_num_queries, name):
    path, persona, full = ENDPOINTS[name]
    client = api(getattr(figures, persona))
    # 1: the validator (one SELECT of the units' count, their figures' count and latest computed_at, their
    # marks' count and last id, the nation's valid_until and the map's last load); then the full answer.
    with django_assert_num_queries(1 + full):
        first = client.get(f"{BASE}{path}")
    assert first.status_code == 200 and first["ETag"]
    # 1: the validator alone; no figure is read.
    with django_assert_num_queries(1):
        again = client.get(f"{BASE}{path}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert "Accept" in again["Vary"] and "Accept-Language" in again["Vary"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_write_then_its_recompute_each_change_the_etag(figures, api, name):
    path, persona, _ = ENDPOINTS[name]
    client = api(getattr(figures, persona))
    first = client.get(f"{BASE}{path}")
    created = api(figures.hoa).post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn Bắc", "kind": "thon"})
    assert created.status_code == 201
    marked = client.get(f"{BASE}{path}", HTTP_IF_NONE_MATCH=first["ETag"])  # the mark: stale until recomputed
    assert marked.status_code == 200 and marked["ETag"] != first["ETag"]
    assert _unit(marked, name)["stale"] is True
    services.recompute_dirty()
    recomputed = client.get(f"{BASE}{path}", HTTP_IF_NONE_MATCH=marked["ETag"])
    assert recomputed.status_code == 200 and recomputed["ETag"] not in {first["ETag"], marked["ETag"]}
    unit = _unit(recomputed, name)
    assert unit["stale"] is False and unit["hamlets_total"] == _unit(first, name)["hamlets_total"] + 1
    assert client.get(f"{BASE}{path}", HTTP_IF_NONE_MATCH=recomputed["ETag"]).status_code == 304


def _unit(response, name: str) -> dict:
    """The figures of the unit the hamlet was added to (A1, its province A, or the nation)."""
    data = response.data
    if name in ("provinces", "communes"):
        return next(row for row in data["results"] if row["code"] in ("01", "00001"))
    return data


def test_a_write_elsewhere_leaves_a_narrower_etag_alone(figures, api):
    commune = api(figures.hoa)
    province = api(figures.lan)
    tags = {
        "commune": commune.get(f"{BASE}communes/00001/")["ETag"],
        "province": province.get(f"{BASE}provinces/01/")["ETag"],
        "nation": api(figures.minh).get(f"{BASE}national/")["ETag"],
    }
    created = api(figures.bao).post("/api/v1/hamlets/", {"commune": "00003", "name": "Thôn Bắc", "kind": "thon"})
    assert created.status_code == 201
    services.recompute_dirty()
    assert commune.get(f"{BASE}communes/00001/", HTTP_IF_NONE_MATCH=tags["commune"]).status_code == 304
    assert province.get(f"{BASE}provinces/01/", HTTP_IF_NONE_MATCH=tags["province"]).status_code == 304
    assert api(figures.minh).get(f"{BASE}national/", HTTP_IF_NONE_MATCH=tags["nation"]).status_code == 200


def test_a_full_recompute_changes_every_etag_since_computed_at_is_in_the_body(figures, api):
    tag = api(figures.hoa).get(f"{BASE}communes/00001/")["ETag"]
    services.recompute_all()
    after = api(figures.hoa).get(f"{BASE}communes/00001/", HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after["ETag"] != tag


def test_a_new_day_gives_a_new_etag(figures, api, time_machine):
    time_machine.move_to("2026-12-30 10:00:00+07:00", tick=False)
    tag = api(figures.minh).get(f"{BASE}national/")["ETag"]
    time_machine.move_to("2027-01-02 10:00:00+07:00", tick=False)  # a new quarter: the figures are outdated
    after = api(figures.minh).get(f"{BASE}national/", HTTP_IF_NONE_MATCH=tag)
    assert after.status_code == 200 and after.data["stale"] is True


def test_the_query_the_language_and_the_requester_are_in_the_etag(figures, api):
    path = f"{BASE}provinces/"
    lan = api(figures.lan).get(path)["ETag"]
    tags = {
        lan,
        api(figures.lan).get(path, {"ordering": "-hamlet_coverage"})["ETag"],
        api(figures.lan, language="en").get(path)["ETag"],
        api(figures.minh).get(path)["ETag"],
        api(figures.hoa).get(path)["ETag"],
    }
    assert len(tags) == 5
    assert api(figures.lan).get(path, HTTP_IF_NONE_MATCH=lan).status_code == 304


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("lan", "national/"),
        ("hoa", "national/"),
        ("lan", "provinces/02/"),
        ("lan", "provinces/02/communes/"),
        ("hoa", "communes/00002/"),
        ("binh", "communes/00001/"),
        ("tuan", "communes/00002/"),
        ("nobody", "provinces/01/"),
        ("minh", "communes/99999/"),
    ],
)
def test_out_of_scope_is_404_never_304(figures, api, persona, path):
    owner = {"national/": "minh", "provinces/02/": "binh", "provinces/02/communes/": "binh"}.get(path, "minh")
    tag = api(getattr(figures, owner)).get(f"{BASE}{path}").get("ETag", '"none"')
    for header in (tag, "*"):
        response = api(getattr(figures, persona)).get(f"{BASE}{path}", HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 404 and "ETag" not in response


def test_as_of_answers_are_conditional_on_that_days_snapshot(figures, api, time_machine):
    time_machine.move_to("2026-11-01 23:56:00+07:00", tick=True)
    services.snapshot_take(day=dt.date(2026, 11, 1))
    day = {"as_of": "2026-11-01"}
    client = api(figures.minh)
    tags = {
        path: client.get(f"{BASE}{path}", day)["ETag"] for path in ("national/", "provinces/01/", "communes/00001/")
    }
    live = client.get(f"{BASE}national/")["ETag"]
    assert live not in tags.values()
    for path, tag in tags.items():
        assert client.get(f"{BASE}{path}", day, HTTP_IF_NONE_MATCH=tag).status_code == 304
    api(figures.hoa).post("/api/v1/teams/", {"commune": "00001", "name": "Tổ mới", "established_on": "2026-10-01"})
    services.recompute_dirty()
    services.snapshot_take(day=dt.date(2026, 11, 1))  # the day's copy taken again
    for path, tag in tags.items():
        assert client.get(f"{BASE}{path}", day, HTTP_IF_NONE_MATCH=tag).status_code == 200
    for path in tags:  # no snapshot that day: 404, even for `*`
        assert client.get(f"{BASE}{path}", {"as_of": "2020-01-01"}, HTTP_IF_NONE_MATCH="*").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_are_not_conditional(figures, api, django_assert_num_queries, fmt):
    client = api(figures.hoa)
    # the commune with its province, its figures, outbox marks, the national row's valid_until, the commune
    # in scope again, its hamlets; + the activity types' names: no validator
    for url in (f"{BASE}communes/00001/export/{fmt}/", f"{BASE}communes/00001/?format={fmt}"):
        with django_assert_num_queries(7):
            response = client.get(url, HTTP_IF_NONE_MATCH="*")
        assert response.status_code == 200 and response.content
        assert "ETag" not in response


@pytest.fixture
def embedded():
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.mark.django_db(transaction=True)
def test_embedded_a_304_is_never_stale_since_the_read_recomputes_first(api, embedded):
    world = build_world()
    services.recompute_all()
    officer = api(world.hai)
    first = officer.get(f"{BASE}communes/00002/")
    assert first.data["stale"] is False
    assert officer.get(f"{BASE}communes/00002/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # A write whose kick never ran (as after a crash): only the mark tells, and only the read recomputes.
    HamletFactory(commune=world.a2, name="Thôn Mới")
    DirtyCommune.objects.create(commune=world.a2, marked_at=timezone.now())
    after = officer.get(f"{BASE}communes/00002/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after.data["stale"] is False
    assert after.data["hamlets_total"] == first.data["hamlets_total"] + 1
    # The tag was taken after the recompute, so it still holds: taken before, it would name the marked state.
    assert officer.get(f"{BASE}communes/00002/", HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


# --- The rendered body is kept per scope (config.conditional body_cache) ---------------------------------------


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_full_answer_again_is_the_validator_and_the_cache(figures, api, django_assert_num_queries, name):
    path, persona, full = ENDPOINTS[name]
    user = getattr(figures, persona)
    with django_assert_num_queries(1 + full):
        first = api(user).get(f"{BASE}{path}")
    # Another login with the same scope, without a tag: the same bytes, its own ETag, one query.
    colleague = UserFactory(role=user.role, province=user.province, commune=user.commune, team=user.team)
    with django_assert_num_queries(1):
        again = api(colleague).get(f"{BASE}{path}")
    assert again.status_code == 200 and again.content == first.content
    assert again["ETag"] != first["ETag"] and again["Content-Type"] == first["Content-Type"] == "application/json"
    assert "Accept" in again["Vary"] and "Accept-Language" in again["Vary"]


def test_a_kept_body_is_never_served_after_what_it_shows_changed(figures, api):
    client = api(figures.lan)
    path = f"{BASE}provinces/01/"
    first = client.get(path).data
    assert client.get(path).data == first and first["stale"] is False
    created = api(figures.hoa).post("/api/v1/hamlets/", {"commune": "00001", "name": "Thôn Bắc", "kind": "thon"})
    assert created.status_code == 201
    marked = client.get(path).data
    assert marked["stale"] is True and marked["hamlets_total"] == first["hamlets_total"]
    services.recompute_dirty()
    after = client.get(path).data
    assert after["stale"] is False and after["hamlets_total"] == first["hamlets_total"] + 1


def test_kept_bodies_are_per_scope_and_language(figures, api):
    path = f"{BASE}provinces/"
    lan, binh = api(figures.lan).get(path).data, api(figures.binh).get(path).data
    assert [row["code"] for row in lan["results"]] == ["01"]
    assert [row["code"] for row in binh["results"]] == ["02"]
    assert len(api(figures.minh).get(path).data["results"]) == 2
    bad = {"ordering": "nope"}
    vi = api(figures.lan).get(path, bad)
    en = api(figures.lan, language="en").get(path, bad)
    assert vi.status_code == en.status_code == 400 and vi.data != en.data


def test_without_the_cache_the_answer_is_computed(figures, api, settings, caplog):
    path = f"{BASE}national/"
    expected = api(figures.minh).get(path)
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    # This process kept the body it rendered: served again without asking Redis.
    kept = api(figures.minh).get(path)
    assert kept.status_code == 200 and kept.content == expected.content
    assert "body cache unavailable" not in caplog.text
    # A process that has not rendered it (a fresh worker) computes it.
    KEPT_BODIES.clear()
    response = api(figures.minh).get(path)
    assert response.status_code == 200 and response.data == expected.data
    assert "body cache unavailable: ConnectionError" in caplog.text


def test_a_process_keeps_the_bodies_it_used_last_within_its_bytes():
    kept = KeptBodies(max_bytes=10)
    kept.put("a", b"1234")
    kept.put("b", b"5678")
    assert kept.get("a") == b"1234"  # now the most recent
    kept.put("c", b"90ab")  # 12 bytes: the least recently used (b) goes
    assert kept.get("b") is None and kept.get("a") == b"1234" and kept.get("c") == b"90ab"
    kept.put("a", b"12")  # replaced: its old size no longer counts
    kept.put("d", b"cdef")
    assert kept.get("a") == b"12" and kept.get("c") == b"90ab" and kept.get("d") == b"cdef"
    kept.put("huge", b"x" * 11)  # larger than the whole store: not kept, nothing pushed out
    assert kept.get("huge") is None and kept.get("a") == b"12"
