"""Incremental equals full: random sequences of the real services, and after every step the figures that
the incremental path stored must equal an independent full computation (tests/coverage/oracle.py).

Each step calls a service as the APIs do (team, member, activity, hamlet and size-policy writes, an
activity type, a commune scheduled on or off the map) or moves the clock (across quarters too). Edits
back-date activities into closed quarters, whose counts the figures read from tallies (activities.tallies). Then it
runs the incremental path as the worker does (services.recompute_dirty) and compares every current
commune, province and the nation, and what the ministry reads, with the oracle: 0 differences.

COVERAGE_MACHINE_EXAMPLES (default 12) and COVERAGE_MACHINE_STEPS (default 30) bound the run;
COVERAGE_MACHINE_SEED replays one. The seed is printed with any failure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import uuid

import hypothesis
import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from accounts.scoping import Role
from activities.models import Activity
from activities.services import activities_sync, activity_delete, activity_type_create, activity_update, normalize
from areas.changes import communes_changed
from areas.models import Commune, Hamlet
from areas.services import hamlet_create, hamlet_remove
from config.errors import DomainError
from coverage import selectors, services
from coverage.compute import quarter_of
from members.models import Background, Member, MemberRole
from members.services import member_create, member_leave, member_update
from teams.models import Team, TeamStatus
from teams.services import size_policy_set, team_create, team_dissolve
from tests.conftest import ensure_reference_data
from tests.coverage.oracle import differences, expected_figures
from tests.factories import CommuneFactory, ProvinceFactory, UserFactory

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("COVERAGE_MACHINE_SEED") or random.SystemRandom().randrange(2**32))
EXAMPLES = int(os.environ.get("COVERAGE_MACHINE_EXAMPLES", "12"))
STEPS = int(os.environ.get("COVERAGE_MACHINE_STEPS", "30"))
# Late in a quarter, so that a few moves of the clock cross into the next one (and the next year).
START = dt.datetime(2026, 9, 12, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
ACTIVITY_TYPES = ["vneid", "online_public_services", "cashless_payment", "online_safety"]


class CoverageMachine(RuleBasedStateMachine):
    """A small country (provinces P and Q; communes P1, P2, Q1, and P3 with nothing ever) under random writes."""

    def __init__(self):
        super().__init__()
        self._transaction = transaction.atomic()
        self._transaction.__enter__()  # every example starts from the same rows and leaves nothing behind
        self._traveller = time_machine.travel(START, tick=False)
        self._clock = self._traveller.start()
        ensure_reference_data()
        p, q = ProvinceFactory(code="61"), ProvinceFactory(code="62")
        self.communes = [
            CommuneFactory(code="61001", province=p),
            CommuneFactory(code="61002", province=p),
            CommuneFactory(code="62001", province=q),
        ]
        CommuneFactory(code="61003", province=p)  # no writes ever: its figures stay zero
        self.admins = {
            p.pk: UserFactory(phone="0900000061", role=Role.PROVINCE_ADMIN, province=p),
            q.pk: UserFactory(phone="0900000062", role=Role.PROVINCE_ADMIN, province=q),
        }
        self.ministry = UserFactory(phone="0900000060", role=Role.MINISTRY)
        self.provinces = {p.code: p, q.code: q}
        self.names = itertools.count(1)
        # Ids from a counter, not uuid4: lists drawn from are ordered by id, and Hypothesis replays an
        # example only if the same choices meet the same rows in the same order.
        self.ids = itertools.count(1)
        self.types = list(ACTIVITY_TYPES)

    def teardown(self):
        transaction.set_rollback(True)
        self._transaction.__exit__(None, None, None)
        self._traveller.stop()

    # --- helpers ---------------------------------------------------------------------------

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=next(self.ids))

    def today(self) -> dt.date:
        return timezone.localdate()

    def admin_of(self, row) -> object:
        return self.admins[row.province_id]

    def attempt(self, write) -> None:
        """A service may refuse a write (occupied hamlet, second leader, closed edit window): that is a
        legitimate outcome of a random sequence, and must leave the figures as they were."""
        try:
            write()
        except DomainError as refused:
            hypothesis.event(f"refused: {refused.code}")  # pytest --hypothesis-show-statistics lists them

    def active_teams(self) -> list[Team]:
        return list(Team.objects.filter(status=TeamStatus.ACTIVE).order_by("id"))

    def active_members(self) -> list[Member]:
        return list(Member.objects.filter(active=True).order_by("id"))

    # --- registry ----------------------------------------------------------------------------

    @rule(commune=st.integers(0, 2), kind=st.sampled_from(["thon", "to_dan_pho"]))
    def add_hamlet(self, commune, kind):
        target = self.communes[commune]
        self.attempt(
            lambda: hamlet_create(
                actor=self.admin_of(target), commune_code=target.code, name=f"Thôn {next(self.names)}", kind=kind
            )
        )

    @precondition(lambda self: Hamlet.objects.filter(active=True).exists())
    @rule(data=st.data())
    def retire_hamlet(self, data):
        hamlet = data.draw(st.sampled_from(list(Hamlet.objects.filter(active=True).order_by("id"))))
        self.attempt(lambda: hamlet_remove(actor=self.admin_of(hamlet), hamlet_id=hamlet.pk))

    @rule(commune=st.integers(0, 2), at_hamlet=st.booleans(), data=st.data(), days_ago=st.integers(0, 400))
    def create_team(self, commune, at_hamlet, data, days_ago):
        target = self.communes[commune]
        hamlets = list(Hamlet.objects.filter(commune=target, active=True).order_by("id"))
        hamlet = data.draw(st.sampled_from(hamlets)) if at_hamlet and hamlets else None
        self.attempt(
            lambda: team_create(
                actor=self.admin_of(target),
                commune_code=target.code,
                name=f"Tổ {next(self.names)}",
                team_id=self.new_id(),
                established_on=self.today() - dt.timedelta(days=days_ago),
                hamlet_id=hamlet.pk if hamlet else None,
            )
        )

    @precondition(lambda self: Team.objects.filter(status=TeamStatus.ACTIVE).exists())
    @rule(data=st.data())
    def dissolve_team(self, data):
        team = data.draw(st.sampled_from(self.active_teams()))
        self.attempt(lambda: team_dissolve(actor=self.admin_of(team), team_id=team.pk))

    @precondition(lambda self: Team.objects.filter(status=TeamStatus.ACTIVE).exists())
    @rule(
        data=st.data(),
        role=st.sampled_from(MemberRole.values),
        background=st.sampled_from(Background.values),
        many=st.integers(1, 4),
    )
    def add_members(self, data, role, background, many):
        team = data.draw(st.sampled_from(self.active_teams()))
        for i in range(many):
            number = next(self.names)
            self.attempt(
                lambda number=number, i=i: member_create(
                    actor=self.admin_of(team),
                    team_id=team.pk,
                    member_id=self.new_id(),
                    full_name=f"Thành Viên {number}",
                    phone=f"03{number:08d}",
                    role=role if i == 0 else MemberRole.MEMBER,
                    background=background,
                )
            )

    @precondition(lambda self: Member.objects.filter(active=True).exists())
    @rule(data=st.data(), role=st.sampled_from(MemberRole.values), background=st.sampled_from(Background.values))
    def edit_member(self, data, role, background):
        member = data.draw(st.sampled_from(self.active_members()))
        self.attempt(
            lambda: member_update(
                actor=self.admin_of(member),
                member_id=member.pk,
                version=member.version,
                role=role,
                background=background,
            )
        )

    @precondition(lambda self: Member.objects.filter(active=True).exists())
    @rule(data=st.data())
    def remove_member(self, data):
        member = data.draw(st.sampled_from(self.active_members()))
        self.attempt(lambda: member_leave(actor=self.admin_of(member), member_id=member.pk))

    @precondition(lambda self: Member.objects.filter(active=True, role=MemberRole.MEMBER).exists())
    @rule(data=st.data())
    def change_leader(self, data):
        """The way a commune changes leaders: the old one steps down, a member steps up."""
        member = data.draw(st.sampled_from(list(Member.objects.filter(active=True, role="member").order_by("id"))))
        old = Member.objects.filter(team_id=member.team_id, active=True, role=MemberRole.LEADER).first()
        if old is not None:
            self.attempt(
                lambda: member_update(
                    actor=self.admin_of(old), member_id=old.pk, version=old.version, role=MemberRole.MEMBER
                )
            )
        self.attempt(
            lambda: member_update(
                actor=self.admin_of(member), member_id=member.pk, version=member.version, role=MemberRole.LEADER
            )
        )

    @rule(province=st.sampled_from(["61", "62"]), low=st.integers(1, 6), span=st.integers(0, 5))
    def set_size_policy(self, province, low, span):
        admin = self.admins[self.provinces[province].pk]
        self.attempt(
            lambda: size_policy_set(actor=admin, province_code=province, min_members=low, max_members=low + span)
        )

    # --- activities --------------------------------------------------------------------------

    @precondition(lambda self: Team.objects.filter(status=TeamStatus.ACTIVE).exists())
    @rule(
        data=st.data(),
        many=st.integers(1, 4),
        days_ago=st.integers(0, 200),
        people=st.integers(1, 30),
    )
    def sync_activities(self, data, many, days_ago, people):
        team = data.draw(st.sampled_from(self.active_teams()))
        kind = data.draw(st.sampled_from(self.types))
        items = [
            (
                self.new_id(),
                normalize(
                    {
                        "team": team.pk,
                        "type": kind,
                        "occurred_on": self.today() - dt.timedelta(days=days_ago + i),
                        "people_helped": people + i,
                    }
                ),
                None,
            )
            for i in range(many)
        ]
        activities_sync(actor=self.admin_of(team), items=items)

    @precondition(lambda self: Activity.objects.filter(deleted=False).exists())
    @rule(data=st.data(), people=st.integers(1, 30), days_ago=st.integers(0, 120))
    def edit_activity(self, data, people, days_ago):
        activity = data.draw(st.sampled_from(list(Activity.objects.filter(deleted=False).order_by("id"))))
        kind = data.draw(st.sampled_from(self.types))
        self.attempt(
            lambda: activity_update(
                actor=self.admin_of(activity),
                activity_id=activity.pk,
                base_updated_at=activity.updated_at,
                changes={
                    "type_id": kind,
                    "people_helped": people,
                    "occurred_on": self.today() - dt.timedelta(days=days_ago),
                },
            )
        )

    @precondition(lambda self: Activity.objects.exists())
    @rule(data=st.data(), back=st.integers(1, 200), people=st.integers(1, 30), deleted=st.booleans())
    def back_date_through_the_sync(self, data, back, people, deleted):
        """An edit through the sync (one set-based UPDATE) into a closed quarter, or a tombstone, or a revival:
        the quarter the activity leaves and the one it enters must both be counted exactly."""
        activity = data.draw(st.sampled_from(list(Activity.objects.order_by("id"))))
        _, this_quarter = quarter_of(self.today())
        day = this_quarter - dt.timedelta(days=back)  # always in a quarter that has closed
        values = normalize(
            {
                "team": activity.team_id,
                "type": activity.type_id,
                "occurred_on": day,
                "people_helped": people,
                "deleted": deleted,
            }
        )
        activities_sync(actor=self.admin_of(activity), items=[(activity.pk, values, activity.updated_at)])

    @precondition(lambda self: Activity.objects.filter(deleted=False).exists())
    @rule(data=st.data())
    def delete_activity(self, data):
        activity = data.draw(st.sampled_from(list(Activity.objects.filter(deleted=False).order_by("id"))))
        self.attempt(lambda: activity_delete(actor=self.admin_of(activity), activity_id=activity.pk))

    @precondition(lambda self: len(self.types) < len(ACTIVITY_TYPES) + 2)
    @rule()
    def add_activity_type(self):
        """The ministry adds a type: every unit's by-type breakdowns gain it."""
        code = f"new_kind_{len(self.types)}"
        activity_type_create(actor=self.ministry, code=code, name_vi=f"Loại {code}", name_en=f"Kind {code}")
        self.types.append(code)

    # --- the map and the clock ----------------------------------------------------------------

    @precondition(lambda self: Commune.objects.count() < 7)
    @rule(province=st.sampled_from(["61", "62"]), ahead=st.integers(1, 40), ends_in=st.none() | st.integers(1, 60))
    def schedule_commune(self, province, ahead, ends_in):
        """A commune valid from a later day (and perhaps retired later), loaded as load_areas loads."""
        start = self.today() + dt.timedelta(days=ahead)
        commune = CommuneFactory(
            province=self.provinces[province],
            valid_from=start,
            valid_to=start + dt.timedelta(days=ends_in) if ends_in else None,
        )
        communes_changed([commune.pk])

    @rule(days=st.sampled_from([1, 7, 30, 45, 95]))
    def travel(self, days):
        self._clock.shift(dt.timedelta(days=days))

    # --- the property ------------------------------------------------------------------------

    @invariant()
    def incremental_equals_full(self):
        services.recompute_dirty()  # what the worker runs after each kick (and the beat sweep each minute)
        today = self.today()
        found = differences(today)
        assert found == [], f"{len(found)} differences on {today}:\n" + "\n".join(found[:40])
        nation = expected_figures(today)[("nation", "VN")]
        read = selectors.national(user=self.ministry)
        for name in ("provinces_total", "provinces_complete", "communes_total", "communes_covered", "teams_active"):
            assert read[name] == nation[name], (name, read[name], nation[name])
        assert read["stale"] is False


def test_incremental_figures_equal_a_full_computation_after_any_sequence_of_writes():
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        print_blob=True,
    )
    machine = hypothesis.seed(SEED)(CoverageMachine)
    try:
        run_state_machine_as_test(machine, settings=settings)
    except BaseException as failure:
        failure.add_note(f"state machine seed: {SEED} (replay with COVERAGE_MACHINE_SEED={SEED})")
        raise
