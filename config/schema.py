"""The OpenAPI contract's house rules, applied to every operation (drf-spectacular's AutoSchema, one hook).

A generated client (docs/api.md) reads the schema, so the schema says what the server really does:
- every operation names itself as a verb on a noun (OPERATION_IDS) under one tag per domain (TAGS);
- every operation documents the errors it can answer, all in one envelope (ErrorOutput, config.errors.envelope);
- a field the server always returns is required in the response; the version a write edits is required in the request;
- login, refresh and health demand no authentication (`security: []`);
- conditional GET (config.conditional) is documented where a view serves it;
- a nullable reference is written so that strict OpenAPI 3.0 validators accept it.

A new endpoint without an operationId here fails the schema build (and tests/config/test_schema_contract.py).
"""

from __future__ import annotations

import copy

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions, serializers

API_PREFIX = "/api/v1/"

# --- The error envelope ----------------------------------------------------------------------------------------


class ErrorOutput(serializers.Serializer):
    """Every error body (4xx and 5xx): config.errors.envelope writes it."""

    schema_optional_fields = ("errors", "version", "existing_id", "updated_at", "retry_after")

    detail = serializers.CharField(help_text="What went wrong, in the request's language (Vietnamese by default).")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. invalid, not_found, stale_version.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='400 about fields: each field path ("phone", "activities.3.minutes", "non_field_errors") '
        "with its messages.",
    )
    version = serializers.IntegerField(required=False, help_text="412, 428 and id conflicts: the current version.")
    existing_id = serializers.CharField(required=False, help_text="409 duplicates: the id of the existing record.")
    updated_at = serializers.DateTimeField(
        required=False, help_text="Activity 412 and 428: the current updated_at, to send back as base_updated_at."
    )
    retry_after = serializers.IntegerField(required=False, help_text="429 and 503: seconds to wait before retrying.")


ERROR_DESCRIPTIONS = {
    400: "Invalid input: `errors` has a message per field.",
    401: "Not logged in, or the token is invalid or expired.",
    403: "Logged in, but the role may not do this.",
    404: "Not found, or outside the caller's scope (never told apart); on a list, a page that does not exist.",
    409: "Conflicts with existing data (`existing_id`, `version` where known).",
    412: "The version (or base_updated_at) sent is not the current one: reload and retry (`version`/`updated_at`).",
    413: "The request body is too large.",
    415: "The request body's content type is not JSON (or multipart where a file is uploaded).",
    428: "Send the version being edited (`version` field or If-Match; base_updated_at for an activity).",
    429: "Too many requests or failed logins: retry after `retry_after` seconds.",
    503: "A dependency (the database) is unavailable: retry after `retry_after` seconds.",
}

# --- Names and groups --------------------------------------------------------------------------------------------

# (method, path after /api/v1/) -> operationId.
OPERATION_IDS = {
    ("POST", "auth/token/"): "login",
    ("POST", "auth/token/refresh/"): "refresh_token",
    ("GET", "me/"): "get_me",
    ("GET", "audit/"): "list_audit_entries",
    ("GET", "health/"): "get_health",
    ("GET", "provinces/"): "list_provinces",
    ("GET", "provinces/{code}/"): "get_province",
    ("GET", "communes/"): "list_communes",
    ("GET", "communes/{code}/"): "get_commune",
    ("GET", "communes/{code}/successors/"): "get_commune_successors",
    ("GET", "communes/{code}/predecessors/"): "get_commune_predecessors",
    ("GET", "hamlets/"): "list_hamlets",
    ("POST", "hamlets/"): "create_hamlet",
    ("GET", "hamlets/{id}/"): "get_hamlet",
    ("PATCH", "hamlets/{id}/"): "update_hamlet",
    ("DELETE", "hamlets/{id}/"): "delete_hamlet",
    ("GET", "teams/"): "list_teams",
    ("POST", "teams/"): "create_team",
    ("GET", "teams/{id}/"): "get_team",
    ("PATCH", "teams/{id}/"): "update_team",
    ("POST", "teams/{id}/dissolve/"): "dissolve_team",
    ("POST", "teams/{id}/leader-account/"): "create_leader_account",
    ("GET", "teams/{id}/members/"): "list_team_members",
    ("GET", "team-size-policies/{code}/"): "get_team_size_policy",
    ("PUT", "team-size-policies/{code}/"): "set_team_size_policy",
    ("GET", "members/"): "list_members",
    ("POST", "members/"): "create_member",
    ("GET", "members/{id}/"): "get_member",
    ("PATCH", "members/{id}/"): "update_member",
    ("DELETE", "members/{id}/"): "remove_member",
    ("POST", "imports/"): "create_import",
    ("GET", "imports/{id}/"): "get_import",
    ("GET", "imports/{id}/errors.xlsx"): "download_import_errors",
    ("GET", "activities/"): "list_activities",
    ("GET", "activities/{id}/"): "get_activity",
    ("PATCH", "activities/{id}/"): "update_activity",
    ("DELETE", "activities/{id}/"): "delete_activity",
    ("GET", "activities/changes/"): "list_activity_changes",
    ("POST", "activities/sync/"): "sync_activities",
    ("GET", "activity-types/"): "list_activity_types",
    ("POST", "activity-types/"): "create_activity_type",
    ("GET", "activity-types/{code}/"): "get_activity_type",
    ("PATCH", "activity-types/{code}/"): "update_activity_type",
    ("GET", "coverage/national/"): "get_national_coverage",
    ("GET", "coverage/national/export/{format}/"): "export_national_coverage",
    ("GET", "coverage/provinces/"): "list_province_coverage",
    ("GET", "coverage/provinces/export/{format}/"): "export_province_coverage_list",
    ("GET", "coverage/provinces/{code}/"): "get_province_coverage",
    ("GET", "coverage/provinces/{code}/export/{format}/"): "export_province_coverage",
    ("GET", "coverage/provinces/{code}/communes/"): "list_commune_coverage",
    ("GET", "coverage/provinces/{code}/communes/export/{format}/"): "export_commune_coverage_list",
    ("GET", "coverage/communes/{code}/"): "get_commune_coverage",
    ("GET", "coverage/communes/{code}/export/{format}/"): "export_commune_coverage",
}

# The first segment of the path after /api/v1/ -> the operation's one tag.
TAGS = {
    "auth": "accounts",
    "me": "accounts",
    "audit": "audit",
    "health": "health",
    "provinces": "areas",
    "communes": "areas",
    "hamlets": "areas",
    "teams": "teams",
    "team-size-policies": "teams",
    "members": "members",
    "imports": "imports",
    "activities": "activities",
    "activity-types": "activities",
    "coverage": "coverage",
}
# Where a path's first segment is not its domain.
TAG_OVERRIDES = {
    "teams/{id}/members/": "members",
    "teams/{id}/leader-account/": "accounts",
}

TAG_DESCRIPTIONS = {
    "accounts": "Log in, refresh, who am I, team leaders' logins.",
    "areas": "Provinces, communes (the map since 1 July 2025) and hamlets.",
    "teams": "Community digital technology teams and the size policy.",
    "members": "Team members (volunteers).",
    "imports": "Registry imports from spreadsheets, run as background jobs.",
    "activities": "Support activities: offline sync, edits, the changes feed, activity types.",
    "coverage": "Coverage figures per commune, province and the nation; CSV and XLSX exports.",
    "audit": "Who changed what.",
    "health": "Liveness and dependencies.",
}

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer: 304 with no body when nothing changed.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='Alternative to the body\'s `version`: the ETag of the version being edited, e.g. "3".',
)


def api_path(path: str) -> str | None:
    return path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else None


class AutoSchema(SpectacularAutoSchema):
    def _relative_path(self) -> str:
        return api_path(self.path) or self.path

    def _get_format_parameters(self):
        # DRF's ?format= picks a renderer; coverage's CSV and XLSX are documented as their own operations
        # (…/export/{format}/), so the alias on the JSON URL is left out of the contract.
        return []

    def get_operation_id(self) -> str:
        key = (self.method, self._relative_path())
        try:
            return OPERATION_IDS[key]
        except KeyError:
            raise KeyError(f"{key}: name the operation in config.schema.OPERATION_IDS") from None

    def get_tags(self) -> list[str]:
        relative = self._relative_path()
        if relative in TAG_OVERRIDES:
            return [TAG_OVERRIDES[relative]]
        return [TAGS[relative.split("/", 1)[0]]]

    def is_excluded(self) -> bool:
        # /health/ is the load balancer's alias of /api/v1/health/: one operation in the schema.
        return self.path == "/health/" or super().is_excluded()

    def _allows_anonymous(self) -> bool:
        """Login, refresh and health: AllowAny, or no permission and no authentication at all (simplejwt)."""
        checks = self.view.get_permissions()
        return any(isinstance(p, permissions.AllowAny) for p in checks) or not (
            checks or self.view.get_authenticators()
        )

    def get_auth(self):
        if self._allows_anonymous():
            return []
        return super().get_auth()

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "GET" and getattr(self.view, "conditional_get", False):
            parameters.append(IF_NONE_MATCH)
        if self.method in ("PATCH", "PUT", "POST") and self._request_field_names() & {"version"}:
            parameters.append(IF_MATCH)
        return parameters

    def _request_field_names(self) -> set[str]:
        if self.method not in ("POST", "PUT", "PATCH"):
            return set()
        serializer = self.get_request_serializer()
        if isinstance(serializer, type) and issubclass(serializer, serializers.BaseSerializer):
            serializer = serializer()
        fields = getattr(serializer, "fields", None)
        return set(fields.keys()) if fields is not None else set()

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        properties = schema.get("properties", {})
        if direction == "response":
            # What the server answers always has every field, except those a serializer says it may leave out.
            optional = set(getattr(serializer, "schema_optional_fields", ()))
            required = sorted(name for name in properties if name not in optional)
        else:
            required = set(schema.get("required", []))
            # The version being edited: the server answers 428 without it (If-Match is the alternative).
            if "version" in properties and self.method in ("PATCH", "PUT", "POST"):
                required.add("version")
            if "base_updated_at" in properties and self.method == "PATCH":
                required.add("base_updated_at")
            required = sorted(required)
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema

    # --- responses ---

    def _error_statuses(self, operation: dict) -> set[int]:
        statuses = {503}
        if api_path(self.path) is None:
            return statuses  # /health/: no input, no auth
        statuses.add(400)  # a bad query parameter (a NUL in any) or body
        if operation.get("security"):
            statuses |= {401, 403}
        if "{" in self.path or (self.method == "GET" and self._is_list_view() and self._get_paginator()):
            statuses.add(404)  # out of scope, or a page that does not exist
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and operation.get("security"):
            statuses |= {409, 429}
        if "requestBody" in operation:
            statuses |= {413, 415}
        fields = self._request_field_names()
        if "version" in fields or (self.method == "PATCH" and "base_updated_at" in fields):
            statuses |= {412, 428}
        if self._allows_anonymous() and self.method == "POST":
            statuses |= {401, 429}  # wrong password or refresh token; the login throttle and lockout
        statuses |= set(getattr(self.view, "schema_error_statuses", {}).get(self.method, ()))
        return statuses

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if self._allows_anonymous():
            operation["security"] = []
        responses = operation["responses"]
        for _status, response in responses_2xx(operation):
            # The JSON operation's renderers also serve ?format=csv|xlsx (a browser alias): only its export twin
            # documents the file, so a generated client has one body per answer.
            content = response.get("content", {})
            for media_type in [m for m, body in content.items() if m != "application/json" and not _binary(body)]:
                del content[media_type]
        error = self.resolve_serializer(ErrorOutput(), "response").ref
        for status in sorted(self._error_statuses(operation)):
            if responses.get(str(status), {}).get("content"):
                continue  # the view documents its own body (health's 503 is its report)
            response = responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
            response["content"] = {"application/json": {"schema": error}}
            if status in (429, 503):
                response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
        if self.method == "GET" and getattr(self.view, "conditional_get", False):
            for status in ("200",):
                if status in responses:
                    responses[status].setdefault("headers", {})["ETag"] = {
                        "schema": {"type": "string"},
                        "description": "Send it back in If-None-Match.",
                    }
            responses["304"] = {"description": "Not modified: the ETag sent in If-None-Match is current; no body."}
        return operation


def responses_2xx(operation: dict):
    return [(status, response) for status, response in operation["responses"].items() if status.startswith("2")]


def _binary(body: dict) -> bool:
    return body.get("schema") == {"type": "string", "format": "binary"}


# --- Postprocessing: strict OpenAPI 3.0 ----------------------------------------------------------------------


def _inline_nullable_refs(node, components: dict):
    """`{allOf: [$ref X], nullable: true}` becomes X's object inlined, with `nullable: true`.

    Strict OpenAPI 3.0 gives a `$ref` no siblings, applies `nullable` only beside a `type`, and `allOf` would
    still test null against X: the inlined nullable object is the one form that says "X or null".
    """
    if isinstance(node, dict):
        all_of = node.get("allOf")
        if node.get("nullable") and isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
            inlined = copy.deepcopy(components[all_of[0]["$ref"].rsplit("/", 1)[-1]])
            inlined.update({key: value for key, value in node.items() if key != "allOf"})
            if "enum" in inlined and None not in inlined["enum"]:
                inlined["enum"] = [*inlined["enum"], None]
            node.clear()
            node.update(inlined)
        for value in node.values():
            _inline_nullable_refs(value, components)
    elif isinstance(node, list):
        for value in node:
            _inline_nullable_refs(value, components)


def postprocess(result, generator, request, public):
    components = result.get("components", {}).get("schemas", {})
    _inline_nullable_refs(result.get("paths", {}), components)
    _inline_nullable_refs(components, components)
    used = {tag for item in result.get("paths", {}).values() for op in item.values() for tag in op.get("tags", [])}
    result["tags"] = [{"name": name, "description": text} for name, text in TAG_DESCRIPTIONS.items() if name in used]
    return result
