"""Registry and hamlet imports whose rows name old-map units (by code, or by name with district and province).

The synthetic old map of tests.areas.old_map: old 00001 Phúc Xá went whole into A1; old 00004 Trúc Bạch was
divided between A1 (default) and A2; old 09999 (Hà Tây) went whole into A2; old 00500 into B1.
"""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from areas.models import Hamlet
from areas.services import hamlets_import
from config.spreadsheets import SheetError
from members.registry_import import read_registry_rows, registry_import
from teams.models import Team
from tests.areas.old_map import build_old_map
from tests.factories import IMPORT_ROW, HamletFactory
from tests.members.support_import import URL, snapshot

pytestmark = pytest.mark.django_db

HEADER = [
    "old_commune_code",
    "old_commune",
    "old_district",
    "old_province",
    *[c for c in IMPORT_ROW if c != "commune_code"],
]


@pytest.fixture
def old(world):
    return build_old_map(world)


def sheet(rows: list[dict], header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for values in rows:
        full = {c: v for c, v in IMPORT_ROW.items() if c != "commune_code"} | values
        writer.writerow([full.get(c, "") for c in header])
    return buffer.getvalue().encode("utf-8")


def team(phones: range, **place) -> list[dict]:
    """A four-member team at hamlet Thôn Bắc (unless overridden), placed by `place`'s columns."""
    first, *rest = phones
    rows = [place | {"phone": f"09810000{first:02d}", "role": "leader", "full_name": "Trần Thị Mai"}]
    rows += [place | {"phone": f"09810000{p:02d}", "full_name": f"Thành Viên {p}"} for p in rest]
    return rows


def run(content: bytes, **kwargs):
    _, rows = read_registry_rows(content, "so-cu.csv")
    with translation.override("en"):
        return registry_import(rows=list(rows), **kwargs)


def test_a_row_in_a_commune_that_went_whole_lands_in_its_successor_and_keeps_it(world, old):
    result = run(sheet(team(range(1, 5), old_commune_code="00001")))
    assert result.ok, result.errors
    created = Team.objects.get(name="Tổ CNSCĐ Thôn Bắc")
    assert created.commune == world.a1
    assert (created.hamlet.old_commune, created.hamlet.old_commune_source) == (old.communes.phuc_xa, "import")
    assert result.warnings == []


def test_old_units_by_name_in_any_spelling_within_district_and_province(world, old):
    by_name = {"old_commune": "xa cu ha tay", "old_district": "HUYỆN BA VÌ", "old_province": "Hà Tây"}
    result = run(sheet(team(range(1, 5), **by_name)))
    assert result.ok, result.errors
    assert Team.objects.get(name="Tổ CNSCĐ Thôn Bắc").commune == world.a2
    # The same name in another district is not that commune.
    wrong = {"old_commune": "Xã Cũ Hà Tây", "old_district": "Quận Ba Đình", "old_province": "Hà Nội Cũ"}
    failed = run(sheet(team(range(11, 15), **wrong)))
    assert {(e.row, e.column) for e in failed.errors} == {(n, "old_commune") for n in range(2, 6)}


def test_a_divided_commune_is_reported_with_its_candidates_then_accepted_and_flagged(world, old):
    content = sheet(team(range(1, 5), old_commune_code="00004"))
    before = snapshot()
    refused = run(content)
    assert [(e.row, e.column) for e in refused.errors] == [(n, "old_commune_code") for n in range(2, 6)]
    assert "00001" in refused.errors[0].message and "00002" in refused.errors[0].message
    assert snapshot() == before  # all or nothing

    accepted = run(content, accept_default=True)
    assert accepted.ok, accepted.errors
    assert [(w.row, w.column) for w in accepted.warnings] == [(n, "old_commune_code") for n in range(2, 6)]
    assert "default successor" in accepted.warnings[0].message
    created = Team.objects.get(name="Tổ CNSCĐ Thôn Bắc")
    assert created.commune == world.a1  # the default successor
    assert created.hamlet.old_commune == old.communes.truc_bach
    # Idempotent: the same file again changes nothing.
    again = run(content, accept_default=True)
    assert (again.teams_created, again.members_created, again.hamlets_created) == (0, 0, 0)


def test_a_divided_commune_lands_where_its_hamlet_already_is(world, old):
    HamletFactory(commune=world.a2, name="Thôn Bắc")
    result = run(sheet(team(range(1, 5), old_commune_code="00004")))
    assert result.ok, result.errors
    assert result.warnings == []
    assert Team.objects.get(name="Tổ CNSCĐ Thôn Bắc").commune == world.a2
    assert Hamlet.objects.get(commune=world.a2, name="Thôn Bắc").old_commune == old.communes.truc_bach


def test_a_current_commune_beside_the_old_one_decides_if_it_is_a_successor(world, old):
    header = ["commune_code", *HEADER]
    ok = run(sheet(team(range(1, 5), old_commune_code="00004", commune_code="00002"), header))
    assert ok.ok and Team.objects.get(name="Tổ CNSCĐ Thôn Bắc").commune == world.a2
    wrong = run(sheet(team(range(11, 15), old_commune_code="00500", commune_code="00002", team_name="Tổ Khác"), header))
    assert {e.column for e in wrong.errors} == {"commune_code"}
    assert "00003" in wrong.errors[0].message  # it names where 00500 went


def test_an_unknown_old_code_and_a_missing_place_are_row_errors(world, old):
    result = run(sheet(team(range(1, 3), old_commune_code="00777") + team(range(5, 7))))
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "old_commune_code"),
        (3, "old_commune_code"),
        (4, "commune_code"),
        (5, "commune_code"),
    ]


