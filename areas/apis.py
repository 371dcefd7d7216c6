"""Provinces, communes and hamlets: thin views over areas.selectors and areas.services."""

from __future__ import annotations

from django.db.models import Max
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from areas import maps, selectors, services
from areas.models import Commune, Hamlet, HamletKind, OldCommuneSource, Province
from config import timestamps
from config.conditional import ConditionalGetMixin
from config.errors import DomainError

MAP_DESCRIPTION = (
    "The map the codes are on: 2025 (34 provinces, since 2025-07-01; the default) or 2024 (63 provinces "
    "and 696 districts, up to 2025-06-30). A code names a unit only together with its map."
)


class MapField(serializers.ChoiceField):
    """?map=2024|2025, as an areas.maps.Map (the current map when absent)."""

    def __init__(self, **kwargs):
        super().__init__(choices=list(maps.MAPS), required=False, help_text=MAP_DESCRIPTION, **kwargs)

    def to_internal_value(self, data):
        return maps.MAPS[super().to_internal_value(data)]


class MapInput(serializers.Serializer):
    map = MapField()


def map_parameter() -> OpenApiParameter:
    return OpenApiParameter("map", str, enum=list(maps.MAPS), description=MAP_DESCRIPTION)


def requested_map(request) -> maps.Map:
    """The map a request names (400 on `map` for anything but 2024 or 2025)."""
    data = MapInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    return data.validated_data.get("map", maps.DEFAULT)


