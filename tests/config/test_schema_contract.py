"""The published OpenAPI contract, checked for every operation the URL conf serves (issue 13, points 1 to 4).

The schema is fetched as clients fetch it (GET /api/schema/). The routes come from django.urls.get_resolver(), as
the authorization matrix finds them, so a new endpoint cannot skip a rule: it must have a verb-on-noun name, one
domain tag, the error envelope on every error it can answer, typed and required response fields, and, for a file,
a binary body. What the server really answers is checked against the same schema by Schemathesis
(tests/reliability/test_schemathesis.py) and by the generated client (tests/contract/).
"""

from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from tests.reliability.test_authorization_matrix import _routes, _view_methods

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/ErrorOutput"
DOMAIN_TAGS = {"areas", "accounts", "teams", "members", "activities", "coverage", "imports", "audit", "health"}
ANONYMOUS = {"login", "refresh_token", "get_health"}
VERBS = ("list", "get", "create", "update", "set", "delete", "remove", "dissolve", "sync", "export", "download")
# The writes that edit a known version: the server answers 428 without it and 412 when it is stale.
VERSIONED = {"update_team": "version", "dissolve_team": "version", "update_member": "version"}
BASED = {"update_activity": "base_updated_at"}
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_OPERATIONS = {"download_import_errors"}
# Present only in some answers, by design: a dependency's check (ms when up, error when down, mode when embedded),
# the coverage part of health when the database is down, a sync item's result (errors when rejected, server on a
# conflict, updated_at when written).
MAY_BE_ABSENT = {
    "CheckOutput": ["error", "mode", "ms"],
    "CoverageHealthOutput": [
        "error",
        "last_reconcile",
        "marks_waiting",
        "oldest_mark_seconds",
        "reconcile_differences",
    ],
    "SyncResult": ["errors", "server", "updated_at"],
    "LeaderAccountOutput": ["password"],  # only when the server generated one
}
# Free-form on purpose: an audit entry's record before and after is any entity's fields.
FREE_FORM = {"AuditOutput.properties.before", "AuditOutput.properties.after"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def _resolve(schema, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _openapi_path(route: str) -> str:
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m.group(1) == "pk" else m.group(1)) + "}", route)
    return path


def test_every_routed_api_operation_is_in_the_schema(schema):
    routed = {
        (method, _openapi_path(route))
        for route, pattern in _routes().items()
        if route.startswith("api/v1/")
        for method in _view_methods(pattern)
    }
    assert routed, "no API route found"
    documented = {(method, path) for path, method, _ in _operations(schema)}
    assert routed == documented


def test_operation_ids_are_verbs_on_nouns_and_unique(schema):
    ids = [operation["operationId"] for _, _, operation in _operations(schema)]
    assert len(ids) == len(set(ids))
    pattern = re.compile(rf"^(login|refresh_token|({'|'.join(VERBS)})(_[a-z]+)+)$")
    assert [name for name in ids if not pattern.match(name)] == []
    # Lists read as lists: a GET answering a page is list_*, never *_retrieve.
    for _, method, operation in _operations(schema):
        body = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema")
        if method == "GET" and body and "results" in _resolve(schema, body).get("properties", {}):
            assert operation["operationId"].startswith("list_"), operation["operationId"]


def test_one_domain_tag_per_operation(schema):
    tags = {operation["operationId"]: operation.get("tags") for _, _, operation in _operations(schema)}
    assert {name: t for name, t in tags.items() if not (t and len(t) == 1 and t[0] in DOMAIN_TAGS)} == {}
    assert {t[0] for t in tags.values()} == DOMAIN_TAGS
    assert [tag["name"] for tag in schema["tags"]] and {tag["name"] for tag in schema["tags"]} == DOMAIN_TAGS


def test_only_login_refresh_and_health_are_anonymous(schema):
    for _, _, operation in _operations(schema):
        if operation["operationId"] in ANONYMOUS:
            assert operation["security"] == [], operation["operationId"]
        else:
            assert operation["security"] == [{"jwtAuth": []}], operation["operationId"]


def _expected_errors(path: str, method: str, operation: dict) -> set[str]:
    name = operation["operationId"]
    expected = {"400", "503"}
    if name in ANONYMOUS:
        return expected | ({"401", "413", "415", "429"} if method == "POST" else set())
    expected |= {"401", "403"}
    if "{" in path:
        expected.add("404")
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        expected |= {"409", "429"}
    if "requestBody" in operation:
        expected |= {"413", "415"}
    if name in VERSIONED or name in BASED:
        expected |= {"412", "428"}
    return expected


