"""Reads of members, scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from config.errors import NotFound
from config.filtering import filtered
from members.filters import MemberFilter
from members.models import Member
from teams.models import Team


def member_list(*, user, filters: dict | None = None) -> QuerySet[Member]:
    """Members the user may see, with their team, province and commune, in a stable order."""
    qs = (
        Member.objects.visible_to(user)
        .select_related("team", "province", "commune")
        .order_by("team_id", "-active", "role", "full_name", "id")
    )
    return filtered(MemberFilter, filters or {}, qs)


def team_member_list(*, user, team_id, filters: dict | None = None) -> QuerySet[Member]:
    """The members of one team the user may see; 404 when the team is out of scope or does not exist."""
    if not Team.objects.visible_to(user).filter(pk=team_id).exists():
        raise NotFound(_("Not found."))
    return member_list(user=user, filters={**(filters or {}), "team": team_id})