def test_a_header_without_any_commune_column_is_refused(world, old):
    with pytest.raises(SheetError) as caught:
        read_registry_rows(sheet([], header=HEADER[4:]), "so.csv")
    assert "old_commune_code" in caught.value.text and "commune_code" in caught.value.text


def test_a_hamlet_recorded_in_another_old_commune_is_not_moved(world, old, api):
    api(world.lan).patch(f"/api/v1/hamlets/{world.hamlets.a1.pk}/", {"old_commune": "00004"}, format="json")
    result = run(
        sheet(team(range(1, 5), old_commune_code="00001", hamlet_name="Thôn Đông", team_name="Tổ CNSCĐ Thôn Đông"))
    )
    recorded = [e for e in result.errors if e.column == "hamlet_name"]
    assert [e.row for e in recorded] == [2] and "00004" in recorded[0].message
    assert Hamlet.objects.get(pk=world.hamlets.a1.pk).old_commune == old.communes.truc_bach


def test_the_province_admin_cannot_place_rows_outside_their_province(world, old):
    result = run(sheet(team(range(1, 5), old_commune_code="00500")), province_id=world.a.pk)
    assert {e.column for e in result.errors} == {"old_commune_code"}


def test_hamlet_import_by_old_units(world, old):
    rows = [
        (2, {"old_commune_code": "00001", "name": "Tổ dân phố 7", "kind": "to_dan_pho"}),
        (
            3,
            {
                "old_commune": "Phường Trúc Bạch",
                "old_district": "Ba Đình",
                "old_province": "Hà Nội Cũ",
                "name": "Tổ dân phố 8",
                "kind": "Tổ dân phố",
            },
        ),
    ]
    with translation.override("en"):
        refused = hamlets_import(rows=rows)
        assert [(e.row, e.column) for e in refused.errors] == [(3, "old_commune")]
        accepted = hamlets_import(rows=rows, accept_default=True)
    assert accepted.ok and accepted.created == 2
    assert [(w.row, w.column) for w in accepted.warnings] == [(3, "old_commune")]
    placed = dict(Hamlet.objects.filter(name__startswith="Tổ dân phố").values_list("name", "commune"))
    assert placed == {"Tổ dân phố 7": world.a1.pk, "Tổ dân phố 8": world.a1.pk}
    assert set(Hamlet.objects.filter(name__startswith="Tổ dân phố").values_list("old_commune_source", flat=True)) == {
        "import"
    }


def test_the_upload_job_accepts_the_default_successor_when_asked(world, old, api, django_capture_on_commit_callbacks):
    from members.tasks import run_import

    client = api(world.lan)
    content = sheet(team(range(1, 5), old_commune_code="00004"))
    with django_capture_on_commit_callbacks(execute=False):
        refused = client.post(URL, {"file": SimpleUploadedFile("so-cu.csv", content)}, format="multipart")
    run_import.apply(args=[refused.data["id"]])
    job = client.get(f"{URL}{refused.data['id']}/").data
    assert job["status"] == "failed" and job["error_count"] == 4
    with django_capture_on_commit_callbacks(execute=False):
        accepted = client.post(
            URL,
            {"file": SimpleUploadedFile("so-cu.csv", content), "accept_default_successor": "true"},
            format="multipart",
        )
    assert accepted.status_code == 201  # the same file with the option is another job
    run_import.apply(args=[accepted.data["id"]])
    job = client.get(f"{URL}{accepted.data['id']}/").data
    assert job["status"] == "succeeded", job["errors"]
    assert job["accept_default_successor"] is True
    assert [(w["row"], w["column"]) for w in job["warnings"]] == [(n, "old_commune_code") for n in range(2, 6)]
