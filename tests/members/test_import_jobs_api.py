"""/api/v1/imports/: upload, the queued job, its status and error report, permissions and refused files."""

from __future__ import annotations

import base64
import io
import json
import threading
import time

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils.translation import gettext
from openpyxl import load_workbook

from members.models import ImportJob, ImportStatus
from members.registry_import import REQUIRED_COLUMNS
from members.tasks import run_import
from teams.models import Team
from tests.members.support_import import URL, csv_bytes, north_team, row, snapshot, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


def queued_job_ids() -> list[str]:
    """The job ids of members.run_import messages waiting in the real Redis broker."""
    ids = []
    for raw in redis.Redis.from_url(settings.REDIS_URL).lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "members.run_import":
            args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.append(kwargs.get("job_id") or args[0])
    return ids


def test_province_admin_upload_is_queued_then_imported(world, api, django_capture_on_commit_callbacks):
    client = api(world.lan)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, csv_bytes(north_team()))
    assert response.status_code == 201, response.data
    job_id = response.data["id"]
    assert len(callbacks) == 1
    assert queued_job_ids() == [job_id]
    assert (response.data["status"], response.data["province"], response.data["total"]) == ("pending", "01", 0)
    assert not Team.objects.filter(name="Tổ CNSCĐ Thôn Bắc").exists()

    run_import.apply(args=[job_id])

    status = client.get(f"{URL}{job_id}/")
    assert status.status_code == 200
    assert (status.data["status"], status.data["processed"], status.data["total"]) == ("succeeded", 4, 4)
    assert status.data["errors"] == [] and status.data["summary"]["members_created"] == 4
    assert Team.objects.get(name="Tổ CNSCĐ Thôn Bắc").member_count == 4


def test_retried_upload_returns_the_same_job_until_that_job_fails(world, api, django_capture_on_commit_callbacks):
    client = api(world.lan)
    content = csv_bytes([row(phone="0912 34 56")])
    with django_capture_on_commit_callbacks(execute=False):
        first = upload(client, content)
        again = upload(client, content, name="renamed.csv")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data["id"] == first.data["id"]
    run_import.apply(args=[first.data["id"]])
    assert ImportJob.objects.get(pk=first.data["id"]).status == ImportStatus.FAILED
    with django_capture_on_commit_callbacks(execute=False):
        after_failure = upload(client, content)
    assert after_failure.status_code == 201 and after_failure.data["id"] != first.data["id"]
    assert ImportJob.objects.count() == 2


def test_failed_job_lists_its_errors_and_serves_them_as_xlsx(world, api, django_capture_on_commit_callbacks):
    rows = [*north_team(), row(commune_code="00003", hamlet_name="Thôn Nam", team_name="Tổ Nam", phone="0981000009")]
    client = api(world.lan)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(client, xlsx_bytes(rows), name="registry.xlsx").data["id"]
    run_import.apply(args=[job_id])

    status = client.get(f"{URL}{job_id}/")
    assert (status.data["status"], status.data["processed"], status.data["total"]) == ("failed", 5, 5)
    # B1 is in province B: for A's admin it does not exist.
    message = gettext("No commune with this code in your area.")  # stored in the worker's language
    assert status.data["errors"] == [{"row": 6, "column": "commune_code", "message": message}]
    assert snapshot() == before

    download = client.get(f"{URL}{job_id}/errors.xlsx", HTTP_ACCEPT="application/vnd.ms-excel")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(download.content)).worksheets[0]
    lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert lines == [["Dòng", "Cột", "Lỗi"], [6, "commune_code", message]]


