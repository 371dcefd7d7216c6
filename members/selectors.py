"""Reads of members, scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet

from members.models import Member


def member_list(*, user, filters: dict | None = None) -> QuerySet[Member]:
    filters = filters or {}
    qs = (
        Member.objects.visible_to(user)
        .select_related("team", "province", "commune")
        .order_by("team_id", "-active", "role", "full_name", "id")
    )
    if filters.get("team"):
        qs = qs.filter(team_id=filters["team"])
    if filters.get("province"):
        qs = qs.filter(province__code=filters["province"])
    if filters.get("commune"):
        qs = qs.filter(commune__code=filters["commune"])
    for field in ("role", "background", "gender"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    if filters.get("active") is not None:
        qs = qs.filter(active=filters["active"])
    return qs
