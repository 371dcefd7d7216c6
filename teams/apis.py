"""Team APIs: list, register, read, edit, dissolve, and the province team-size policy."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from config import inputs, timestamps
from config.conditional import ConditionalGetMixin
from config.pagination import CountedApart
from config.versioning import etag, versioned_input
from teams import selectors, services
from teams.models import SizeStatus, Team, TeamLevel, TeamStatus


class LeaderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    full_name = serializers.CharField()


class TeamOutput(timestamps.ModelSerializer):
    province = serializers.CharField(source="province.code")
    commune = serializers.CharField(source="commune.code")
    commune_name = serializers.CharField(source="commune.name")
    hamlet = serializers.IntegerField(source="hamlet_id", allow_null=True)
    hamlet_name = serializers.CharField(source="hamlet.name", allow_null=True, default=None)
    level = serializers.CharField()
    leader = LeaderOutput(allow_null=True)

    class Meta:
        model = Team
        fields = [
            "id",
            "province",
            "commune",
            "commune_name",
            "hamlet",
            "hamlet_name",
            "level",
            "name",
            "established_on",
            "decision_number",
            "status",
            "dissolved_on",
            "leader",
            "member_count",
            "size_status",
            "version",
            "created_at",
            "updated_at",
        ]


# The list's page is read as values (teams.selectors.team_list_values) and written in TeamOutput's shape here:
# building five model instances per team and running DRF's per-field machinery cost more than the page's query
# (docs/performance.md). TeamOutput stays the schema and the detail's writer; tests/teams/test_team_list.py
# holds the two to the same output.


def team_list_rows(rows) -> list[dict]:
    """TeamOutput(many=True).data for rows of teams.selectors.TEAM_LIST_VALUES (tuples, in that order); the
    timestamps come formatted (PostgreSQL) or as datetimes."""
    out = []

    def stamp(value) -> str:
        return value if isinstance(value, str) else timestamps.format_timestamp(value)

    for (
        team_id,
        province,
        commune,
        commune_name,
        hamlet,
        hamlet_name,
        name,
        established_on,
        decision_number,
        status_value,
        dissolved_on,
        leader_id,
        leader_name,
        member_count,
        size_status,
        version,
        created_at,
        updated_at,
    ) in rows:
        out.append(
            {
                "id": str(team_id),
                "province": province,
                "commune": commune,
                "commune_name": commune_name,
                "hamlet": hamlet,
                "hamlet_name": hamlet_name,
                "level": TeamLevel.HAMLET if hamlet else TeamLevel.COMMUNE,
                "name": name,
                "established_on": established_on.isoformat(),
                "decision_number": decision_number,
                "status": status_value,
                "dissolved_on": dissolved_on.isoformat() if dissolved_on is not None else None,
                "leader": {"id": str(leader_id), "full_name": leader_name} if leader_id is not None else None,
                "member_count": member_count,
                "size_status": size_status,
                "version": version,
                "created_at": stamp(created_at),
                "updated_at": stamp(updated_at),
            }
        )
    return out


class TeamCreateInput(serializers.Serializer):
    id = serializers.UUIDField(required=False)
    commune = serializers.RegexField(r"^[0-9]{5}$")
    hamlet = inputs.IntegerField(required=False, allow_null=True, min_value=1)
    name = serializers.CharField(max_length=400, trim_whitespace=False)
    established_on = inputs.DateField()
    decision_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TeamUpdateInput(serializers.Serializer):
    version = inputs.IntegerField(required=False, min_value=1)
    commune = serializers.RegexField(r"^[0-9]{5}$", required=False)
    hamlet = inputs.IntegerField(required=False, allow_null=True, min_value=1)
    name = serializers.CharField(max_length=400, required=False, trim_whitespace=False)
    established_on = inputs.DateField(required=False)
    decision_number = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TeamDissolveInput(serializers.Serializer):
    version = inputs.IntegerField(required=False, min_value=1)
    dissolved_on = inputs.DateField(required=False)


class SizePolicyOutput(serializers.Serializer):
    province = serializers.CharField(source="code")
    min_members = serializers.IntegerField()
    max_members = serializers.IntegerField()
    is_default = serializers.BooleanField()


class SizePolicyInput(serializers.Serializer):
    min_members = inputs.IntegerField(min_value=1, max_value=100)
    max_members = inputs.IntegerField(min_value=1, max_value=100)


def _team_response(request, team_id, status_code=200) -> Response:
    team = selectors.team_list(user=request.user).get(pk=team_id)
    return Response(TeamOutput(team).data, status=status_code, headers={"ETag": etag(team.version)})


TEAM_FILTERS = [
    OpenApiParameter("province", str, description="2-digit province code"),
    OpenApiParameter("commune", str, description="5-digit commune code"),
    OpenApiParameter("hamlet", int),
    OpenApiParameter("level", str, enum=["commune", "hamlet"]),
    OpenApiParameter("status", str, enum=TeamStatus.values),
    OpenApiParameter("size_status", str, enum=SizeStatus.values),
    OpenApiParameter("search", str, description="Team name; ignores case, Unicode form and tone placement"),
]


class TeamFilterInput(serializers.Serializer):
    province = serializers.RegexField(r"^[0-9]{2}$", required=False)
    commune = serializers.RegexField(r"^[0-9]{5}$", required=False)
    hamlet = inputs.IntegerField(required=False, min_value=1)
    level = serializers.ChoiceField(choices=["commune", "hamlet"], required=False)
    status = serializers.ChoiceField(choices=TeamStatus.choices, required=False)
    size_status = serializers.ChoiceField(choices=SizeStatus.choices, required=False)
    search = serializers.CharField(required=False, max_length=200)


def _filters(request) -> dict:
    """The list's filters, checked; none asked (most requests: a page, or nothing) builds no serializer."""
    if not request.query_params.keys() & TeamFilterInput._declared_fields.keys():
        return {}
    filters = TeamFilterInput(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


class TeamListApi(GenericAPIView):
    serializer_class = TeamOutput

    @extend_schema(parameters=TEAM_FILTERS, responses=TeamOutput(many=True))
    def get(self, request):
        filters = _filters(request)
        # Counted apart from the page, which is read as values (teams.selectors.team_list_page).
        rows, count = selectors.team_list_page(user=request.user, filters=filters)
        page = self.paginate_queryset(CountedApart(rows, count))
        return self.get_paginated_response(team_list_rows(page))

    @extend_schema(request=TeamCreateInput, responses={201: TeamOutput, 200: TeamOutput})
    def post(self, request):
        data = TeamCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        team, created = services.team_create(
            actor=request.user,
            team_id=values.get("id"),
            commune_code=values["commune"],
            hamlet_id=values.get("hamlet"),
            name=values["name"],
            established_on=values["established_on"],
            decision_number=values.get("decision_number", ""),
        )
        return _team_response(request, team.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# What a team's body shows that can change: the version covers its own edits, the rest changes without it
# (the member count, size status and leader that member writes and the size policy set; the leader's, hamlet's
# and commune's names). The GET's ETag is "<version>.<digest of these>": If-Match on a PATCH reads the version.
TEAM_ETAG_FIELDS = (
    "version",
    "updated_at",
    "member_count",
    "size_status",
    "leader_id",
    "leader__full_name",
    "hamlet__name",
    "commune__name",
)


class TeamDetailApi(ConditionalGetMixin, GenericAPIView):
    serializer_class = TeamOutput

    def get(self, request, pk):
        return self.conditional_object(
            request,
            selectors.team_list(user=request.user).filter(pk=pk),
            TEAM_ETAG_FIELDS,
            lambda team: Response(TeamOutput(team).data),
            version_field="version",
        )

    @extend_schema(
        request=TeamUpdateInput,
        responses={200: TeamOutput},
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, description='e.g. "3"')],
    )
    def patch(self, request, pk):
        values, version = versioned_input(TeamUpdateInput, request)
        if "commune" in values:
            values["commune_code"] = values.pop("commune")
        if "hamlet" in values:
            values["hamlet_id"] = values.pop("hamlet")
        team = services.team_update(actor=request.user, team_id=pk, version=version, **values)
        return _team_response(request, team.pk)


class TeamDissolveApi(GenericAPIView):
    serializer_class = TeamOutput

    @extend_schema(request=TeamDissolveInput, responses={200: TeamOutput})
    def post(self, request, pk):
        values, version = versioned_input(TeamDissolveInput, request)
        team = services.team_dissolve(
            actor=request.user, team_id=pk, dissolved_on=values.get("dissolved_on"), version=version
        )
        return _team_response(request, team.pk)


class SizePolicyApi(GenericAPIView):
    serializer_class = SizePolicyOutput
    lookup_field = "code"

    def get_queryset(self):
        # Also what OPTIONS (DRF's metadata for PUT) calls get_object() on.
        return selectors.size_policy_list(user=self.request.user)

    def get(self, request, code: str):
        province = get_object_or_404(selectors.size_policy_list(user=request.user), code=code)
        return Response(SizePolicyOutput(province).data)

    @extend_schema(request=SizePolicyInput, responses={200: SizePolicyOutput})
    def put(self, request, code: str):
        data = SizePolicyInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.size_policy_set(actor=request.user, province_code=code, **data.validated_data)
        province = get_object_or_404(selectors.size_policy_list(user=request.user), code=code)
        return Response(SizePolicyOutput(province).data)
