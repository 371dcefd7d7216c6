"""Reconcile as an alarm: the command exits non-zero when figures differed, and /health/ reports the last run."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from areas.changes import communes_changed
from config.timestamps import format_timestamp
from coverage import services
from coverage.models import CommuneFigures, NationalFigures, ProvinceFigures, ReconcileRun
from tests.conftest import build_world
from tests.worker import worker_database_url


@pytest.mark.django_db
def test_the_command_reports_and_fixes_differences_at_every_level(world):
    services.recompute_all()
    CommuneFigures.objects.filter(commune=world.a1).update(members_active=40)
    ProvinceFigures.objects.filter(province=world.b).update(communes_total=9)
    NationalFigures.objects.update(provinces_total=1)
    out = StringIO()
    with pytest.raises(CommandError, match="3 coverage figures differed"):
        call_command("reconcile_coverage", stdout=out)
    printed = out.getvalue()
    assert "commune 00001 members_active: stored 40, recomputed 4" in printed
    assert "province 02 communes_total: stored 9, recomputed 1" in printed
    assert "nation VN provinces_total: stored 1, recomputed 2" in printed
    out = StringIO()
    call_command("reconcile_coverage", stdout=out)  # fixed by the first run: exit 0
    assert "0 figures differed" in out.getvalue()


@pytest.mark.django_db
def test_pending_marks_are_not_differences(world, api):
    services.recompute_all()
    api(world.hoa).post("/api/v1/teams/", {"commune": "00001", "name": "Tổ mới", "established_on": "2025-08-01"})
    communes_changed([world.b1.pk])
    run = services.reconcile()
    assert run.differences == 0, run.examples
    assert CommuneFigures.objects.get(commune=world.a1).teams_active == 2


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_with_status_1_when_figures_differed():
    world = build_world()
    services.recompute_all()
    CommuneFigures.objects.filter(commune=world.b1).update(teams_active=5)
    env = os.environ | {"DATABASE_URL": worker_database_url()}
    command = [sys.executable, "manage.py", "reconcile_coverage"]
    failed = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "1 figures differed" in failed.stdout
    passed = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert passed.returncode == 0, passed.stdout + passed.stderr


@pytest.mark.django_db
def test_health_reports_the_last_reconcile_and_the_waiting_marks(world, client):
    before = client.get("/health/").json()["coverage"]
    assert (before["last_reconcile"], before["reconcile_differences"]) == (None, None)
    services.recompute_all()
    CommuneFigures.objects.filter(commune=world.a1).update(teams_active=3)
    run = services.reconcile()
    communes_changed([world.a2.pk, world.b1.pk])
    health = client.get("/health/")
    assert health.status_code == 200  # an alarm for operators, not a reason to take the instance out
    coverage = health.json()["coverage"]
    assert coverage["reconcile_differences"] == run.differences == 1
    assert coverage["last_reconcile"] == format_timestamp(run.finished_at)  # the API's one format
    assert coverage["marks_waiting"] == 2 and coverage["oldest_mark_seconds"] >= 0
    assert ReconcileRun.objects.count() == 1


@pytest.mark.django_db
def test_reconcile_query_count(world, django_assert_num_queries):
    services.recompute_all()
    CommuneFigures.objects.filter(commune=world.a1).update(members_active=40)
    # 1. savepoint; 2. advisory lock; 3-4. the activity tallies (all time, by quarter) against the activities;
    # 5. the team counts against the teams; 6. the national figures' validity; 7. the marks (none); then the
    # stored figures of both maps: 8-9. current communes, 2024-map communes; 10-11. current provinces, 2024-map
    # provinces; 12-14. commune, province and national figures; the full recompute: 15. max outbox id;
    # 16. activity types; 17-20. hamlets, teams, members, activities (once for both maps); 21. communes;
    # 22. communes made of one old commune; 23-24. commune upsert (loading table, upsert); 25. current
    # provinces with their communes counted; 26-27. province upsert; 28-29. next validity bound of provinces,
    # of communes; 30-31. national upsert; 32. the 2024 map's communes (none in this world); the figures
    # again: 33-39 as 8-14; 40. the reconcile run; 41. release. Provinces and the nation are rolled up in memory.
    with django_assert_num_queries(41):
        run = services.reconcile()
    assert run.differences == 1 and run.examples[0]["field"] == "members_active"


@pytest.mark.django_db
def test_tallies_that_differ_from_the_activities_are_counted_again_and_the_figures_with_them(world, api):
    """A tally no trigger wrote (a key too many, a count changed, a key lost) is found, recounted from the
    activities, and the figures computed from it are corrected and reported."""
    from activities.models import LifetimeTally, QuarterTally
    from tests.activities.test_tallies import assert_tallies_true, item, sync

    sync(api(world.tuan), [item(world.teams.a1, days, 3) for days in range(0, 200, 10)])
    services.recompute_all()
    truth = CommuneFigures.objects.get(commune=world.a1).activities
    LifetimeTally.objects.filter(team=world.teams.a1).update(activities=999)
    QuarterTally.objects.filter(team=world.teams.a1).order_by("quarter_start").first().delete()
    QuarterTally.objects.create(
        quarter_start="2020-01-01",
        commune=world.a1,
        team=world.teams.a1,
        type_id="vneid",
        activities=4,
        people_helped=4,
    )
    services.recompute_all()
    assert CommuneFigures.objects.get(commune=world.a1).activities == 999  # the figures read the tallies
    out = StringIO()
    with pytest.raises(CommandError, match="coverage figures differed"):
        call_command("reconcile_coverage", stdout=out)
    assert "3 kept count keys (activity tallies, team counts) differed" in out.getvalue()
    assert ReconcileRun.objects.get().tally_differences == 3
    assert_tallies_true()
    assert CommuneFigures.objects.get(commune=world.a1).activities == truth
    out = StringIO()
    call_command("reconcile_coverage", stdout=out)
    assert "tally" not in out.getvalue()