def test_every_operation_documents_its_errors_with_the_envelope(schema):
    missing = {}
    for path, method, operation in _operations(schema):
        documented = {status for status in operation["responses"] if status[0] in "45"}
        lacking = _expected_errors(path, method, operation) - documented
        if lacking:
            missing[operation["operationId"]] = sorted(lacking)
        for status in documented:
            if (operation["operationId"], status) == ("get_health", "503"):
                continue  # health's 503 is its report: which dependency is down
            content = operation["responses"][status].get("content")
            assert content == {"application/json": {"schema": {"$ref": ERROR_REF}}}, (operation["operationId"], status)
    assert missing == {}


def test_the_envelope_is_typed(schema):
    envelope = schema["components"]["schemas"]["ErrorOutput"]
    assert sorted(envelope["required"]) == ["code", "detail"]
    properties = envelope["properties"]
    assert properties["detail"]["type"] == properties["code"]["type"] == "string"
    assert properties["errors"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert properties["version"]["type"] == properties["retry_after"]["type"] == "integer"
    assert properties["existing_id"]["type"] == "string"
    assert properties["updated_at"]["format"] == "date-time"


def _response_components(schema) -> set[str]:
    """Names of the components reachable from a 2xx JSON response."""
    seen: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(schema["components"]["schemas"][name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _, _, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                walk(response.get("content", {}).get("application/json", {}))
    return seen


def _objects(node, where: str):
    """Every object schema inside `node` (inlined ones too), with where it is."""
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{where}.{index}")


def test_every_response_is_typed_and_always_present_fields_are_required(schema):
    components = _response_components(schema)
    assert {"NationalCoverageOutput", "PaginatedCommuneCoverageOutputList", "TeamOutput", "MeOutput"} <= components
    untyped, optional = [], []
    for name in sorted(components - {"ErrorOutput"}):
        for where, node in _objects(schema["components"]["schemas"][name], name):
            properties = node.get("properties")
            if not properties:
                free = isinstance(node.get("additionalProperties"), dict) and (
                    node["additionalProperties"] or where in FREE_FORM
                )
                if not free:
                    untyped.append(where)  # a bare `type: object`: a generated client sees nothing in it
                continue
            lacking = set(properties) - set(node.get("required", []))
            if lacking and not (where == name and sorted(lacking) == MAY_BE_ABSENT.get(name)):
                optional.append((where, sorted(lacking)))
    assert untyped == []
    assert optional == [], optional


def test_lists_declare_their_pagination_envelope(schema):
    for _, _, operation in _operations(schema):
        if not operation["operationId"].startswith("list_") or operation["operationId"] == "list_activity_changes":
            continue
        body = _resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
        assert {"count", "next", "previous", "results"} <= set(body["properties"]), operation["operationId"]
        assert {"count", "results"} <= set(body["required"]), operation["operationId"]


def test_the_version_being_edited_is_required_in_the_request(schema):
    required = {**VERSIONED, **BASED}
    for _, _, operation in _operations(schema):
        field = required.pop(operation["operationId"], None)
        if field is None:
            continue
        body = _resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
        assert field in body["required"], operation["operationId"]
    assert required == {}


def test_files_are_binary_files(schema):
    files = {}
    for _, _, operation in _operations(schema):
        name = operation["operationId"]
        content = operation["responses"].get("200", {}).get("content", {})
        if name.startswith("export_") or name in FILE_OPERATIONS:
            files[name] = content
            assert set(content) in ({CSV, XLSX}, {XLSX}), name
            assert all(body["schema"] == {"type": "string", "format": "binary"} for body in content.values()), name
        else:
            assert not set(content) & {CSV, XLSX}, f"{name}: a file beside JSON in one 200 cannot be generated"
    assert len(files) == 6


def test_the_schema_is_strict_openapi_3_0(schema):
    assert schema["openapi"].startswith("3.0")
    validate(schema)
    # A nullable value sits beside its type (never beside a $ref or allOf alone), and null then validates.
    checked = 0
    for where, node in _objects(schema, "schema"):
        for name, prop in node.get("properties", {}).items():
            if not prop.get("nullable"):
                continue
            assert "type" in prop and "$ref" not in prop and "allOf" not in prop, f"{where}.{name}"
            assert OAS30Validator({k: v for k, v in prop.items() if k != "properties"}).is_valid(None), where
            checked += 1
    assert checked > 0
