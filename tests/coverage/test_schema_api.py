"""The OpenAPI schema of the coverage APIs: declared responses, CSV media type and list pagination."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_declares_the_coverage_responses_and_their_pagination(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    listed = paths["/api/v1/coverage/provinces/{code}/communes/"]["get"]
    ok = listed["responses"]["200"]["content"]
    reference = ok["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    envelope = schema["components"]["schemas"][reference]
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])
    assert listed["operationId"] == "list_commune_coverage"
    assert set(ok) == {"application/json"}
    export = paths["/api/v1/coverage/provinces/{code}/communes/export/{format}/"]["get"]
    assert export["operationId"] == "export_commune_coverage_list"
    assert export["responses"]["200"]["content"]["text/csv"]["schema"] == {"type": "string", "format": "binary"}
    national = paths["/api/v1/coverage/national/"]["get"]["responses"]["200"]["content"]["application/json"]
    fields = schema["components"]["schemas"][national["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert {"provinces_total", "communes_total", "stale", "computed_at"} <= set(fields)
