"""Filters over units, and the typed-name search every list with name_key and name_folded columns shares.

The selectors apply these FilterSets to values the API has already validated.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from areas import maps
from areas.models import Commune, Hamlet
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


class NameSearchFilter(django_filters.CharFilter):
    """?search=: a typed name, matched as name_search does (which cleans the text itself)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("strip", False)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return name_search(qs, value)


class CommuneFilter(django_filters.FilterSet):
    # The codes as typed (not stripped): the API has always matched them exactly.
    province = django_filters.CharFilter(field_name="province__code", strip=False)
    district = django_filters.CharFilter(field_name="district__code", strip=False)
    search = NameSearchFilter()

    class Meta:
        model = Commune
        fields = []


class HamletFilter(django_filters.FilterSet):
    commune = django_filters.CharFilter(method="filter_commune", strip=False)
    active = django_filters.BooleanFilter()
    old_commune_missing = django_filters.BooleanFilter(field_name="old_commune", lookup_expr="isnull")

    class Meta:
        model = Hamlet
        fields = []

    def filter_commune(self, queryset, name, value):
        if self.data.get("map") == maps.OLD:
            # The hamlets that were in this old-map commune (as far as recorded).
            return queryset.filter(old_commune__code=value, old_commune__valid_from__lt=maps.CURRENT.starts)
        # Only a current commune's hamlets: a retired commune's code may now name another unit.
        return queryset.filter(commune__code=value, commune__valid_to__isnull=True)
