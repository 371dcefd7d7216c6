"""Reads of provinces, communes and hamlets, always through the caller's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from areas.models import Commune, Hamlet, Province
from areas.names import clean_name, fold, has_diacritics, name_key


def name_search(qs: QuerySet, text: str | None) -> QuerySet:
    """Filter a queryset with name_key and name_folded columns by a typed name.

    Typed with diacritics, tones must match (in any placement, form or case); typed without any, every
    tone matches.
    """
    if not text or not clean_name(text):
        return qs
    if has_diacritics(text):
        return qs.filter(name_key__contains=name_key(text))
    return qs.filter(name_folded__contains=fold(text))


def province_list(*, user) -> QuerySet[Province]:
    return Province.objects.current().visible_to(user).order_by("code")


def commune_list(*, user, province: str | None = None, search: str | None = None) -> QuerySet[Commune]:
    qs = Commune.objects.current().visible_to(user).select_related("province").order_by("code")
    if province:
        qs = qs.filter(province__code=province)
    if search and clean_name(search):
        # Typed with diacritics: match tones exactly (in any placement); typed without: match any tone.
        qs = (
            qs.filter(name_key__contains=name_key(search))
            if has_diacritics(search)
            else qs.filter(name_folded__contains=fold(search))
        )
    return qs


def hamlet_list(*, user, commune: str | None = None, active: bool | None = None) -> QuerySet[Hamlet]:
    qs = Hamlet.objects.visible_to(user).select_related("commune", "province").order_by("commune_id", "name_key", "id")
    if commune:
        qs = qs.filter(commune__code=commune, commune__valid_to__isnull=True)
    if active is not None:
        qs = qs.filter(active=active)
    return qs
