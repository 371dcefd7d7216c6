"""GET /imports/{id}/errors.xlsx: one query, named, and the report holds every error of the job."""

from __future__ import annotations

import io

import openpyxl
import pytest

from members.models import ImportJob
from members.tasks import run_import
from tests.members.support_import import URL as IMPORTS
from tests.members.support_import import csv_bytes, north_team, row, upload

pytestmark = pytest.mark.django_db


def test_import_error_report_is_one_query(world, api, django_capture_on_commit_callbacks, django_assert_num_queries):
    client = api(world.lan)
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(client, csv_bytes([*north_team(), row(commune_code="99999")])).data["id"]
    run_import.apply(args=[job_id])  # as the worker runs it
    job = ImportJob.objects.get(pk=job_id)
    assert job.errors
    # 1. the job in the caller's scope, with its errors (the report is built from them, no other read).
    with django_assert_num_queries(1):
        response = client.get(f"{IMPORTS}{job_id}/errors.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == len(job.errors) + 1
