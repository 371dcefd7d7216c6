"""The audit log's filters; accounts.selectors applies them to values the API has already validated."""

from __future__ import annotations

import django_filters

from accounts.models import AuditEntry


class AuditFilter(django_filters.FilterSet):
    entity = django_filters.CharFilter()
    entity_id = django_filters.CharFilter()
    action = django_filters.CharFilter()
    since = django_filters.DateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.DateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = []
