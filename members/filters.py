"""The member list's filters; members.selectors applies them to values the API has already validated."""

from __future__ import annotations

import django_filters

from members.models import Background, Gender, Member, MemberRole


class MemberFilter(django_filters.FilterSet):
    team = django_filters.UUIDFilter(field_name="team_id")
    province = django_filters.CharFilter(field_name="province__code")
    commune = django_filters.CharFilter(field_name="commune__code")
    role = django_filters.ChoiceFilter(choices=MemberRole.choices)
    background = django_filters.ChoiceFilter(choices=Background.choices)
    gender = django_filters.ChoiceFilter(choices=Gender.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Member
        fields = []
