"""Query filters: a list's parsed query parameters applied to its queryset by the app's django-filter FilterSet."""

from __future__ import annotations

from config.errors import DomainError


def filtered(filterset_class, data: dict, queryset):
    """`queryset` narrowed by a django-filter FilterSet given already-parsed values (a serializer's
    validated_data, or raw query parameters): a value the FilterSet cannot read is a 400, never ignored."""
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise DomainError(fields={name: list(messages) for name, messages in filterset.errors.items()})
    return filterset.qs
