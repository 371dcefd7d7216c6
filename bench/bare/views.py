"""A sync endpoint with nothing but validation and one statement: the ceiling the product's sync is compared to.

It takes the product's request shape and writes the same table with the same indexes, using the
product's authentication (JWT) and middleware; what it leaves out is the product's work per item:
scope checks, replays and edits, the changed-commune outbox, per-item results with timestamps.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from activities.models import NOTE_MAX, PEOPLE_MAX


class BareItem(serializers.Serializer):
    id = serializers.UUIDField()
    team = serializers.UUIDField()
    hamlet = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    type = serializers.SlugField(max_length=40)
    occurred_on = serializers.DateField()
    people_helped = serializers.IntegerField(min_value=1, max_value=PEOPLE_MAX)
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX, default="")


class BareBatch(serializers.Serializer):
    activities = BareItem(many=True, max_length=500)


_ROW = "(%s::uuid, %s::uuid, %s::bigint, %s, %s::date, %s::integer, %s)"
_SQL = """
INSERT INTO activities_activity (
    id, team_id, hamlet_id, type_id, occurred_on, people_helped, note, province_id, commune_id,
    recorded_by_id, deleted, created_at, updated_at, change_seq
)
SELECT v.id, v.team_id, v.hamlet_id, v.type_id, v.occurred_on, v.people_helped, v.note, t.province_id, t.commune_id,
       %s, false, %s, %s, pg_current_xact_id()::text::bigint
FROM (VALUES {rows}) AS v(id, team_id, hamlet_id, type_id, occurred_on, people_helped, note)
JOIN teams_team AS t ON t.id = v.team_id
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


class BareSyncApi(APIView):
    """Validate a batch with a plain Serializer and write it with one INSERT ... ON CONFLICT."""

    def post(self, request):
        batch = BareBatch(data=request.data)
        batch.is_valid(raise_exception=True)
        items = batch.validated_data["activities"]
        params: list = []
        for item in items:
            params += [
                item["id"],
                item["team"],
                item.get("hamlet"),
                item["type"],
                item["occurred_on"],
                item["people_helped"],
                item.get("note", ""),
            ]
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_SQL.format(rows=", ".join([_ROW] * len(items))), [request.user.pk, now, now, *params])
            created = {row[0] for row in cursor.fetchall()}
        return Response(
            {
                "results": [
                    {"id": str(item["id"]), "status": "created" if item["id"] in created else "unchanged"}
                    for item in items
                ]
            }
        )


class PingApi(APIView):
    """Readiness probe for the driver."""

    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        return Response({"ok": True})
