"""Coverage APIs: national, provinces, a province's communes and one commune; JSON, and each as CSV or XLSX.

Each JSON operation has an export twin, GET <same path>export/{format}/ with format csv or xlsx, whose only
answer is the file: a client generated from the schema downloads it as bytes. `?format=csv|xlsx` on the JSON
URL gives the same file (handy for links in a browser) but is not in the schema.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from areas import maps
from areas.apis import MapField, map_parameter
from config import inputs, replica, timestamps
from config.celery import app
from config.conditional import ConditionalGetMixin
from config.inputs import JSONRenderer
from coverage import freshness, selectors, services
from coverage.exports import CSVRenderer, XLSXRenderer, commune_export_rows, export_rows

AS_OF = OpenApiParameter("as_of", OpenApiTypes.DATE, description="Answer from that day's snapshot (YYYY-MM-DD)")
EXPORT_FORMAT = OpenApiParameter("format", str, OpenApiParameter.PATH, enum=["csv", "xlsx"], description="File format")
CODE = OpenApiParameter("code", str, OpenApiParameter.PATH)


class CoverageInput(serializers.Serializer):
    as_of = inputs.DateField(required=False)
    map = MapField()
    ordering = serializers.CharField(required=False, max_length=40)
    covered = serializers.BooleanField(required=False, allow_null=True, default=None)
    fully_covered = serializers.BooleanField(required=False, allow_null=True, default=None)


# --- Output (the JSON shape; the schema and a generated client read it from here) ----------------


class ByTypeOutput(serializers.Serializer):
    activities = serializers.IntegerField()
    people_helped = serializers.IntegerField()


class CoverageFiguresOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    map = serializers.ChoiceField(choices=list(maps.MAPS), help_text="The map the unit and its figures are on")
    hamlets_total = serializers.IntegerField()
    hamlets_covered = serializers.IntegerField()
    hamlet_coverage = serializers.FloatField()
    hamlets_old_commune_missing = serializers.IntegerField(
        help_text="Active hamlets whose commune on the 2024 map is not recorded yet (on the 2024 map: in the "
        "2025 communes this unit went into, made of several old communes; they may belong to it)"
    )
    teams_unattributed = serializers.IntegerField(
        help_text="Active teams that cannot be placed on the 2024 map (on a 2024 unit: in the 2025 communes it "
        "went into; they may belong to it, so its team counts are lower bounds while this is above 0)"
    )
    teams_active = serializers.IntegerField()
    teams_commune_level = serializers.IntegerField()
    teams_hamlet_level = serializers.IntegerField()
    teams_by_size_status = serializers.DictField(child=serializers.IntegerField())
    members_active = serializers.IntegerField()
    members_by_role = serializers.DictField(child=serializers.IntegerField())
    members_by_background = serializers.DictField(child=serializers.IntegerField())
    activities = serializers.IntegerField()
    people_helped = serializers.IntegerField()
    activities_by_type = serializers.DictField(child=ByTypeOutput())
    quarter = serializers.CharField()
    activities_quarter = serializers.IntegerField()
    people_helped_quarter = serializers.IntegerField()
    activities_by_type_quarter = serializers.DictField(child=ByTypeOutput())
    computed_at = timestamps.TimestampField(allow_null=True, help_text="Null: not computed yet (zeros shown)")
    stale = serializers.BooleanField(help_text="True while writes or a map or quarter change await a recompute")


COVERED_MAX = (
    "Communes covered or that may be (an uncovered 2024-map commune whose 2025 communes hold teams not placed "
    "on the 2024 map); equal to communes_covered on the 2025 map"
)


class NationalCoverageOutput(CoverageFiguresOutput):
    provinces_total = serializers.IntegerField()
    provinces_complete = serializers.IntegerField()
    provinces_complete_max = serializers.IntegerField(
        help_text="Provinces complete or that may be (from communes_covered_max); equal to provinces_complete on "
        "the 2025 map"
    )
    communes_total = serializers.IntegerField()
    communes_covered = serializers.IntegerField()
    communes_covered_max = serializers.IntegerField(help_text=COVERED_MAX)
    communes_fully_covered = serializers.IntegerField()


class ProvinceCoverageOutput(CoverageFiguresOutput):
    communes_total = serializers.IntegerField()
    communes_covered = serializers.IntegerField()
    communes_covered_max = serializers.IntegerField(help_text=COVERED_MAX)
    communes_fully_covered = serializers.IntegerField()
    complete = serializers.BooleanField()


class CommuneCoverageOutput(CoverageFiguresOutput):
    kind = serializers.CharField()
    province = serializers.CharField()
    covered = serializers.BooleanField()
    fully_covered = serializers.BooleanField()


class HamletCoverageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    covered = serializers.BooleanField()


class CommuneCoverageDetailOutput(CommuneCoverageOutput):
    hamlets = HamletCoverageOutput(many=True)


EXPORT_RESPONSES = {
    (200, CSVRenderer.media_type): OpenApiResponse(OpenApiTypes.BINARY, description="CSV, UTF-8 with a BOM"),
    (200, XLSXRenderer.media_type): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook"),
}


# What CoverageInput gives for an empty query string (tests/coverage pins it): most reads ask nothing, and
# building the serializer (DRF deep-copies its fields) cost a sixth of a cached read.
NO_PARAMS = {"map": maps.DEFAULT, "covered": None, "fully_covered": None}


def _params(request) -> dict:
    """The query's as_of, map (the map in force when absent) and ordering, checked."""
    if not request.query_params:
        return dict(NO_PARAMS)
    data = CoverageInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    return {"map": maps.DEFAULT, **data.validated_data}


