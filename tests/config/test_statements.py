"""config.statements: get_by_pk gives the same instance as the ORM's get(), in one query, compiled once; Compiled
and CompiledPage give a values queryset's rows for another value of its stand-in, converted as the ORM does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from config import statements
from config.statements import Compiled, CompiledPage, get_by_pk

pytestmark = pytest.mark.django_db


def _values(user: User) -> dict:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


def test_the_row_equals_the_orms_field_by_field(world):
    login = world.hoa
    User.objects.filter(pk=login.pk).update(last_login=timezone.now() - dt.timedelta(hours=3))
    expected = User.objects.get(pk=login.pk)
    found = get_by_pk(User, login.pk)
    assert isinstance(found, User)
    assert _values(found) == _values(expected)
    assert found.last_login is not None and found.last_login.tzinfo is not None
    assert found._state.adding is False and found._state.db == expected._state.db
    assert found.province == expected.province  # relations resolve as on an ORM instance


def test_a_string_key_as_a_token_carries_it(world):
    assert get_by_pk(User, str(world.hoa.pk)).pk == world.hoa.pk


def test_no_such_row_and_a_malformed_key_are_none(world):
    missing = User.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    assert get_by_pk(User, missing) is None
    assert get_by_pk(User, "không-phải-số") is None


def test_one_query_and_one_compilation(world):
    statements._STATEMENTS.clear()
    get_by_pk(User, world.hoa.pk)
    compiled = dict(statements._STATEMENTS)
    with CaptureQueriesContext(connection) as queries:
        assert get_by_pk(User, world.hai.pk).pk == world.hai.pk
    assert len(queries) == 1
    assert compiled == statements._STATEMENTS


def _logins(province_id) -> QuerySet:
    return User.objects.filter(province_id=province_id).order_by("phone").values_list("id", "phone", "last_login")


def test_a_compiled_statement_gives_the_rows_the_queryset_gives_for_the_real_value(world):
    """Built once with a stand-in; each run gives what the queryset built with the real value gives, with
    the ORM's conversions (timestamps aware, as the queryset reads them)."""
    User.objects.filter(province=world.a).update(last_login=timezone.now())
    compiled = Compiled(_logins(-77), -77, expected=1)
    for province in (world.a, world.b):
        assert compiled.rows(province.pk) == list(_logins(province.pk))
    assert compiled.rows(world.a.pk)[0][2].tzinfo is not None
    page = CompiledPage(compiled, world.a.pk)
    assert page[1:3] == list(_logins(world.a.pk))[1:3]
    assert page[0:0] == []


def test_a_stand_in_found_too_often_or_not_at_all_is_refused(world):
    with pytest.raises(RuntimeError):
        Compiled(_logins(-77), -78, expected=1)
    with pytest.raises(RuntimeError):
        Compiled(User.objects.filter(province_id=-77, commune_id=-77).values_list("id"), -77, expected=1)
