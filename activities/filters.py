"""The activity and activity-type lists' filters; activities.selectors applies them to values the API validated."""

from __future__ import annotations

import django_filters

from activities.models import Activity, ActivityType


class ActivityFilter(django_filters.FilterSet):
    team = django_filters.UUIDFilter(field_name="team_id")
    commune = django_filters.CharFilter(field_name="commune__code")
    province = django_filters.CharFilter(field_name="province__code")
    type = django_filters.CharFilter(field_name="type_id")
    occurred_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    include_deleted = django_filters.BooleanFilter(method="filter_include_deleted")

    class Meta:
        model = Activity
        fields = []

    def filter_queryset(self, queryset):
        # Tombstones are left out unless asked for: an absent parameter never reaches its filter method.
        if not self.form.cleaned_data.get("include_deleted"):
            queryset = queryset.filter(deleted=False)
        return super().filter_queryset(queryset)

    def filter_include_deleted(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where its absence is seen too


class ActivityTypeFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter()

    class Meta:
        model = ActivityType
        fields = []
