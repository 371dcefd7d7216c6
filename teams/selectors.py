"""Reads of teams and the team-size policy, scoped to the caller."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from areas.models import Province
from config.filtering import filtered
from teams.filters import TeamFilter
from teams.models import SizePolicy, Team


def team_list(*, user, filters: dict | None = None) -> QuerySet[Team]:
    """Teams the user may see, with the related rows the API prints, in a stable order."""
    qs = (
        Team.objects.visible_to(user)
        .select_related("province", "commune", "hamlet", "leader")
        # Unit ids follow code order (the loader inserts by code); ordering by the ids lets the
        # (province, commune, name_key, id) index serve the page without a sort.
        .order_by("province_id", "commune_id", "name_key", "id")
    )
    return filtered(TeamFilter, filters or {}, qs)


def size_policy_list(*, user) -> QuerySet[Province]:
    """Current provinces in scope, each with its team-size range (its policy, else the default) and
    `is_default`, in one query."""
    low, high = SizePolicy.range_of(OuterRef("pk"))
    return (
        Province.objects.current()
        .visible_to(user)
        .annotate(
            min_members=low,
            max_members=high,
            is_default=~Exists(SizePolicy.objects.filter(province_id=OuterRef("pk"))),
        )
        .order_by("code")
    )
