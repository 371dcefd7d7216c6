"""The members.run_import task: a finished job is not run again, a job another worker holds is left alone."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from members.models import ImportJob, ImportStatus, Member
from members.registry_import.jobs import _job_lock
from members.tasks import run_import
from tests.members.support_import import csv_bytes, north_team, upload

pytestmark = pytest.mark.django_db


def test_finished_job_is_not_run_again(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(api(world.lan), csv_bytes(north_team())).data["id"]
    run_import.apply(args=[job_id])
    finished = ImportJob.objects.get(pk=job_id)
    Member.objects.filter(phone="0981000002").update(background="teacher")

    run_import.apply(args=[job_id])  # a second delivery of the same message

    assert Member.objects.get(phone="0981000002").background == "teacher"
    assert ImportJob.objects.get(pk=job_id).finished_at == finished.finished_at


def test_job_running_in_another_worker_is_left_alone(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(api(world.lan), csv_bytes(north_team())).data["id"]
    held, release, outcome = threading.Event(), threading.Event(), []

    def other_worker():
        # Its own thread, so its own database session, like a second worker process.
        try:
            with _job_lock(uuid.UUID(job_id)) as locked:
                outcome.append(locked)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10) and outcome == [True]
        run_import.apply(args=[job_id])
        assert ImportJob.objects.get(pk=job_id).status == ImportStatus.PENDING
    finally:
        release.set()
        thread.join(10)
    run_import.apply(args=[job_id])
    assert ImportJob.objects.get(pk=job_id).status == ImportStatus.SUCCEEDED
