"""Reads of activities and the changes feed, scoped to the caller."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from activities import feed
from activities.models import Activity, ActivityType


def activity_list(*, user, filters: dict | None = None) -> QuerySet[Activity]:
    filters = filters or {}
    qs = Activity.objects.visible_to(user).select_related("province", "commune").order_by("-occurred_on", "id")
    if not filters.get("include_deleted"):
        qs = qs.filter(deleted=False)
    if filters.get("team"):
        qs = qs.filter(team_id=filters["team"])
    if filters.get("commune"):
        qs = qs.filter(commune__code=filters["commune"])
    if filters.get("province"):
        qs = qs.filter(province__code=filters["province"])
    if filters.get("type"):
        qs = qs.filter(type_id=filters["type"])
    if filters.get("occurred_from"):
        qs = qs.filter(occurred_on__gte=filters["occurred_from"])
    if filters.get("occurred_to"):
        qs = qs.filter(occurred_on__lte=filters["occurred_to"])
    return qs


@dataclass
class ChangesPage:
    rows: list[Activity]
    next_cursor: str | None
    has_more: bool


def activity_changes(*, user, since: str | None, limit: int) -> ChangesPage:
    """Activities (tombstones included) changed after the cursor, oldest change first."""
    position = feed.decode_cursor(since)
    qs = feed.after(Activity.objects.visible_to(user).select_related("province", "commune"), position)
    horizon = feed.visible_horizon()
    if horizon is not None:
        qs = qs.filter(change_seq__lt=horizon)
    rows = list(qs[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = feed.encode_cursor(rows[-1].change_seq, rows[-1].pk) if rows else since
    return ChangesPage(rows=rows, next_cursor=next_cursor, has_more=has_more)


def activity_type_list(*, user, active: bool | None = None) -> QuerySet[ActivityType]:
    qs = ActivityType.objects.visible_to(user).order_by("sort_order", "code")
    if active is not None:
        qs = qs.filter(active=active)
    return qs
