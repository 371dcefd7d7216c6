"""Coverage APIs: national, provinces, a province's communes and one commune; JSON, CSV or XLSX."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from areas.models import Province
from config.errors import invalid
from coverage import selectors
from coverage.exports import CSVRenderer, XLSXRenderer

AS_OF = OpenApiParameter("as_of", OpenApiTypes.DATE, description="Answer from that day's snapshot (YYYY-MM-DD)")
FORMAT = OpenApiParameter("format", str, enum=["json", "csv", "xlsx"], description="Export format")

PROVINCE_ORDERINGS = {
    "code",
    "name",
    "communes_covered",
    "communes_fully_covered",
    "hamlet_coverage",
    "teams_active",
    "members_active",
    "activities",
    "people_helped",
}
COMMUNE_ORDERINGS = {
    "code",
    "name",
    "hamlet_coverage",
    "hamlets_covered",
    "hamlets_total",
    "teams_active",
    "members_active",
    "activities",
}


class CoverageInput(serializers.Serializer):
    as_of = serializers.DateField(required=False)
    ordering = serializers.CharField(required=False, max_length=40)
    covered = serializers.BooleanField(required=False, allow_null=True, default=None)
    fully_covered = serializers.BooleanField(required=False, allow_null=True, default=None)


def _params(request) -> dict:
    data = CoverageInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _order(rows: list[dict], ordering: str | None, allowed: set[str]) -> list[dict]:
    if not ordering:
        return rows
    field = ordering.removeprefix("-")
    if field not in allowed:
        raise invalid(ordering=f"{field}: {', '.join(sorted(allowed))}")
    # Ties keep code order, so the ordering is stable.
    return sorted(rows, key=lambda r: (r[field] is None, r[field]), reverse=ordering.startswith("-"))


class CoverageApi(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    export_name = "do-phu"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is not None and renderer.format in {"csv", "xlsx"} and response.status_code == 200:
            response["Content-Disposition"] = f'attachment; filename="{self.export_name}.{renderer.format}"'
        return response

    def respond(self, request, payload, rows_for_export: list[dict]):
        if request.accepted_renderer.format in {"csv", "xlsx"}:
            return Response(rows_for_export)
        return Response(payload)


class NationalCoverageApi(CoverageApi):
    """National totals (ministry)."""

    export_name = "do-phu-toan-quoc"

    @extend_schema(parameters=[AS_OF, FORMAT], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        params = _params(request)
        data = selectors.national(user=request.user, as_of=params.get("as_of"))
        return self.respond(request, data, [data])


class ProvinceCoverageListApi(CoverageApi):
    """Every province in scope with its figures; ?ordering=-hamlet_coverage etc."""

    export_name = "do-phu-tinh"

    @extend_schema(
        parameters=[
            AS_OF,
            FORMAT,
            OpenApiParameter("ordering", str, description=", ".join(sorted(PROVINCE_ORDERINGS))),
        ],
        responses={200: OpenApiTypes.OBJECT},
        operation_id="api_v1_coverage_provinces_list",
    )
    def get(self, request):
        params = _params(request)
        rows = _order(
            selectors.provinces(user=request.user, as_of=params.get("as_of")),
            params.get("ordering"),
            PROVINCE_ORDERINGS,
        )
        return self.respond(request, {"count": len(rows), "next": None, "previous": None, "results": rows}, rows)


class ProvinceCoverageDetailApi(CoverageApi):
    export_name = "do-phu-tinh"

    @extend_schema(parameters=[AS_OF, FORMAT], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, code: str):
        params = _params(request)
        rows = selectors.provinces(user=request.user, as_of=params.get("as_of"), code=code)
        if not rows:
            raise selectors.not_found()
        return self.respond(request, rows[0], rows)


class ProvinceCommunesCoverageApi(CoverageApi):
    """A province's communes with their figures; filters covered, fully_covered; ?ordering=hamlet_coverage."""

    export_name = "do-phu-xa"

    @extend_schema(
        parameters=[
            AS_OF,
            FORMAT,
            OpenApiParameter("covered", bool),
            OpenApiParameter("fully_covered", bool),
            OpenApiParameter("ordering", str, description=", ".join(sorted(COMMUNE_ORDERINGS))),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, code: str):
        params = _params(request)
        if not Province.objects.current().visible_to(request.user).filter(code=code).exists():
            raise selectors.not_found()
        rows = selectors.communes(user=request.user, province_code=code, as_of=params.get("as_of"))
        for name in ("covered", "fully_covered"):
            if params.get(name) is not None:
                rows = [r for r in rows if r[name] == params[name]]
        rows = _order(rows, params.get("ordering"), COMMUNE_ORDERINGS)
        return self.respond(request, {"count": len(rows), "next": None, "previous": None, "results": rows}, rows)


class CommuneCoverageApi(CoverageApi):
    """One commune's figures with its hamlets and whether each is covered."""

    export_name = "do-phu-xa"

    @extend_schema(parameters=[AS_OF, FORMAT], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, code: str):
        params = _params(request)
        rows = selectors.communes(user=request.user, code=code, as_of=params.get("as_of"))
        if not rows:
            raise selectors.not_found()
        data = dict(rows[0])
        data["hamlets"] = selectors.commune_hamlets(user=request.user, commune_code=code)
        if request.accepted_renderer.format in {"csv", "xlsx"}:
            return Response(
                [
                    {"code": h["id"], "name": h["name"], "kind": h["kind"], "covered": h["covered"]}
                    for h in data["hamlets"]
                ]
            )
        return Response(data)
