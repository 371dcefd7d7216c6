"""No phone number, citizen ID (CCCD) or member full name reaches the log output.

A representative run (member create, edit and leave, refused and conflicting writes, failed logins up to a
lockout, a registry import with errors, a sync with rejected items, 404s, a leader login) is logged through
the handler settings.LOGGING configures, and the text is then searched for every personal value it used,
in every spelling it was sent in.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from areas.names import fold
from members.models import ImportJob
from members.registry_import import import_job_run
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# Personal data the scenario sends: (as sent, canonical).
PHONES = [
    ("+84 912 345 678", "0912345678"),
    ("0912.345.679", "0912345679"),
    ("0987-654-321", "0987654321"),
    ("0977 888 999", "0977888999"),
    ("84 936 111 222", "0936111222"),
]
CCCDS = ["001234567890", "079 123 456 789", "038199000123"]
NAMES = ["Hoàng Thị Diệu Linh", "Trịnh Văn Quyết", "Đặng Thuỳ Trâm", "Lưu Quang Vũ", "Mạc Thị Bưởi"]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _leaks(text: str, extra_phones=(), extra_names=()) -> list[str]:
    """The personal values found in the text, in any of their spellings."""
    found = []
    # Numbers as people write them: "0912 345 678", "079.123.456.789" joined into one run of digits.
    joined = re.sub(r"(?<=\d)[\s.\-](?=\d)", "", text)
    for sent, canonical in [*PHONES, *((p, p) for p in extra_phones)]:
        core = canonical[1:]  # the nine digits after 0 / 84 / +84
        for spelling in (sent, canonical, "84" + core, "+84" + core):
            if spelling in text:
                found.append(spelling)
        if re.search(rf"(?<!\d){core}(?!\d)", joined):
            found.append(core)
    for cccd in CCCDS:
        if cccd in text or _digits(cccd) in joined:
            found.append(cccd)
    folded_text = fold(text)
    for name in [*NAMES, *extra_names]:
        for spelling in (name, unicodedata.normalize("NFD", name)):
            if spelling in text:
                found.append(spelling)
        if fold(name) in folded_text:
            found.append(fold(name))
    return found


def _scenario(world, api) -> None:
    """The representative run; every request answers something other than 5xx."""
    lan = api(world.lan)
    responses = []

    # A member is registered, edited, refused twice (duplicate phone and CCCD, stale version), and leaves.
    created = lan.post(
        "/api/v1/members/",
        {"team": str(world.teams.a1.pk), "full_name": NAMES[0], "phone": PHONES[0][0], "national_id": CCCDS[0]},
        format="json",
    )
    assert created.status_code == 201, created.data
    member_id = created.data["id"]
    responses.append(
        lan.patch(
            f"/api/v1/members/{member_id}/",
            {"phone": PHONES[1][0], "national_id": CCCDS[1], "full_name": NAMES[1], "version": 1},
            format="json",
        )
    )
    responses.append(
        lan.post(
            "/api/v1/members/",
            {"team": str(world.teams.a2.pk), "full_name": NAMES[2], "phone": PHONES[1][0], "national_id": CCCDS[1]},
            format="json",
        )
    )
    responses.append(lan.patch(f"/api/v1/members/{member_id}/", {"full_name": NAMES[3], "version": 1}, format="json"))
    responses.append(lan.post("/api/v1/members/", {"team": str(uuid.uuid4()), "full_name": NAMES[4], "phone": "12"}))
    responses.append(lan.delete(f"/api/v1/members/{member_id}/"))
    responses.append(lan.get(f"/api/v1/members/{uuid.uuid4()}/"))

    # Failed logins, past the lockout, for a leader's phone and for unknown ones; then a good login.
    anonymous = api()
    for _ in range(7):
        responses.append(
            anonymous.post(
                "/api/v1/auth/token/", {"phone": world.tuan.phone, "password": "sai-mat-khau"}, format="json"
            )
        )
    for sent, _canonical in PHONES[2:]:
        responses.append(anonymous.post("/api/v1/auth/token/", {"phone": sent, "password": "sai"}, format="json"))
    responses.append(anonymous.post("/api/v1/auth/token/", {"phone": NAMES[4], "password": "x"}, format="json"))
    responses.append(
        anonymous.post("/api/v1/auth/token/", {"phone": world.tam.phone, "password": PASSWORD}, format="json")
    )
    responses.append(lan.post(f"/api/v1/teams/{world.teams.a2.pk}/leader-account/", {}, format="json"))

    # A registry import whose rows fail (bad phone, bad year, unknown commune, a CCCD where the phone goes).
    csv = "\n".join(
        [
            "commune_code,hamlet_name,team_name,established_on,full_name,phone,birth_year",
            f"00001,Thôn Đông,Tổ CNSCĐ Thôn Đông,2024-05-01,{NAMES[2]},{PHONES[2][0]},1890",
            f"00001,Thôn Đông,Tổ CNSCĐ Thôn Đông,2024-05-01,{NAMES[3]},{_digits(CCCDS[2])},1980",
            f"99999,Thôn Lạ,Tổ Lạ,2024-05-01,{NAMES[4]},{PHONES[3][0]},1985",
        ]
    ).encode()
    upload = SimpleUploadedFile("dang-ky.csv", csv, content_type="text/csv")
    job = lan.post("/api/v1/imports/", {"file": upload}, format="multipart")
    assert job.status_code == 201, job.data
    import_job_run(job_id=job.data["id"])
    assert ImportJob.objects.get(pk=job.data["id"]).status == "failed"
    responses.append(lan.get(f"/api/v1/imports/{job.data['id']}/"))
    responses.append(lan.get(f"/api/v1/imports/{job.data['id']}/errors.xlsx"))

    # A sync whose items are rejected, with personal data in the notes.
    note = f"Gọi {NAMES[3]} số {PHONES[4][0]}, CCCD {CCCDS[2]}"
    items = [
        {"id": str(uuid.uuid4()), "team": str(world.teams.b1.pk), "type": "vneid", "note": note},
        {
            "id": str(uuid.uuid4()),
            "team": str(world.teams.a1.pk),
            "type": "khong-co",
            "occurred_on": str(timezone.localdate()),
            "people_helped": 2,
            "note": note,
        },
        "not an object",
    ]
    responses.append(api(world.tuan).post("/api/v1/activities/sync/", {"activities": items}, format="json"))
    responses.append(api(world.tuan).get("/api/v1/members/", {"phone": PHONES[0][1], "search": NAMES[0]}))
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    assert {r.status_code for r in responses} >= {200, 400, 401, 404, 412, 429}


def test_a_representative_run_logs_no_phone_cccd_or_name(world, api, production_logs):
    _scenario(world, api)
    text = production_logs()
    # The run did log (requests refused, logins failed, a lockout), so the search below searched something.
    assert "Bad Request" in text
    assert "AXES" in text
    assert "Too Many Requests" in text or "Locking out" in text
    extra_names = [m.full_name for m in world.teams.a1.members.all()]
    extra_phones = [u.phone for u in (world.tuan, world.tam, world.lan)]
    assert _leaks(text, extra_phones, extra_names) == [], text


def test_personal_data_in_a_logged_exception_is_redacted(production_logs):
    # A 500 is logged by django.request with its traceback, and a database error's message quotes the row
    # (psycopg: DETAIL: Key (phone)=(...) already exists). The traceback must be redacted like the message.
    detail = f"Key (phone, national_id, full_name)=({PHONES[0][1]}, {CCCDS[0]}, {NAMES[0]}) already exists."
    try:
        raise ValueError(detail)
    except ValueError:
        logging.getLogger("django.request").error("Internal Server Error: %s", "/api/v1/members/", exc_info=True)
    text = production_logs()
    assert "Internal Server Error: /api/v1/members/" in text
    assert "ValueError" in text
    leaks = [value for value in (PHONES[0][1], CCCDS[0]) if value in text]
    assert leaks == [], text


def test_the_filter_masks_what_it_must(production_logs):
    # The scan above would be vacuous if the formatter never saw personal data: here it sees it on purpose.
    log = logging.getLogger("members.services")
    for sent, canonical in PHONES:
        log.warning("member phone %s (%s)", sent, canonical)
    log.warning("citizen id %s", CCCDS[0])
    text = production_logs()
    assert text.count("[phone]") == 2 * len(PHONES)
    assert "[cccd]" in text
    assert _leaks(text) == [], text
