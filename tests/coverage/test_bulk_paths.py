"""Every bulk path leaves the figures consistent: it marks the communes it touches, and the incremental
path (what the worker runs) then stores figures equal to an independent full computation."""

from __future__ import annotations

import csv
import datetime as dt
import io
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from areas.models import MAP_2025, Commune, DirtyCommune, Hamlet
from coverage import services
from coverage.models import CommuneFigures
from members.registry_import import COLUMNS
from members.tasks import run_import
from teams.models import Team
from tests.coverage.oracle import differences

pytestmark = pytest.mark.django_db


def marked() -> set[int]:
    return set(DirtyCommune.objects.values_list("commune_id", flat=True))


def assert_incremental_path_converges() -> None:
    """What the worker does next, then the property: 0 differences with the independent computation."""
    assert not services.compute.figures_outdated()  # so the next run is the incremental one, not a full one
    services.recompute_dirty()
    assert not DirtyCommune.objects.exists()
    assert differences(timezone.localdate()) == []


def registry_csv(commune_code: str, hamlet: str, team: str, phones: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for i, phone in enumerate(phones):
        writer.writerow(
            {
                "commune_code": commune_code,
                "hamlet_name": hamlet,
                "hamlet_kind": "thon",
                "team_name": team,
                "established_on": "2024-05-01",
                "decision_number": "12/QĐ-UBND",
                "full_name": f"Người Thứ {i + 1}",
                "phone": phone,
                "role": "leader" if i == 0 else "member",
                "background": "youth_union",
                "gender": "female",
                "birth_year": "1990",
            }
        )
    return buffer.getvalue().encode()


def test_import_hamlets_marks_its_communes(world, tmp_path):
    services.recompute_all()
    path = tmp_path / "hamlets.csv"
    path.write_text("commune_code,name,kind\n00001,Thôn Mới Một,thon\n00003,Thôn Mới Hai,thon\n")
    call_command("import_hamlets", str(path), stdout=StringIO(), stderr=StringIO())
    assert marked() == {world.a1.pk, world.b1.pk}
    assert_incremental_path_converges()
    assert CommuneFigures.objects.get(commune=world.b1).hamlets_total == 2


def test_import_registry_command_marks_its_communes(world, tmp_path):
    services.recompute_all()
    path = tmp_path / "registry.csv"
    path.write_bytes(registry_csv("00002", "Thôn Bắc", "Tổ CNSCĐ Thôn Bắc", ["0981000001", "0981000002"]))
    call_command("import_registry", str(path), stdout=StringIO(), stderr=StringIO())
    assert marked() == {world.a2.pk}
    assert_incremental_path_converges()
    assert CommuneFigures.objects.get(commune=world.a2).teams_active == 2


def test_import_job_from_the_api_marks_its_communes(world, api, django_capture_on_commit_callbacks):
    services.recompute_all()
    content = registry_csv("00001", "Thôn Nam Mới", "Tổ CNSCĐ Thôn Nam Mới", ["0981000011", "0981000012"])
    with django_capture_on_commit_callbacks(execute=False):
        response = api(world.lan).post(
            "/api/v1/imports/", {"file": SimpleUploadedFile("registry.csv", content)}, format="multipart"
        )
    assert response.status_code == 201, response.data
    run_import.apply(args=[response.data["id"]])  # what the worker runs for the queued job
    assert marked() == {world.a1.pk}
    assert_incremental_path_converges()
    assert CommuneFigures.objects.get(commune=world.a1).teams_active == 2


def test_hamlet_added_in_the_admin_marks_its_commune(world, client):
    services.recompute_all()
    world.hoa.is_staff = True
    world.hoa.save(update_fields=["is_staff"])
    client.force_login(world.hoa)
    response = client.post(
        reverse("admin:areas_hamlet_add"), {"commune": world.a1.pk, "name": "Thôn Bắc", "kind": "thon"}
    )
    assert response.status_code == 302
    assert marked() == {world.a1.pk}
    assert_incremental_path_converges()
    assert CommuneFigures.objects.get(commune=world.a1).hamlets_total == 2


def test_team_moved_to_a_hamlet_in_the_admin_marks_its_commune(world, client):
    services.recompute_all()
    world.hai.is_staff = True
    world.hai.save(update_fields=["is_staff"])
    client.force_login(world.hai)
    team = world.teams.a2
    url = reverse("admin:teams_team_change", args=[team.pk])
    data = {
        "name": team.name,
        "hamlet": world.hamlets.a2.pk,
        "established_on": team.established_on.isoformat(),
        "decision_number": team.decision_number,
        "version": team.version,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    team.refresh_from_db()
    assert team.hamlet_id == world.hamlets.a2.pk
    assert marked() == {world.a2.pk}
    assert_incremental_path_converges()
    assert CommuneFigures.objects.get(commune=world.a2).hamlets_covered == 1


@pytest.fixture
def real_map_with_figures():
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())
    services.recompute_dirty()  # the worker consumes load_areas' marks: every commune has figures
    assert not DirtyCommune.objects.exists()


def test_generate_demo_marks_its_communes(real_map_with_figures):
    call_command("generate_demo", scale="commune", seed=3, stdout=StringIO(), stderr=StringIO())
    touched = set(Hamlet.objects.values_list("commune_id", flat=True)) | set(
        Team.objects.values_list("commune_id", flat=True)
    )
    assert touched and marked() == touched
    assert_incremental_path_converges()


def test_generate_demo_reset_marks_the_communes_it_empties(real_map_with_figures):
    call_command("generate_demo", scale="commune", seed=3, stdout=StringIO(), stderr=StringIO())
    services.recompute_dirty()
    before = set(Team.objects.values_list("commune_id", flat=True))
    call_command("generate_demo", scale="commune", seed=4, reset=True, force=True, stdout=StringIO(), stderr=StringIO())
    assert before <= marked()
    assert_incremental_path_converges()


def test_load_areas_again_changes_nothing_and_marks_nothing(real_map_with_figures):
    call_command("load_areas", stdout=StringIO(), stderr=StringIO())
    assert not DirtyCommune.objects.exists()
    # Every commune of both maps has figures (the 2024 map's are computed beside the 2025 map's).
    old_day = MAP_2025 - dt.timedelta(days=1)
    on_maps = Commune.objects.current().count() + Commune.objects.current(old_day).count()
    assert on_maps == CommuneFigures.objects.count() == 3321 + 10040
