"""Reads of teams, scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet

from areas.selectors import name_search
from teams.models import Team


def team_list(*, user, filters: dict | None = None) -> QuerySet[Team]:
    """Teams the user may see, with the related rows the API prints, in a stable order."""
    filters = filters or {}
    qs = (
        Team.objects.visible_to(user)
        .select_related("province", "commune", "hamlet", "leader")
        # Unit ids follow code order (the loader inserts by code); ordering by the ids lets the
        # (province, commune, name_key, id) index serve the page without a sort.
        .order_by("province_id", "commune_id", "name_key", "id")
    )
    if filters.get("province"):
        qs = qs.filter(province__code=filters["province"])
    if filters.get("commune"):
        qs = qs.filter(commune__code=filters["commune"])
    if filters.get("hamlet"):
        qs = qs.filter(hamlet_id=filters["hamlet"])
    if filters.get("level") == "commune":
        qs = qs.filter(hamlet__isnull=True)
    elif filters.get("level") == "hamlet":
        qs = qs.filter(hamlet__isnull=False)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("size_status"):
        qs = qs.filter(size_status=filters["size_status"])
    return name_search(qs, filters.get("search"))
