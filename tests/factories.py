"""factory_boy factories for every app's models."""

from __future__ import annotations

import datetime as dt

import factory

from accounts.models import User
from accounts.scoping import Role
from areas.models import Commune, CommuneKind, Hamlet, HamletKind, Province, ProvinceKind
from areas.names import fold, name_key
from members.models import Background, Member, MemberRole
from teams.models import Team


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Province

    code = factory.Sequence(lambda n: f"{(n % 89) + 10:02d}")
    name = factory.Sequence(lambda n: f"Tỉnh Thử Nghiệm {n}")
    short_name = factory.LazyAttribute(lambda o: o.name.removeprefix("Tỉnh "))
    kind = ProvinceKind.PROVINCE
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune

    code = factory.Sequence(lambda n: f"{90000 + n:05d}")
    name = factory.Sequence(lambda n: f"Xã Thử Nghiệm {n}")
    short_name = factory.LazyAttribute(lambda o: o.name.removeprefix("Xã "))
    kind = CommuneKind.COMMUNE
    province = factory.SubFactory(ProvinceFactory)
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))
    name_folded = factory.LazyAttribute(lambda o: fold(o.name))


class HamletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hamlet

    commune = factory.SubFactory(CommuneFactory)
    province = factory.LazyAttribute(lambda o: o.commune.province)
    name = factory.Sequence(lambda n: f"Thôn {n}")
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))
    kind = HamletKind.THON


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"09{n:08d}")
    role = Role.MINISTRY
    password = factory.PostGenerationMethodCall("set_password", "mat-khau-an-toan-123")

    @factory.post_generation
    def persist(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    """A team; call members.services.teams_recount after adding members to refresh its figures."""

    class Meta:
        model = Team

    commune = factory.SubFactory(CommuneFactory)
    province = factory.LazyAttribute(lambda o: o.commune.province)
    hamlet = None
    name = factory.Sequence(lambda n: f"Tổ Công nghệ số cộng đồng {n}")
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))
    name_folded = factory.LazyAttribute(lambda o: fold(o.name))
    established_on = dt.date(2024, 5, 1)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    team = factory.SubFactory(TeamFactory)
    province = factory.LazyAttribute(lambda o: o.team.province)
    commune = factory.LazyAttribute(lambda o: o.team.commune)
    full_name = factory.Sequence(lambda n: f"Nguyễn Văn {chr(65 + n % 26)}{n}")
    phone = factory.Sequence(lambda n: f"03{n:08d}")
    role = MemberRole.MEMBER
    background = Background.YOUTH_UNION
    joined_on = factory.LazyAttribute(lambda o: o.team.established_on)


# One valid row of a registry sheet: a member of a new hamlet-level team in commune 00001 (A1 of the personas).
IMPORT_ROW = {
    "commune_code": "00001",
    "hamlet_name": "Thôn Bắc",
    "hamlet_kind": "thon",
    "team_name": "Tổ CNSCĐ Thôn Bắc",
    "established_on": "2024-05-01",
    "decision_number": "12/QĐ-UBND",
    "full_name": "Trần Thị Mai",
    "phone": "0981000001",
    "role": "member",
    "background": "youth_union",
    "gender": "female",
    "birth_year": "1990",
}
