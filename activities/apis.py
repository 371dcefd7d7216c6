"""Activity APIs: the offline sync, the changes feed, lists and edits, and the activity types."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from decimal import Decimal

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from activities import selectors, services
from activities.models import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, NOTE_MAX, PEOPLE_MAX, Activity, ActivityType
from config import inputs
from config.errors import DomainError
from config.inputs import storable_text


class ActivityOutput(serializers.ModelSerializer):
    team = serializers.UUIDField(source="team_id")
    province = serializers.CharField(source="province.code")
    commune = serializers.CharField(source="commune.code")
    hamlet = serializers.IntegerField(source="hamlet_id", allow_null=True)
    type = serializers.CharField(source="type_id")

    class Meta:
        model = Activity
        fields = [
            "id",
            "team",
            "province",
            "commune",
            "hamlet",
            "type",
            "occurred_on",
            "people_helped",
            "households_helped",
            "duration_minutes",
            "note",
            "latitude",
            "longitude",
            "deleted",
            "created_at",
            "updated_at",
        ]


class NoteField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(allow_blank=True, max_length=NOTE_MAX, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        return unicodedata.normalize("NFC", super().to_internal_value(data))


class ActivityFields(serializers.Serializer):
    hamlet = inputs.IntegerField(required=False, allow_null=True, min_value=1)
    type = serializers.SlugField(max_length=40)
    occurred_on = inputs.DateField()
    people_helped = inputs.IntegerField(min_value=1, max_value=PEOPLE_MAX)
    households_helped = inputs.IntegerField(required=False, allow_null=True, min_value=0, max_value=PEOPLE_MAX)
    duration_minutes = inputs.IntegerField(required=False, allow_null=True, min_value=1, max_value=1440)
    note = NoteField(required=False)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, min_value=LAT_MIN, max_value=LAT_MAX
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, min_value=LON_MIN, max_value=LON_MAX
    )

    def validate(self, attrs):
        has_lat = attrs.get("latitude") is not None
        has_lon = attrs.get("longitude") is not None
        if has_lat != has_lon:
            raise serializers.ValidationError({"location": _("Send both latitude and longitude, or neither.")})
        return attrs


class SyncItemInput(ActivityFields):
    id = serializers.UUIDField()
    team = serializers.UUIDField()
    deleted = serializers.BooleanField(required=False, default=False)
    base_updated_at = inputs.DateTimeField(required=False, allow_null=True)


class SyncInput(serializers.Serializer):
    activities = serializers.ListField(child=serializers.DictField(), allow_empty=True)


class SyncResult(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "unchanged", "updated", "conflict", "rejected"])
    errors = serializers.DictField(required=False)
    server = ActivityOutput(required=False)
    updated_at = serializers.DateTimeField(required=False)


class ActivityUpdateInput(ActivityFields):
    base_updated_at = inputs.DateTimeField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


_timestamp = serializers.DateTimeField()
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
_SIX_PLACES = Decimal("0.000001")


def _int_or_none(value, low: int, high: int):
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        raise ValueError
    return value


def _coordinate(value, low: Decimal, high: Decimal) -> Decimal | None:
    if value is None:
        return None
    if type(value) not in (int, float, str):
        raise ValueError
    number = Decimal(str(value))
    if number.quantize(_SIX_PLACES) != number or not low <= number <= high:
        raise ValueError
    return number


def fast_sync_item(raw: dict) -> dict | None:
    """The item parsed as SyncItemInput would, when every field is plainly valid; None sends it to the serializer.

    Most items from the app are valid: this skips the serializer's per-field machinery for them. Anything
    unusual (a wrong type, a string number, an out-of-range value) returns None, and the serializer then
    accepts it or explains, field by field, what is wrong.
    """
    try:
        note = raw.get("note", "")
        if type(note) is not str or not storable_text(note):
            return None
        note = unicodedata.normalize("NFC", note.strip())
        if len(note) > NOTE_MAX or type(raw["type"]) is not str or not _SLUG.match(raw["type"]):
            return None
        occurred = raw["occurred_on"]
        deleted = raw.get("deleted", False)
        if type(occurred) is not str or len(occurred) != 10 or type(deleted) is not bool:
            return None
        latitude = _coordinate(raw.get("latitude"), LAT_MIN, LAT_MAX)
        longitude = _coordinate(raw.get("longitude"), LON_MIN, LON_MAX)
        if (latitude is None) != (longitude is None):
            return None
        base = raw.get("base_updated_at")
        if base is not None:
            base = dt.datetime.fromisoformat(base)
            if base.tzinfo is None or not inputs.FIRST_YEAR <= base.year <= inputs.LAST_YEAR:
                return None
        values = {
            "id": uuid.UUID(raw["id"]),
            "team": uuid.UUID(raw["team"]),
            "hamlet": _int_or_none(raw.get("hamlet"), 1, 2**63 - 1),
            "type": raw["type"],
            "occurred_on": dt.date.fromisoformat(occurred),
            "people_helped": _int_or_none(raw["people_helped"], 1, PEOPLE_MAX),
            "households_helped": _int_or_none(raw.get("households_helped"), 0, PEOPLE_MAX),
            "duration_minutes": _int_or_none(raw.get("duration_minutes"), 1, 1440),
            "note": note,
            "latitude": latitude,
            "longitude": longitude,
            "deleted": deleted,
            "base_updated_at": base,
        }
    except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError):
        return None
    if values["people_helped"] is None or type(raw["id"]) is not str or type(raw["team"]) is not str:
        return None
    if not inputs.FIRST_YEAR <= values["occurred_on"].year <= inputs.LAST_YEAR:
        return None
    return values


def _too_large(message: str) -> DomainError:
    return DomainError(message, code="too_large", status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


class ActivitySyncApi(GenericAPIView):
    """Upload activities recorded offline. Each item is answered on its own; a replay writes nothing."""

    serializer_class = SyncResult

    @extend_schema(
        request=inline_serializer("SyncRequest", {"activities": SyncItemInput(many=True)}),
        responses={200: inline_serializer("SyncResponse", {"results": SyncResult(many=True)})},
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH")
        if length and length.isdigit() and int(length) > settings.SYNC_MAX_BYTES:
            raise _too_large(_("The request is larger than %(kb)d KB.") % {"kb": settings.SYNC_MAX_BYTES // 1024})
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("activities"), list):
            raise DomainError(fields={"activities": [_("Send a list of activities.")]})
        raw_items = data["activities"]
        if len(raw_items) > settings.SYNC_MAX_ITEMS:
            raise _too_large(
                _("Send at most %(max)d activities per request; split the batch.") % {"max": settings.SYNC_MAX_ITEMS}
            )

        order: list[tuple[str | None, object]] = []  # (id as sent, parsed id or error dict)
        valid = []
        # One serializer validates every item: building one per item costs ten times as much.
        parser = SyncItemInput()
        for raw in raw_items:
            if not isinstance(raw, dict):
                order.append((None, {"non_field_errors": [_("Each activity must be a JSON object.")]}))
                continue
            values = fast_sync_item(raw)
            try:
                if values is None:
                    values = parser.run_validation(raw)
            except serializers.ValidationError as exc:
                raw_id = raw.get("id")
                order.append((str(raw_id) if raw_id is not None else None, exc.detail))
                continue
            valid.append((values["id"], services.normalize(values), values.get("base_updated_at")))
            order.append((str(values["id"]), values["id"]))

        outcomes = services.activities_sync(actor=request.user, items=valid) if valid else {}
        results = []
        for sent_id, parsed in order:
            if isinstance(parsed, dict):
                results.append({"id": sent_id, "status": services.REJECTED, "errors": parsed})
                continue
            outcome = outcomes[parsed]
            result = {"id": sent_id, "status": outcome.status}
            if outcome.errors:
                result["errors"] = outcome.errors
            if outcome.server is not None:
                result["server"] = ActivityOutput(outcome.server).data
            if outcome.updated_at is not None:
                result["updated_at"] = _timestamp.to_representation(outcome.updated_at)
            results.append(result)
        return Response({"results": results})


class ChangesOutput(serializers.Serializer):
    results = ActivityOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    has_more = serializers.BooleanField()


class ActivityChangesApi(GenericAPIView):
    """What changed since a cursor: creates, edits and tombstones, in commit-safe order."""

    serializer_class = ChangesOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, description="The next_cursor of the previous page; omit to start"),
            OpenApiParameter("limit", int, description="1-500, default 200"),
        ]
    )
    def get(self, request):
        limit_input = inputs.IntegerField(min_value=1, max_value=500)
        raw_limit = request.query_params.get("limit")
        try:
            limit = limit_input.run_validation(raw_limit) if raw_limit is not None else 200
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"limit": exc.detail}) from None
        page = selectors.activity_changes(user=request.user, since=request.query_params.get("since"), limit=limit)
        return Response(
            {
                "results": ActivityOutput(page.rows, many=True).data,
                "next_cursor": page.next_cursor,
                "has_more": page.has_more,
            }
        )


class ActivityFilterInput(serializers.Serializer):
    team = serializers.UUIDField(required=False)
    commune = serializers.RegexField(r"^[0-9]{5}$", required=False)
    province = serializers.RegexField(r"^[0-9]{2}$", required=False)
    type = serializers.SlugField(required=False)
    occurred_from = inputs.DateField(required=False)
    occurred_to = inputs.DateField(required=False)
    include_deleted = serializers.BooleanField(required=False, default=False)


class ActivityListApi(GenericAPIView):
    serializer_class = ActivityOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str),
            OpenApiParameter("commune", str),
            OpenApiParameter("province", str),
            OpenApiParameter("type", str),
            OpenApiParameter("occurred_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("occurred_to", str, description="YYYY-MM-DD"),
            OpenApiParameter("include_deleted", bool),
        ],
        responses=ActivityOutput(many=True),
    )
    def get(self, request):
        filters = ActivityFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.activity_list(user=request.user, filters=filters.validated_data))
        return self.get_paginated_response(ActivityOutput(page, many=True).data)


class ActivityDetailApi(GenericAPIView):
    serializer_class = ActivityOutput

    def get(self, request, pk):
        activity = get_object_or_404(
            selectors.activity_list(user=request.user, filters={"include_deleted": True}), pk=pk
        )
        return Response(ActivityOutput(activity).data)

    @extend_schema(request=ActivityUpdateInput, responses={200: ActivityOutput})
    def patch(self, request, pk):
        data = ActivityUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        base = values.pop("base_updated_at", None)
        changes = {("hamlet_id" if k == "hamlet" else "type_id" if k == "type" else k): v for k, v in values.items()}
        activity = services.activity_update(actor=request.user, activity_id=pk, base_updated_at=base, changes=changes)
        return Response(
            ActivityOutput(
                selectors.activity_list(user=request.user, filters={"include_deleted": True}).get(pk=activity.pk)
            ).data
        )

    @extend_schema(responses={200: ActivityOutput})
    def delete(self, request, pk):
        activity = services.activity_delete(actor=request.user, activity_id=pk)
        return Response(
            ActivityOutput(
                selectors.activity_list(user=request.user, filters={"include_deleted": True}).get(pk=activity.pk)
            ).data
        )


class ActivityTypeOutput(serializers.ModelSerializer):
    class Meta:
        model = ActivityType
        fields = ["code", "name_vi", "name_en", "active", "sort_order"]


class ActivityTypeCreateInput(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name_vi = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    sort_order = inputs.IntegerField(min_value=0, max_value=1000, required=False, default=100)


class ActivityTypeUpdateInput(serializers.Serializer):
    name_vi = serializers.CharField(max_length=200, required=False)
    name_en = serializers.CharField(max_length=200, required=False)
    active = serializers.BooleanField(required=False)
    sort_order = inputs.IntegerField(min_value=0, max_value=1000, required=False)


class ActivityTypeListApi(GenericAPIView):
    serializer_class = ActivityTypeOutput

    @extend_schema(parameters=[OpenApiParameter("active", bool)], responses=ActivityTypeOutput(many=True))
    def get(self, request):
        raw = request.query_params.get("active")
        active = None if raw is None else raw.lower() in {"1", "true", "yes"}
        page = self.paginate_queryset(selectors.activity_type_list(user=request.user, active=active))
        return self.get_paginated_response(ActivityTypeOutput(page, many=True).data)

    @extend_schema(request=ActivityTypeCreateInput, responses={201: ActivityTypeOutput})
    def post(self, request):
        data = ActivityTypeCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.activity_type_create(actor=request.user, **data.validated_data)
        return Response(ActivityTypeOutput(created).data, status=status.HTTP_201_CREATED)


class ActivityTypeDetailApi(GenericAPIView):
    serializer_class = ActivityTypeOutput

    def get(self, request, code: str):
        return Response(
            ActivityTypeOutput(get_object_or_404(selectors.activity_type_list(user=request.user), pk=code)).data
        )

    @extend_schema(request=ActivityTypeUpdateInput, responses={200: ActivityTypeOutput})
    def patch(self, request, code: str):
        data = ActivityTypeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.activity_type_update(actor=request.user, code=code, **data.validated_data)
        return Response(ActivityTypeOutput(updated).data)
