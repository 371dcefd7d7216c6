"""The team list's filters; teams.selectors applies them to values the API has already validated."""

from __future__ import annotations

import django_filters

from areas.filters import NameSearchFilter
from teams.models import SizeStatus, Team, TeamStatus

LEVELS = [("commune", "commune"), ("hamlet", "hamlet")]


class TeamFilter(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code")
    commune = django_filters.CharFilter(field_name="commune__code")
    hamlet = django_filters.NumberFilter(field_name="hamlet_id")
    level = django_filters.ChoiceFilter(choices=LEVELS, method="filter_level")
    status = django_filters.ChoiceFilter(choices=TeamStatus.choices)
    size_status = django_filters.ChoiceFilter(choices=SizeStatus.choices)
    search = NameSearchFilter()

    class Meta:
        model = Team
        fields = []

    def filter_level(self, queryset, name, value):
        # A commune-level team has no hamlet.
        return queryset.filter(hamlet__isnull=value == "commune")
