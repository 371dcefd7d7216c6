"""GET /api/v1/audit/: the registry's audit log (ministry: all; province admin: their province)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from accounts import selectors
from accounts.models import AuditEntry
from config import inputs, timestamps


@extend_schema_field(
    {"type": "object", "additionalProperties": {}, "nullable": True, "description": "The record's fields (masked)"}
)
class SnapshotField(serializers.JSONField):
    """A record as it was: free-form, its fields are the entity's (null for a create's `before`)."""


class AuditOutput(timestamps.ModelSerializer):
    province = serializers.CharField(source="province.code", allow_null=True, default=None)
    commune = serializers.CharField(source="commune.code", allow_null=True, default=None)
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    before = SnapshotField(allow_null=True)
    after = SnapshotField(allow_null=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor",
            "actor_role",
            "action",
            "entity",
            "entity_id",
            "province",
            "commune",
            "before",
            "after",
        ]


class AuditFilterInput(serializers.Serializer):
    entity = serializers.CharField(required=False, max_length=40)
    entity_id = serializers.CharField(required=False, max_length=64)
    action = serializers.CharField(required=False, max_length=40)
    since = inputs.DateTimeField(required=False)
    until = inputs.DateTimeField(required=False)


class AuditListApi(GenericAPIView):
    """Who changed what in the registry, when, with the record before and after (phone and CCCD masked)."""

    serializer_class = AuditOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("entity", str, description="e.g. teams.team, members.member, areas.hamlet"),
            OpenApiParameter("entity_id", str),
            OpenApiParameter("action", str, description="e.g. team.create, member.leave"),
            OpenApiParameter("since", str, description="ISO date-time"),
            OpenApiParameter("until", str, description="ISO date-time"),
        ],
        responses=AuditOutput(many=True),
    )
    def get(self, request):
        filters = AuditFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.audit_list(user=request.user, filters=filters.validated_data))
        return self.get_paginated_response(AuditOutput(page, many=True).data)
