"""Shared fixtures: the suite runs on PostgreSQL and Redis, with persona users.

Personas (A and B are provinces; A1 and A2 communes of A; B1 a commune of B):
- minh: ministry
- lan: province_admin of A; binh: province_admin of B
- hoa: commune_officer of A1; hai: commune_officer of A2; bao: commune_officer of B1
- tuan: team_leader of team_a1 (a hamlet-level team at hamlet a1); tam: team_leader of team_a2
  (commune-level, A2); team_b1 is a commune-level team in B1 with no login
- nobody: a province_admin whose province was never set (no scope)

Each team has a leader and three members, so it is "under" the default 4-9 size range only if
members leave.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.scoping import Role
from members.models import MemberRole
from members.services import teams_recount
from tests.factories import CommuneFactory, HamletFactory, MemberFactory, ProvinceFactory, TeamFactory, UserFactory

PASSWORD = "mat-khau-an-toan-123"


def embedded_run() -> bool:
    """True when the suite runs on the embedded default (SQLite, no Redis): only tests/security does."""
    return settings.EMBEDDED


def pytest_configure(config):
    if embedded_run():
        if os.environ.get("TEST_EMBEDDED") != "1":
            raise pytest.UsageError(
                "The suite runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (make test does). "
                "Only tests/security also runs on the embedded default, with TEST_EMBEDDED=1."
            )
        return
    if not settings.DATABASE_URL or not settings.DATABASE_URL.startswith("postgres"):
        raise pytest.UsageError("The suite runs on PostgreSQL: set DATABASE_URL (make test does).")
    if not settings.REDIS_URL:
        raise pytest.UsageError("The suite runs with Redis: set REDIS_URL (make test does).")


def pytest_collection_modifyitems(config, items):
    if embedded_run():
        outside = sorted(
            {item.nodeid.split("::")[0] for item in items if not item.nodeid.startswith("tests/security/")}
        )
        if outside:
            raise pytest.UsageError(f"On the embedded default only tests/security runs; asked for {outside[:3]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a test that could flush the database (a transactional test flushes every table at its end), put
    the shipped reference rows back, so that the next test finds the database as migrations left it whatever
    ran before it: under pytest-xdist (make test) the order of the files differs from run to run."""
    result = yield
    if nextitem is None:  # the session's end: the test database is gone
        return result
    if item.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(item.fixturenames):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            ensure_reference_data()
    return result


@pytest.fixture(scope="session", autouse=True)
def _clean_redis():
    if embedded_run():
        return
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher costs ~0.3 s a call by design; personas would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    from accounts.tokens import verified_token
    from config.conditional import KEPT_BODIES

    cache.clear()
    KEPT_BODIES.clear()
    verified_token.cache_clear()
    yield


@pytest.fixture
def world(db):
    """Two provinces, three communes, a hamlet and a team in each commune, and the persona users."""
    return build_world()


def ensure_reference_data() -> None:
    """Transactional tests flush every table, including rows that data migrations shipped: put them back."""
    import importlib

    from activities.models import ActivityType

    if not ActivityType.objects.exists():
        shipped = importlib.import_module("activities.migrations.0002_activity_types")
        for order, (code, name_vi, name_en) in enumerate(shipped.TYPES, start=1):
            ActivityType.objects.create(code=code, name_vi=name_vi, name_en=name_en, sort_order=order * 10)


def build_world() -> SimpleNamespace:
    """The persona world; usable inside transactional tests, where the `world` fixture's db is not."""
    ensure_reference_data()
    a = ProvinceFactory(code="01", name="Thành phố Thử A")
    b = ProvinceFactory(code="02", name="Tỉnh Thử B")
    a1 = CommuneFactory(code="00001", name="Phường Hoà Bình", province=a)
    a2 = CommuneFactory(code="00002", name="Xã Thuỵ Khuê", province=a)
    b1 = CommuneFactory(code="00003", name="Xã Bình Minh", province=b)
    hamlets = SimpleNamespace(
        a1=HamletFactory(commune=a1, name="Thôn Đông"),
        a2=HamletFactory(commune=a2, name="Thôn Tây"),
        b1=HamletFactory(commune=b1, name="Thôn Nam"),
    )
    users = SimpleNamespace(
        minh=UserFactory(phone="0900000001", role=Role.MINISTRY),
        lan=UserFactory(phone="0900000002", role=Role.PROVINCE_ADMIN, province=a),
        binh=UserFactory(phone="0900000003", role=Role.PROVINCE_ADMIN, province=b),
        hoa=UserFactory(phone="0900000004", role=Role.COMMUNE_OFFICER, province=a, commune=a1),
        hai=UserFactory(phone="0900000005", role=Role.COMMUNE_OFFICER, province=a, commune=a2),
        bao=UserFactory(phone="0900000006", role=Role.COMMUNE_OFFICER, province=b, commune=b1),
        nobody=UserFactory(phone="0900000007", role=Role.PROVINCE_ADMIN, province=None),
    )
    teams = SimpleNamespace(
        a1=TeamFactory(commune=a1, hamlet=hamlets.a1, name="Tổ CNSCĐ Thôn Đông"),
        a2=TeamFactory(commune=a2, name="Tổ CNSCĐ Xã Thuỵ Khuê"),
        b1=TeamFactory(commune=b1, name="Tổ CNSCĐ Xã Bình Minh"),
    )
    leaders = {}
    for key, team in vars(teams).items():
        leaders[key] = MemberFactory(team=team, role=MemberRole.LEADER, phone=f"091100000{len(leaders) + 1}")
        MemberFactory.create_batch(3, team=team)
    teams_recount([t.pk for t in vars(teams).values()])
    for team in vars(teams).values():
        team.refresh_from_db()
    users.tuan = UserFactory(phone=leaders["a1"].phone, role=Role.TEAM_LEADER, province=a, commune=a1, team=teams.a1)
    users.tam = UserFactory(phone=leaders["a2"].phone, role=Role.TEAM_LEADER, province=a, commune=a2, team=teams.a2)
    leaders["a1"].user = users.tuan
    leaders["a1"].save()
    leaders["a2"].user = users.tam
    leaders["a2"].save()
    return SimpleNamespace(
        a=a,
        b=b,
        a1=a1,
        a2=a2,
        b1=b1,
        hamlets=hamlets,
        teams=teams,
        leaders=SimpleNamespace(**leaders),
        **vars(users),
    )


@pytest.fixture
def api():
    """api(user) gives an APIClient logged in as user (or anonymous with None)."""

    def make(user=None, language: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        if language:
            client.credentials(HTTP_ACCEPT_LANGUAGE=language)
        return client

    return make


@pytest.fixture
def on_postgres():
    assert connection.vendor == "postgresql"
    return True
