"""Schemathesis against our own OpenAPI schema: every operation, as every role, never a 5xx, always as documented.

The schema is the one clients read (GET /api/schema/), loaded through the WSGI app, so what is tested is what
is published. Each operation runs as one persona of each role plus the unscoped `nobody`, with tokens minted
directly (the login endpoint's throttle would otherwise slow the run). Hypothesis is derandomized, so CI draws
the same examples every run.

Two checks: no 5xx, and a response whose status code the schema documents matches the documented body (an
undocumented 4xx is not judged). The explicit phase includes Schemathesis' coverage cases (boundary values,
missing and unexpected parameters, methods the path does not allow); the generate phase adds 5 random
examples per operation and persona.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.tokens import tokens_for
from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

# One persona per role, and one with no scope at all.
PERSONAS = ["minh", "lan", "hoa", "tuan", "nobody"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_test_transaction():
    # Django's own test client does this too: a real WSGI request closes "old" connections at its start and end,
    # which would close the connection holding the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=PERSONAS)
def bearer(request, world):
    user = getattr(world, request.param)
    return {"Authorization": f"Bearer {tokens_for(user).access_token}"}


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, bearer):
    case.call_and_validate(headers=bearer, checks=[not_a_server_error, response_schema_conformance])