@extend_schema_field({"type": "string", "enum": list(maps.MAPS)})
class UnitMapField(serializers.Field):
    """The map the unit is on, drawn from its validity dates."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, help_text="The map this unit is on: 2024 or 2025.", **kwargs)

    def to_representation(self, value):
        return maps.map_of(value)


class ProvinceOutput(timestamps.ModelSerializer):
    map = UnitMapField()
    successor = serializers.CharField(
        source="successor.code", allow_null=True, help_text="Old map: the code of the 2025 province it became."
    )

    class Meta:
        model = Province
        fields = ["code", "map", "name", "short_name", "kind", "successor", "valid_from", "valid_to"]


class CommuneOutput(timestamps.ModelSerializer):
    map = UnitMapField()
    province = serializers.CharField(source="province.code")
    district = serializers.CharField(source="district.code", allow_null=True, help_text="Old map only.")
    district_name = serializers.CharField(source="district.name", allow_null=True, help_text="Old map only.")

    class Meta:
        model = Commune
        fields = [
            "code",
            "map",
            "name",
            "short_name",
            "kind",
            "province",
            "district",
            "district_name",
            "valid_from",
            "valid_to",
        ]


class CommuneLinkOutput(serializers.Serializer):
    commune = CommuneOutput(help_text="The commune at the other end of the link, on the other map.")
    whole = serializers.BooleanField(help_text="The old commune went whole into the new one (not divided).")
    is_default = serializers.BooleanField(
        help_text="The new commune is the old one's default successor (for a divided one, the part that kept "
        "its seat; for one that went whole, its only successor)."
    )


class CommuneSuccessorsOutput(serializers.Serializer):
    commune = CommuneOutput()
    successors = CommuneLinkOutput(many=True)


class CommunePredecessorsOutput(serializers.Serializer):
    commune = CommuneOutput()
    predecessors = CommuneLinkOutput(many=True)


class HamletOutput(timestamps.ModelSerializer):
    commune = serializers.CharField(source="commune.code")
    province = serializers.CharField(source="province.code")
    kind_label = serializers.CharField(source="get_kind_display")
    old_commune = serializers.CharField(
        source="old_commune.code",
        allow_null=True,
        help_text="The code, on the 2024 map, of the commune the hamlet was in before 2025-07-01 (null: not known).",
    )
    old_commune_name = serializers.CharField(source="old_commune.name", allow_null=True)
    old_commune_source = serializers.ChoiceField(
        source="old_commune_recorded_by",
        choices=OldCommuneSource.choices,
        allow_null=True,
        help_text="Who recorded it: crosswalk (certain: the commune was made of one old commune), import, officer.",
    )

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
            "old_commune",
            "old_commune_name",
            "old_commune_source",
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
    old_commune = serializers.RegexField(
        r"^[0-9]{3}([0-9]{2})?$",
        required=False,
        allow_null=True,
        help_text="The 2024-map code of the commune the hamlet was in; it must be one of the communes its commune "
        "was made of (GET /communes/{code}/predecessors/). null forgets it.",
    )


class CommuneFilterInput(MapInput):
    # As typed: a code or name is matched exactly as sent (never trimmed), as it always was.
    province = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    district = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    search = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class HamletFilterInput(MapInput):
    commune = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    old_commune_missing = serializers.BooleanField(required=False, allow_null=True, default=None)


class ProvinceListApi(GenericAPIView):
    serializer_class = ProvinceOutput

    @extend_schema(parameters=[map_parameter()], responses=ProvinceOutput(many=True))
    def get(self, request):
        provinces = selectors.province_list(user=request.user, on_map=requested_map(request))
        page = self.paginate_queryset(provinces)
        return self.get_paginated_response(ProvinceOutput(page, many=True).data)


class ProvinceDetailApi(GenericAPIView):
    serializer_class = ProvinceOutput

    @extend_schema(parameters=[map_parameter()])
    def get(self, request, code: str):
        on_map = requested_map(request)
        province = get_object_or_404(selectors.province_list(user=request.user, on_map=on_map), code=code)
        return Response(ProvinceOutput(province).data)


class CommuneListApi(GenericAPIView):
    serializer_class = CommuneOutput

    @extend_schema(
        parameters=[
            map_parameter(),
            OpenApiParameter("province", str, description="2-digit province code, on the map asked for"),
            OpenApiParameter("district", str, description="3-digit district code (the 2024 map only)"),
            OpenApiParameter("search", str, description="Name; ignores case, Unicode form and tone placement"),
        ],
        responses=CommuneOutput(many=True),
    )
    def get(self, request):
        filters = CommuneFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = dict(filters.validated_data)
        on_map = wanted.pop("map", maps.DEFAULT)
        page = self.paginate_queryset(selectors.commune_list(user=request.user, filters=wanted, on_map=on_map))
        return self.get_paginated_response(CommuneOutput(page, many=True).data)


class CommuneDetailApi(GenericAPIView):
    serializer_class = CommuneOutput

    @extend_schema(parameters=[map_parameter()])
    def get(self, request, code: str):
        commune = get_object_or_404(selectors.commune_list(user=request.user, on_map=requested_map(request)), code=code)
        return Response(CommuneOutput(commune).data)


class CommuneLinksApi(GenericAPIView):
    """A commune and the crosswalk links of one direction, on the map its code is on."""

    direction = ""
    output = CommuneSuccessorsOutput

    def get(self, request, code: str):
        on_map = requested_map(request)
        commune = get_object_or_404(selectors.commune_list(user=request.user, on_map=on_map), code=code)
        other = "new_commune" if self.direction == "successors" else "old_commune"
        links = [
            {"commune": getattr(link, other), "whole": link.whole, "is_default": link.is_default}
            for link in selectors.commune_links(commune=commune, direction=self.direction)
        ]
        return Response(self.output({"commune": commune, self.direction: links}).data)


class CommuneSuccessorsApi(CommuneLinksApi):
    serializer_class = CommuneSuccessorsOutput
    direction = "successors"
    output = CommuneSuccessorsOutput

    @extend_schema(
        parameters=[map_parameter()],
        description="What an old-map commune (`?map=2024`) became on 1 July 2025: the new communes it went into, "
        "whole or in part, with its default successor. A commune of the 2025 map has none yet.",
    )
    def get(self, request, code: str):
        return super().get(request, code)


class CommunePredecessorsApi(CommuneLinksApi):
    serializer_class = CommunePredecessorsOutput
    direction = "predecessors"
    output = CommunePredecessorsOutput

    @extend_schema(
        parameters=[map_parameter()],
        description="What a 2025 commune was made of: the old-map communes that went into it, whole or in part. "
        "An old-map commune (`?map=2024`) has none.",
    )
    def get(self, request, code: str):
        return super().get(request, code)


class HamletListApi(ConditionalGetMixin, GenericAPIView):
    serializer_class = HamletOutput

    @extend_schema(
        parameters=[
            map_parameter(),
            OpenApiParameter(
                "commune",
                str,
                description="Commune code: a current commune, or with map=2024 the old commune the hamlets were in",
            ),
            OpenApiParameter("active", bool),
            OpenApiParameter("old_commune_missing", bool, description="Only hamlets whose old commune is (not) known"),
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
