"""Member APIs, a team's member list and the team leader's login."""

from __future__ import annotations

from django.db.models import Count, Max, Sum
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from config import inputs, timestamps
from config.conditional import ConditionalGetMixin
from config.versioning import etag, versioned_input
from members import selectors, services
from members.masking import national_id_for, phone_for
from members.models import Background, Gender, Member, MemberRole


class MemberOutput(timestamps.ModelSerializer):
    team = serializers.UUIDField(source="team_id")
    team_name = serializers.CharField(source="team.name")
    province = serializers.CharField(source="province.code")
    commune = serializers.CharField(source="commune.code")
    phone = serializers.SerializerMethodField()
    national_id = serializers.SerializerMethodField()
    role_label = serializers.CharField(source="get_role_display")
    background_label = serializers.CharField(source="get_background_display")
    has_login = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id",
            "team",
            "team_name",
            "province",
            "commune",
            "full_name",
            "phone",
            "national_id",
            "birth_year",
            "role",
            "role_label",
            "background",
            "background_label",
            "gender",
            "joined_on",
            "left_on",
            "active",
            "has_login",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_phone(self, member) -> str:
        return phone_for(self.context["request"].user, member)

    def get_national_id(self, member) -> str | None:
        return national_id_for(self.context["request"].user, member)

    def get_has_login(self, member) -> bool:
        return member.user_id is not None


class MemberFields(serializers.Serializer):
    full_name = serializers.CharField(max_length=400, trim_whitespace=False)
    phone = serializers.CharField(max_length=32)
    national_id = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)
    birth_year = inputs.IntegerField(required=False, allow_null=True, min_value=0, max_value=9999)
    role = serializers.ChoiceField(choices=MemberRole.choices, required=False, default=MemberRole.MEMBER)
    background = serializers.ChoiceField(choices=Background.choices, required=False, default=Background.OTHER)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_null=True)
    joined_on = inputs.DateField(required=False)


class MemberCreateInput(MemberFields):
    id = serializers.UUIDField(required=False)
    team = serializers.UUIDField()


class MemberUpdateInput(MemberFields):
    version = inputs.IntegerField(required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class MemberFilterInput(serializers.Serializer):
    team = serializers.UUIDField(required=False)
    province = serializers.RegexField(r"^[0-9]{2}$", required=False)
    commune = serializers.RegexField(r"^[0-9]{5}$", required=False)
    role = serializers.ChoiceField(choices=MemberRole.choices, required=False)
    background = serializers.ChoiceField(choices=Background.choices, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class LeaderAccountInput(serializers.Serializer):
    password = serializers.CharField(required=False, max_length=128, trim_whitespace=False)


class LeaderAccountOutput(serializers.Serializer):
    schema_optional_fields = ("password",)  # only when the server generated it (the caller sent none)

    phone = serializers.CharField()
    created = serializers.BooleanField()
    password = serializers.CharField(required=False, help_text="Only when generated; shown once.")


def _member_response(request, member_id, status_code=200) -> Response:
    member = selectors.member_list(user=request.user).get(pk=member_id)
    data = MemberOutput(member, context={"request": request}).data
    return Response(data, status=status_code, headers={"ETag": etag(member.version)})


MEMBER_FILTERS = [
    OpenApiParameter("team", str),
    OpenApiParameter("province", str),
    OpenApiParameter("commune", str),
    OpenApiParameter("role", str, enum=MemberRole.values),
    OpenApiParameter("background", str, enum=Background.values),
    OpenApiParameter("gender", str, enum=Gender.values),
    OpenApiParameter("active", bool),
]


class MemberListApi(GenericAPIView):
    serializer_class = MemberOutput

    @extend_schema(parameters=MEMBER_FILTERS, responses=MemberOutput(many=True))
    def get(self, request):
        filters = MemberFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.member_list(user=request.user, filters=filters.validated_data)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MemberOutput(page, many=True, context={"request": request}).data)

    @extend_schema(request=MemberCreateInput, responses={201: MemberOutput, 200: MemberOutput})
    def post(self, request):
        data = MemberCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        member, created = services.member_create(
            actor=request.user, team_id=values.pop("team"), member_id=values.pop("id", None), **values
        )
        return _member_response(request, member.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MemberDetailApi(GenericAPIView):
    serializer_class = MemberOutput

    def get(self, request, pk):
        member = get_object_or_404(selectors.member_list(user=request.user), pk=pk)
        return Response(MemberOutput(member, context={"request": request}).data, headers={"ETag": etag(member.version)})

    @extend_schema(
        request=MemberUpdateInput,
        responses={200: MemberOutput},
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, description='e.g. "3"')],
    )
    def patch(self, request, pk):
        values, version = versioned_input(MemberUpdateInput, request)
        member = services.member_update(actor=request.user, member_id=pk, version=version, **values)
        return _member_response(request, member.pk)

    @extend_schema(responses={200: MemberOutput})
    def delete(self, request, pk):
        """The member leaves the team (left_on is set; the record stays for history)."""
        member = services.member_leave(actor=request.user, member_id=pk)
        return _member_response(request, member.pk)


class TeamMembersApi(ConditionalGetMixin, GenericAPIView):
    serializer_class = MemberOutput

    @extend_schema(parameters=[OpenApiParameter("active", bool)], responses=MemberOutput(many=True))
    def get(self, request, pk):
        filters = MemberFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.team_member_list(user=request.user, team_id=pk, filters=filters.validated_data)
        # Validator, besides the count: the latest save, the sum of versions (a dissolution's members leave
        # without a save), the logins (a leader's login moving clears another row's without either) and the
        # team's version (its name). The masking per role is in the ETag as the requester.
        return self.conditional_page(
            request,
            qs,
            MemberOutput,
            context={"request": request},
            latest=Max("updated_at"),
            versions=Sum("version"),
            logins=Count("user_id"),
            team_version=Max("team__version"),
        )


class TeamLeaderAccountApi(GenericAPIView):
    serializer_class = LeaderAccountOutput

    @extend_schema(request=LeaderAccountInput, responses={200: LeaderAccountOutput, 201: LeaderAccountOutput})
    def post(self, request, pk):
        """Create or reset the login of the team's leader (the leader member's phone)."""
        data = LeaderAccountInput(data=request.data)
        data.is_valid(raise_exception=True)
        user, created, generated = services.team_leader_account_set(
            actor=request.user, team_id=pk, password=data.validated_data.get("password")
        )
        body = {"phone": user.phone, "created": created}
        if generated:
            body["password"] = generated
        return Response(
            body,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Cache-Control": "no-store"},
        )
