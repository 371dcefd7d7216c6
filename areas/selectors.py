"""Reads of provinces, communes and hamlets: through the caller's scope, or by code for the command line."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from areas.filters import CommuneFilter, HamletFilter
from areas.models import Commune, Hamlet, Province
from config.errors import invalid
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


def units_by_code(*, province_code: str | None = None, commune_code: str | None = None) -> tuple:
    """The current province and commune with these codes (None where no code is given); an unknown code is a 400."""
    province = commune = None
    if province_code:
        province = Province.objects.current().filter(code=province_code).first()
        if province is None:
            raise invalid(province=_("Unknown province code."))
    if commune_code:
        commune = Commune.objects.current().filter(code=commune_code).first()
        if commune is None:
            raise invalid(commune=_("Unknown commune code."))
    return province, commune
