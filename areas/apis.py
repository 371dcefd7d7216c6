"""Provinces, communes and hamlets: thin views over areas.selectors and areas.services."""

from __future__ import annotations

from django.db.models import Max
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from areas import selectors, services
from areas.models import Commune, Hamlet, HamletKind, Province
from config import timestamps
from config.conditional import ConditionalGetMixin
from config.errors import DomainError


class ProvinceOutput(timestamps.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name", "short_name", "kind", "valid_from", "valid_to"]


class CommuneOutput(timestamps.ModelSerializer):
    province = serializers.CharField(source="province.code")

    class Meta:
        model = Commune
        fields = ["code", "name", "short_name", "kind", "province", "valid_from", "valid_to"]


class HamletOutput(timestamps.ModelSerializer):
    commune = serializers.CharField(source="commune.code")
    province = serializers.CharField(source="province.code")
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Hamlet
        fields = [
            "id",
            "commune",
            "province",
            "name",
            "kind",
            "kind_label",
            "active",
            "valid_from",
            "valid_to",
            "created_at",
            "updated_at",
        ]


class HamletNameField(serializers.CharField):
    """A hamlet name, cleaned (NFC, single spaces, no invisible characters) before its length is checked."""

    def __init__(self, **kwargs):
        super().__init__(max_length=400, allow_blank=True, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return services.validate_hamlet_name(value)
        except DomainError as exc:
            raise serializers.ValidationError(exc.fields["name"]) from None


class HamletCreateInput(serializers.Serializer):
    commune = serializers.RegexField(r"^[0-9]{5}$", max_length=5)
    name = HamletNameField()
    kind = serializers.ChoiceField(choices=HamletKind.choices)


class HamletUpdateInput(serializers.Serializer):
    name = HamletNameField(required=False)
    kind = serializers.ChoiceField(choices=HamletKind.choices, required=False)
    active = serializers.BooleanField(required=False)


class CommuneFilterInput(serializers.Serializer):
    # As typed: a code or name is matched exactly as sent (never trimmed), as it always was.
    province = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    search = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class HamletFilterInput(serializers.Serializer):
    commune = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class ProvinceListApi(GenericAPIView):
    serializer_class = ProvinceOutput

    def get_queryset(self):
        return selectors.province_list(user=self.request.user)

    @extend_schema(responses=ProvinceOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProvinceOutput(page, many=True).data)


class ProvinceDetailApi(GenericAPIView):
    serializer_class = ProvinceOutput

    def get(self, request, code: str):
        province = get_object_or_404(selectors.province_list(user=request.user), code=code)
        return Response(ProvinceOutput(province).data)


class CommuneListApi(GenericAPIView):
    serializer_class = CommuneOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("province", str, description="2-digit province code"),
            OpenApiParameter("search", str, description="Name; ignores case, Unicode form and tone placement"),
        ],
        responses=CommuneOutput(many=True),
    )
    def get(self, request):
        filters = CommuneFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.commune_list(user=request.user, filters=filters.validated_data))
        return self.get_paginated_response(CommuneOutput(page, many=True).data)


class CommuneDetailApi(GenericAPIView):
    serializer_class = CommuneOutput

    def get(self, request, code: str):
        commune = get_object_or_404(selectors.commune_list(user=request.user), code=code)
        return Response(CommuneOutput(commune).data)


class HamletListApi(ConditionalGetMixin, GenericAPIView):
    serializer_class = HamletOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("commune", str, description="5-digit commune code"),
            OpenApiParameter("active", bool),
        ],
        responses=HamletOutput(many=True),
    )
    def get(self, request):
        filters = HamletFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        hamlets = selectors.hamlet_list(user=request.user, filters=filters.validated_data)
        # Validator: the count and the latest change (a hamlet write saves updated_at; a retired one stays a row).
        return self.conditional_page(request, hamlets, HamletOutput, latest=Max("updated_at"))

    @extend_schema(request=HamletCreateInput, responses={201: HamletOutput})
    def post(self, request):
        data = HamletCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        hamlet = services.hamlet_create(
            actor=request.user,
            commune_code=data.validated_data["commune"],
            name=data.validated_data["name"],
            kind=data.validated_data["kind"],
        )
        return Response(HamletOutput(hamlet).data, status=status.HTTP_201_CREATED)


class HamletDetailApi(GenericAPIView):
    serializer_class = HamletOutput

    def get(self, request, pk: int):
        hamlet = get_object_or_404(selectors.hamlet_list(user=request.user), pk=pk)
        return Response(HamletOutput(hamlet).data)

    @extend_schema(request=HamletUpdateInput, responses={200: HamletOutput})
    def patch(self, request, pk: int):
        data = HamletUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        hamlet = services.hamlet_update(actor=request.user, hamlet_id=pk, **data.validated_data)
        hamlet = selectors.hamlet_list(user=request.user).get(pk=hamlet.pk)
        return Response(HamletOutput(hamlet).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.hamlet_remove(actor=request.user, hamlet_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
