"""Reads of activities and the changes feed, scoped to the caller."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from activities import feed
from activities.filters import ActivityFilter, ActivityTypeFilter
from activities.models import Activity, ActivityType
from config.filtering import filtered


def activity_list(*, user, filters: dict | None = None) -> QuerySet[Activity]:
    """Activities the user may see (tombstones only with include_deleted), newest first, with their units."""
    qs = Activity.objects.visible_to(user).select_related("province", "commune").order_by("-occurred_on", "id")
    return filtered(ActivityFilter, filters or {}, qs)


def recent_activities(*, user, commune_code: str, limit: int = 20) -> list[Activity]:
    """A current commune's latest activities in scope (not deleted), newest first, with their team and type."""
    qs = (
        Activity.objects.visible_to(user)
        .filter(commune__code=commune_code, commune__valid_to__isnull=True, deleted=False)
        .select_related("team", "type")
        .order_by("-occurred_on", "-created_at", "id")
    )
    return list(qs[:limit])


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


# Display order of activity types: the API's list and every by-type breakdown of the coverage figures.
TYPE_ORDER = ("sort_order", "code")


def activity_type_list(*, user, filters: dict | None = None) -> QuerySet[ActivityType]:
    """Activity types in display order (every user with a scope reads them), optionally only (in)active ones."""
    qs = ActivityType.objects.visible_to(user).order_by(*TYPE_ORDER)
    return filtered(ActivityTypeFilter, filters or {}, qs)


def activity_type_codes() -> list[str]:
    """Every activity type code (active or not) in display order: the keys of every by-type breakdown."""
    return list(ActivityType.objects.order_by(*TYPE_ORDER).values_list("code", flat=True))
