"""Activity APIs: the offline sync, the changes feed, lists and edits, and the activity types."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Max
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from activities import selectors, services
from activities.models import Activity, ActivityType
from activities.sync_input import ActivityFields, SyncItemInput, parse_sync_item
from config import inputs, timestamps
from config.conditional import ConditionalGetMixin
from config.errors import DomainError, field_errors


class ActivityOutput(timestamps.ModelSerializer):
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


class SyncInput(serializers.Serializer):
    activities = serializers.ListField(child=serializers.DictField(), allow_empty=True)


class SyncResult(serializers.Serializer):
    schema_optional_fields = ("errors", "server", "updated_at")

    id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "unchanged", "updated", "conflict", "rejected"])
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="rejected: each field path with its messages, as in the error envelope",
    )
    server = ActivityOutput(required=False)
    updated_at = timestamps.TimestampField(required=False)


class ActivityUpdateInput(ActivityFields):
    base_updated_at = inputs.DateTimeField(required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


_timestamp = timestamps.TimestampField()


def _too_large(message: str) -> DomainError:
    return DomainError(message, code="too_large", status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


class ActivitySyncApi(GenericAPIView):
    """Upload activities recorded offline. Each item is answered on its own; a replay writes nothing."""

    serializer_class = SyncResult

    @extend_schema(
        request=inline_serializer("SyncInput", {"activities": SyncItemInput(many=True)}),
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
            try:
                values = parse_sync_item(raw, parser)
            except serializers.ValidationError as exc:
                raw_id = raw.get("id")
                order.append((str(raw_id) if raw_id is not None else None, exc.detail))
                continue
            valid.append((values["id"], services.normalize(values), values.get("base_updated_at")))
            order.append((str(values["id"]), values["id"]))

        outcomes = services.activities_sync(actor=request.user, items=valid) if valid else {}
        results = []
        stamps: dict = {}  # each timestamp written once: a batch's created items share theirs
        for sent_id, parsed in order:
            if isinstance(parsed, dict):
                results.append({"id": sent_id, "status": services.REJECTED, "errors": field_errors(parsed)})
                continue
            outcome = outcomes[parsed]
            result = {"id": sent_id, "status": outcome.status}
            if outcome.errors:
                result["errors"] = field_errors(outcome.errors)
            if outcome.server is not None:
                result["server"] = ActivityOutput(outcome.server).data
            if outcome.updated_at is not None:
                stamp = stamps.get(outcome.updated_at)
                if stamp is None:
                    stamp = stamps[outcome.updated_at] = _timestamp.to_representation(outcome.updated_at)
                result["updated_at"] = stamp
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


class ActivityTypeOutput(timestamps.ModelSerializer):
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


class ActivityTypeFilterInput(serializers.Serializer):
    # allow_null: an absent flag is "either", not False (DRF reads a missing boolean in a query string as False).
    active = serializers.BooleanField(required=False, allow_null=True)


class ActivityTypeListApi(ConditionalGetMixin, GenericAPIView):
    serializer_class = ActivityTypeOutput

    @extend_schema(parameters=[OpenApiParameter("active", bool)], responses=ActivityTypeOutput(many=True))
    def get(self, request):
        filters = ActivityTypeFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        types = selectors.activity_type_list(user=request.user, filters=filters.validated_data)
        # Validator: the count and the latest change (types are created and edited, never deleted).
        return self.conditional_page(request, types, ActivityTypeOutput, latest=Max("updated_at"))

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
