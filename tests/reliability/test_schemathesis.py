"""Schemathesis against our own OpenAPI schema: every operation, as every role, never a 5xx, always as documented.

The schema is the one clients read (GET /api/schema/), loaded through the WSGI app, so what is tested is what
is published. Each operation runs as one persona of each role (ministry, province admin, commune officer, team
leader), the unscoped `nobody`, and an anonymous caller with no token at all (login, refresh and health demand
none; everything else must answer a documented 401). Tokens are minted directly (the login endpoint's throttle
would otherwise slow the run). Hypothesis is derandomized, so CI draws the same examples every run.

Every answer is judged against the schema a generated client reads (CONFORMANCE):
- no 5xx;
- the status code is one the operation documents (an undocumented 4xx fails: the client could not parse it);
- the Content-Type is one documented for that status (JSON errors on CSV/XLSX export URLs included);
- the documented headers (Retry-After on 429/503, ETag on conditional GETs) are there and typed;
- the body matches the documented schema (required fields, types, nullables).
Schemathesis itself leaves its request-shape probes (a method the path does not allow, a body of another
content type) out of the four conformance checks; they still must not be a 5xx.

The explicit phase runs Schemathesis' examples and coverage cases (boundary values, missing and unexpected
parameters, ids that do not exist). In the generate phase (5 random examples per operation and persona) the
path points at real rows of province A (the `real` fixture: team a1, one of its members, its hamlet, an activity,
a failed import job, A and A1's codes), so that detail reads, edits and deletes answer with real bodies and real
conflicts: 200s, 409s, 412s and 428s are judged too, not only the 404 of a random id. A row in A is in scope for
the ministry, A's province admin, A1's commune officer and A1's team leader, and outside it for `nobody`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import tokens_for
from config.wsgi import application
from coverage import services as coverage_services
from members.models import ImportJob, MemberRole

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

# One persona per role (ministry, province admin, commune officer, team leader), one with no scope at all, and
# no login.
PERSONAS = ["minh", "lan", "hoa", "tuan", "nobody", "anonymous"]

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_test_transaction(real):
    # Django's own test client does this too: a real WSGI request closes "old" connections at its start and end,
    # which would close the connection holding the test's transaction. After `real`, whose test client puts the
    # signal back when its request ends.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=PERSONAS)
def bearer(request, world):
    if request.param == "anonymous":
        return {}
    user = getattr(world, request.param)
    return {"Authorization": f"Bearer {tokens_for(user).access_token}"}


@pytest.fixture
def real(world) -> SimpleNamespace:
    """Rows of province A that the generate phase's paths point at, and coverage figures computed."""
    client = APIClient()
    client.force_authenticate(world.lan)
    item = {
        "id": str(uuid.uuid4()),
        "team": str(world.teams.a1.pk),
        "type": "vneid",
        "occurred_on": str(timezone.localdate() - dt.timedelta(days=1)),
        "people_helped": 5,
    }
    result = client.post("/api/v1/activities/sync/", {"activities": [item]}, format="json").data["results"][0]
    assert result["status"] == "created", result
    job = ImportJob.objects.create(
        province=world.a,
        created_by=world.lan,
        filename="dang-ky.csv",
        checksum=uuid.uuid4().hex * 2,
        content=b"",
        status="failed",
        errors=[{"row": 2, "column": "so_dien_thoai", "message": "Số điện thoại không hợp lệ."}],
    )
    member = world.teams.a1.members.exclude(role=MemberRole.LEADER).first()
    coverage_services.recompute_all()
    return SimpleNamespace(
        activities=result["id"],
        activity_types="vneid",
        communes=world.a1.code,
        hamlets=world.hamlets.a1.pk,
        imports=job.pk,
        members=member.pk,
        provinces=world.a.code,
        teams=world.teams.a1.pk,
        team_size_policies=world.a.code,
    )


def real_path_parameters(case, real: SimpleNamespace) -> dict:
    """The generated path parameters with each row's id or code replaced by the real row's (format kept)."""
    if not {"id", "code"} & set(case.path_parameters):
        return case.path_parameters
    segments = case.path.removeprefix("/api/v1/").split("/")
    if segments[0] == "coverage":
        segments = segments[1:]
    owner = segments[0].replace("-", "_")
    if not hasattr(real, owner):
        pytest.fail(f"{case.path}: give the `real` fixture a row for {owner!r}")
    return {
        name: (str(getattr(real, owner)) if name in ("id", "code") else value)
        for name, value in case.path_parameters.items()
    }


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, bearer, real):
    if case.meta is not None and case.meta.phase.name == TestPhase.FUZZING and case.path_parameters:
        case.path_parameters = real_path_parameters(case, real)
    case.call_and_validate(headers=bearer, checks=CONFORMANCE)