@pytest.mark.django_db(transaction=True)
def test_status_shows_live_progress_while_the_job_runs(world, api):
    client = api(world.lan)
    job_id = upload(client, csv_bytes(north_team())).data["id"]
    outcome = []

    def worker():
        try:
            run_import.apply(args=[job_id])
            outcome.append("done")
        finally:
            connection.close()

    # Holding the teams table stops the import after it checked the rows, when it locks the teams whose
    # slots the file names (the import locks only those, so no single row of the world's would do).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Team._meta.db_table} IN EXCLUSIVE MODE")
        thread = threading.Thread(target=worker)
        thread.start()
        deadline = time.monotonic() + 30  # a bound on the wait on a loaded machine, not a speed check
        data = client.get(f"{URL}{job_id}/").data
        while (data["status"], data["processed"]) != ("running", 4) and time.monotonic() < deadline:
            time.sleep(0.05)
            data = client.get(f"{URL}{job_id}/").data
        assert (data["status"], data["processed"], data["total"]) == ("running", 4, 4)
        assert ImportJob.objects.get(pk=job_id).processed == 0  # the live count comes from the cache
        assert not Team.objects.filter(name="Tổ CNSCĐ Thôn Bắc").exists()
    thread.join(20)
    assert outcome == ["done"]
    data = client.get(f"{URL}{job_id}/").data
    assert (data["status"], data["processed"], data["total"]) == ("succeeded", 4, 4)


def test_status_is_one_query(world, api, django_capture_on_commit_callbacks, django_assert_num_queries):
    client = api(world.lan)
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(client, csv_bytes(north_team())).data["id"]
    # 1: the job joined to its province, without the stored file.
    with django_assert_num_queries(1):
        assert client.get(f"{URL}{job_id}/").status_code == 200


@pytest.mark.parametrize("persona", ["hoa", "minh", "tuan", "nobody"])
def test_only_a_province_admin_with_a_province_uploads(world, api, persona):
    response = upload(api(getattr(world, persona)), csv_bytes(north_team()))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_another_province_cannot_see_the_job(world, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(api(world.lan), csv_bytes(north_team())).data["id"]
    for persona in (world.binh, world.bao, world.nobody):
        assert api(persona).get(f"{URL}{job_id}/").status_code == 404
        assert api(persona).get(f"{URL}{job_id}/errors.xlsx").status_code == 404
    assert api(world.lan).get(f"{URL}{job_id}/errors.xlsx").status_code == 200


def test_oversized_file_is_413_and_other_types_are_400(world, api):
    client = api(world.lan)
    too_big = client.post(
        URL, {"file": SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1))}, format="multipart"
    )
    assert too_big.status_code == 413 and too_big.data["code"] == "too_large"
    wrong_type = upload(client, csv_bytes(north_team()), name="registry.pdf")
    assert wrong_type.status_code == 400 and wrong_type.data["errors"]["file"]
    no_file = client.post(URL, {}, format="multipart")
    assert no_file.status_code == 400 and no_file.data["errors"]["file"]
    assert not ImportJob.objects.exists()


MISSING = ", ".join(c for c in REQUIRED_COLUMNS if c != "commune_code")


def test_a_file_that_is_not_a_workbook_is_refused_at_upload(world, api):
    response = upload(api(world.lan), b"not a workbook", name="registry.xlsx")
    assert response.status_code == 400
    assert response.data["errors"]["file"] == [gettext("The file is not a readable XLSX workbook.")]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "msgid", "values"),
    [
        (
            "registry.xlsx",
            xlsx_bytes([["00001"]], header=["commune_code"]),
            "Missing columns: %(columns)s.",
            {"columns": MISSING},
        ),
        ("registry.csv", csv_bytes([], header=[]), "The file is empty.", {}),
    ],
)
def test_unreadable_file_fails_the_job_with_a_file_error(
    world, api, django_capture_on_commit_callbacks, name, content, msgid, values
):
    client = api(world.lan)
    with django_capture_on_commit_callbacks(execute=False):
        job_id = upload(client, content, name=name).data["id"]
    run_import.apply(args=[job_id])
    data = client.get(f"{URL}{job_id}/").data
    assert data["status"] == "failed"
    assert [(e["row"], e["column"]) for e in data["errors"]] == [(0, "file")]
    assert data["errors"][0]["message"] == (gettext(msgid) % values if values else gettext(msgid))
