"""Numbers as the ministry writes them (81.415 in Vietnamese, 81,415 in English) and percentages."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def num(value):
    """An integer with its thousands grouped in the active language; a dash for nothing."""
    if value is None or value == "":
        return "–"
    return number_format(value, force_grouping=True)


@register.filter
def pct(value, places: int = 1):
    """A ratio (0..1) as a percentage with `places` decimals in the active language."""
    if value is None:
        return "–"
    return f"{number_format(round(value * 100, places), places, force_grouping=True)} %"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def get_item(sequence, index):
    return sequence[index]