MAP = map_parameter()
NATIONAL_PARAMETERS = [MAP, AS_OF]
PROVINCE_LIST_PARAMETERS = [
    MAP,
    AS_OF,
    OpenApiParameter("ordering", str, description=", ".join(sorted(selectors.PROVINCE_ORDERINGS))),
]
PROVINCE_PARAMETERS = [CODE, MAP, AS_OF]
COMMUNE_LIST_PARAMETERS = [
    CODE,
    MAP,
    AS_OF,
    OpenApiParameter("covered", bool),
    OpenApiParameter("fully_covered", bool),
    OpenApiParameter("ordering", str, description=", ".join(sorted(selectors.COMMUNE_ORDERINGS))),
]
COMMUNE_PARAMETERS = [CODE, MAP, AS_OF]


class CoverageApi(ConditionalGetMixin, GenericAPIView):
    """A JSON answer is conditional (config.conditional), decided by coverage.freshness after initial() has
    recomputed what waits in the embedded mode, so that a 304 is never stale; an export is not. The rendered
    JSON is cached under that state: a repeated read is the validator's query and one cache read."""

    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]
    export_name = "do-phu"
    pagination_class = None
    # A body depends on the freshness state, the URL, the language and the scope only (no personal data):
    # the rendered JSON is kept and served to every requester with that scope (config.conditional).
    body_cache = True

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if app.conf.task_always_eager:
            # The embedded mode has no worker and no beat: a read recomputes what waits, in-process.
            services.refresh_if_waiting()
        # After authentication (always on the primary): the figures may come from a replica (config.replica).
        self._reading = replica.reading(request.user)
        self._reading.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        reading, self._reading = getattr(self, "_reading", None), None
        if reading is not None:
            reading.__exit__(None, None, None)
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is not None and renderer.format in {"csv", "xlsx"} and response.status_code == 200:
            response["Content-Disposition"] = f'attachment; filename="{self.export_name}.{renderer.format}"'
        return response

    def exporting(self, request) -> bool:
        return request.accepted_renderer.format in {"csv", "xlsx"}

    def export(self, rows: list[dict]) -> Response:
        """Every row as export lines: the renderers only lay them out."""
        return Response(export_rows(rows, selectors.activity_type_names()))

    def respond(self, request, output: type[serializers.Serializer], payload: dict) -> Response:
        if self.exporting(request):
            return self.export([payload])
        return Response(output(payload).data)

    def respond_list(self, request, output: type[serializers.Serializer], rows: list[dict]) -> Response:
        """A page of rows in the list envelope; an export holds every row."""
        if self.exporting(request):
            return self.export(rows)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(output(page, many=True).data)


class NationalCoverageApi(CoverageApi):
    """National totals (ministry)."""

    export_name = "do-phu-toan-quoc"
    # Not the ministry (never told apart from "no such thing"), or no snapshot on the as_of day.
    schema_error_statuses = {"GET": (404,)}

    @extend_schema(parameters=NATIONAL_PARAMETERS, responses=NationalCoverageOutput)
    def get(self, request):
        params = _params(request)
        return self.conditional(
            request,
            lambda: freshness.national(user=request.user, as_of=params.get("as_of"), on_map=params["map"]),
            lambda: self.respond(
                request,
                NationalCoverageOutput,
                selectors.national(user=request.user, as_of=params.get("as_of"), on_map=params["map"]),
            ),
        )


class ProvinceCoverageListApi(CoverageApi):
    """Every province in scope with its figures; ?ordering=-hamlet_coverage etc."""

    export_name = "do-phu-tinh"
    pagination_class = GenericAPIView.pagination_class

    @extend_schema(
        parameters=PROVINCE_LIST_PARAMETERS,
        responses=ProvinceCoverageOutput(many=True),
    )
    def get(self, request):
        params = _params(request)
        return self.conditional(
            request,
            lambda: freshness.provinces(user=request.user, as_of=params.get("as_of"), on_map=params["map"]),
            lambda: self.respond_list(
                request,
                ProvinceCoverageOutput,
                selectors.provinces(
                    user=request.user,
                    as_of=params.get("as_of"),
                    ordering=params.get("ordering"),
                    on_map=params["map"],
                ),
            ),
        )


