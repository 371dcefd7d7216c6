"""Reads of provinces, communes and hamlets, always through the caller's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from areas.filters import CommuneFilter, HamletFilter
from areas.models import Commune, Hamlet, Province
from config.filtering import filtered


def province_list(*, user) -> QuerySet[Province]:
    return Province.objects.current().visible_to(user).order_by("code")


def commune_list(*, user, filters: dict | None = None) -> QuerySet[Commune]:
    """Current communes in scope, by code, with their province."""
    qs = Commune.objects.current().visible_to(user).select_related("province").order_by("code")
    return filtered(CommuneFilter, filters or {}, qs)


def hamlet_list(*, user, filters: dict | None = None) -> QuerySet[Hamlet]:
    """Hamlets in scope, by commune then name, with their commune and province."""
    qs = Hamlet.objects.visible_to(user).select_related("commune", "province").order_by("commune_id", "name_key", "id")
    return filtered(HamletFilter, filters or {}, qs)