class ProvinceCoverageDetailApi(CoverageApi):
    export_name = "do-phu-tinh"

    @extend_schema(parameters=PROVINCE_PARAMETERS, responses=ProvinceCoverageOutput)
    def get(self, request, code: str):
        params = _params(request)
        return self.conditional(
            request,
            lambda: freshness.provinces(user=request.user, as_of=params.get("as_of"), code=code, on_map=params["map"]),
            lambda: self.respond_province(request, code, params),
        )

    def respond_province(self, request, code: str, params: dict) -> Response:
        rows = selectors.provinces(user=request.user, as_of=params.get("as_of"), code=code, on_map=params["map"])
        if not rows:
            raise selectors.not_found()
        return self.respond(request, ProvinceCoverageOutput, rows[0])


class ProvinceCommunesCoverageApi(CoverageApi):
    """A province's communes with their figures; filters covered, fully_covered; ?ordering=hamlet_coverage."""

    export_name = "do-phu-xa"
    pagination_class = GenericAPIView.pagination_class

    @extend_schema(
        parameters=COMMUNE_LIST_PARAMETERS,
        responses=CommuneCoverageOutput(many=True),
    )
    def get(self, request, code: str):
        params = _params(request)
        return self.conditional(
            request,
            lambda: freshness.communes(
                user=request.user, as_of=params.get("as_of"), province_code=code, on_map=params["map"]
            ),
            lambda: self.respond_communes(request, code, params),
        )

    def respond_communes(self, request, code: str, params: dict) -> Response:
        rows = selectors.province_communes(
            user=request.user,
            province_code=code,
            as_of=params.get("as_of"),
            covered=params.get("covered"),
            fully_covered=params.get("fully_covered"),
            ordering=params.get("ordering"),
            on_map=params["map"],
        )
        return self.respond_list(request, CommuneCoverageOutput, rows)


class CommuneCoverageApi(CoverageApi):
    """One commune's figures with its hamlets and whether each is covered."""

    export_name = "do-phu-xa"

    @extend_schema(parameters=COMMUNE_PARAMETERS, responses=CommuneCoverageDetailOutput)
    def get(self, request, code: str):
        params = _params(request)
        return self.conditional(
            request,
            lambda: freshness.communes(user=request.user, as_of=params.get("as_of"), code=code, on_map=params["map"]),
            lambda: self.respond_commune(request, code, params),
        )

    def respond_commune(self, request, code: str, params: dict) -> Response:
        on_map = params["map"]
        rows = selectors.communes(user=request.user, code=code, as_of=params.get("as_of"), on_map=on_map)
        if not rows:
            raise selectors.not_found()
        data = dict(rows[0])
        data["hamlets"] = selectors.commune_hamlets(user=request.user, commune_code=code, on_map=on_map)
        if self.exporting(request):
            return self.export(commune_export_rows(data))
        return Response(CommuneCoverageDetailOutput(data).data)


# --- Exports: the same figures as files ------------------------------------------------------------------------


def export_of(view: type[CoverageApi], parameters: list) -> type[CoverageApi]:
    """`view` answering only as a file: GET <view's path>export/{format}/, format csv or xlsx (DRF's format kwarg
    picks the renderer). Errors are JSON, as everywhere (config.errors)."""

    class ExportApi(view):
        renderer_classes = [CSVRenderer, XLSXRenderer]
        conditional_get = False

        @extend_schema(parameters=[*parameters, EXPORT_FORMAT], responses=EXPORT_RESPONSES)
        def get(self, request, format: str, **kwargs):
            return super().get(request, **kwargs)

    ExportApi.__name__ = ExportApi.__qualname__ = view.__name__.removesuffix("Api") + "ExportApi"
    ExportApi.__doc__ = f"{(view.__doc__ or '').strip()} As a CSV or XLSX file."
    return ExportApi


NationalCoverageExportApi = export_of(NationalCoverageApi, NATIONAL_PARAMETERS)
ProvinceCoverageListExportApi = export_of(ProvinceCoverageListApi, PROVINCE_LIST_PARAMETERS)
ProvinceCoverageDetailExportApi = export_of(ProvinceCoverageDetailApi, PROVINCE_PARAMETERS)
ProvinceCommunesCoverageExportApi = export_of(ProvinceCommunesCoverageApi, COMMUNE_LIST_PARAMETERS)
CommuneCoverageExportApi = export_of(CommuneCoverageApi, COMMUNE_PARAMETERS)
