"""The demo's entry points: the generator (plan the registry for a scale and seed, then write it, replacing it on
reset), and `make run`'s logins with the demo team leader, written through the owners' services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scoping import Role
from accounts.services import account_upsert
from activities.models import Activity
from activities.services import CREATED, activities_sync, normalize
from areas import maps
from areas.changes import communes_changed
from areas.models import CommuneLink, Hamlet
from areas.selectors import units_by_code
from config.copying import foreign_keys_checked_once
from config.errors import Conflict, DomainError
from coverage.services import recompute_all, snapshot_take
from demo.leader import (
    DEMO_ACCOUNTS,
    DEMO_OFFICER,
    DEMO_PASSWORD,
    LEADER,
    LEADER_ACTIVITIES,
    LEADER_TEAM_DECISION,
    LEADER_TEAM_ESTABLISHED,
    LEADER_TEAM_ID,
    LEADER_TEAM_MEMBERS,
)
from demo.plan import DEFAULT_INCOMPLETE_PROVINCES, DEFAULT_UNCOVERED_COMMUNES, DemoSummary, demo_plan
from demo.reset import registry_commune_ids, registry_delete
from demo.write import plan_write
from members.models import Member, MemberRole
from members.services import member_create, team_leader_account_set
from teams.models import Team, TeamStatus
from teams.services import team_create


@transaction.atomic
def demo_generate(
    *,
    scale: str,
    seed: int,
    province_code: str | None = None,
    uncovered_communes: float = DEFAULT_UNCOVERED_COMMUNES,
    incomplete_provinces: int = DEFAULT_INCOMPLETE_PROVINCES,
    reset: bool = False,
    progress: Callable[[int], None] | None = None,
    on_map: maps.Map = maps.CURRENT,
    as_of: dt.date | None = None,
) -> DemoSummary:
    """Create demo hamlets, teams and members on the real communes; reset replaces the registry first.

    on_map=maps.OLD plans the registry on the 2024 map and carries it to the 2025 communes through the
    crosswalk, each hamlet and commune-level team keeping its old commune. as_of dates the registry up to
    that day, recomputes the figures of both maps and keeps them as that day's snapshot (?as_of=).
    """
    if not reset and (Team.objects.exists() or Member.objects.exists() or Hamlet.objects.exists()):
        raise Conflict(
            _("The database already has hamlets, teams or members; use --reset to replace them."),
            code="not_empty",
        )
    plan = demo_plan(
        scale=scale,
        seed=seed,
        province_code=province_code,
        uncovered_communes=uncovered_communes,
        incomplete_provinces=incomplete_provinces,
        on_map=on_map,
    )
    touched = {p.commune.pk for p in plan.communes}
    if on_map is maps.OLD:  # the rows land on the 2025 communes these went into
        touched = set(CommuneLink.objects.filter(old_commune__in=touched).values_list("new_commune_id", flat=True))
    if reset:
        touched |= registry_commune_ids()
        registry_delete()
    # The demo replaces the registry in one transaction: its rows' foreign keys are checked once, at the end.
    with foreign_keys_checked_once(Hamlet, Team, Member):
        plan_write(plan, progress, as_of=as_of)
    communes_changed(touched)
    if as_of is not None:
        recompute_all()
        snapshot_take(day=as_of)
    return plan.summary()


# --- make run: the demo logins and the demo team leader ------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    """A login `make run` prints: role, phone, password and the scope it sees."""

    role: str
    phone: str
    password: str
    scope: str
    full_name: str


@dataclass
class DemoLeader:
    """What demo_leader_seed found or wrote, and why a part is missing (a restart after the API changed it)."""

    login: DemoLogin | None = None
    team: Team | None = None
    members: int = 0
    activities: int = 0
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _scope(user: User) -> str:
    if user.role == Role.TEAM_LEADER:
        team, commune = user.team, user.commune
        return f"team {team.pk} ({team.name}), {commune.code} {commune.name}"
    if user.commune_id:
        return f"{user.commune.code} {user.commune.name}"
    if user.province_id:
        return f"{user.province.code} {user.province.name}"
    return "toàn quốc"


def _login(user: User) -> DemoLogin:
    return DemoLogin(user.role, user.phone, DEMO_PASSWORD, _scope(user), user.full_name)


@transaction.atomic
def demo_accounts_set() -> list[DemoLogin]:
    """Create the demo logins of the ministry, the province admins and the commune officer, or reset them."""
    logins = []
    for account in DEMO_ACCOUNTS:
        province, commune = units_by_code(province_code=account.province_code, commune_code=account.commune_code)
        user, _created = account_upsert(
            phone=account.phone,
            password=DEMO_PASSWORD,
            role=account.role,
            province=province,
            commune=commune,
            full_name=account.full_name,
            check_password_strength=False,
        )
        logins.append(_login(user))
    return logins


def _message(exc: DomainError) -> str:
    messages = [f"{name}: {m}" for name, ms in exc.fields.items() for m in ms]
    return "; ".join(messages) or str(exc.message or exc.code)


def _free_hamlet(commune_id: int) -> Hamlet | None:
    """The first active hamlet of the commune, by name, that no active team serves."""
    served = Team.objects.filter(status=TeamStatus.ACTIVE, hamlet__isnull=False).values("hamlet_id")
    return (
        Hamlet.objects.filter(commune_id=commune_id, active=True)
        .exclude(pk__in=served)
        .order_by("name_key", "id")
        .first()
    )


def _leader_team(officer: User, result: DemoLeader) -> Team | None:
    team = Team.objects.filter(pk=LEADER_TEAM_ID).first()
    if team is not None:
        return team
    hamlet = _free_hamlet(officer.commune_id)
    if hamlet is None:
        result.notes.append("every hamlet of the demo commune has a team: no demo team leader")
        return None
    team, _created = team_create(
        actor=officer,
        commune_code=officer.commune.code,
        hamlet_id=hamlet.pk,
        name=f"Tổ Công nghệ số cộng đồng {hamlet.name}",
        established_on=LEADER_TEAM_ESTABLISHED,
        decision_number=LEADER_TEAM_DECISION,
        team_id=LEADER_TEAM_ID,
    )
    result.written.append("team")
    return team


def _leader_members(officer: User, team: Team, result: DemoLeader) -> None:
    there = set(Member.objects.filter(pk__in=[p.member_id for p in LEADER_TEAM_MEMBERS]).values_list("pk", flat=True))
    added = 0
    for person in LEADER_TEAM_MEMBERS:
        if person.member_id in there:
            continue  # written by an earlier start, and perhaps changed since through the API: left as it is
        try:
            member_create(
                actor=officer,
                team_id=team.pk,
                member_id=person.member_id,
                joined_on=team.established_on,
                full_name=person.full_name,
                phone=person.phone,
                role=person.role,
                background=person.background,
                gender=person.gender,
                birth_year=person.birth_year,
            )
            added += 1
        except DomainError as exc:
            result.notes.append(f"member {person.full_name} not added: {_message(exc)}")
    if added:
        result.written.append(f"{added} members")


def _leader_login(officer: User, team: Team, result: DemoLeader) -> User | None:
    leader = (
        Member.objects.filter(pk=LEADER.member_id, team=team, active=True, role=MemberRole.LEADER)
        .select_related("user")
        .first()
    )
    if leader is None:
        result.notes.append(f"{LEADER.full_name} no longer leads the demo team: no leader login")
        return None
    user = leader.user
    ready = (
        user is not None
        and user.is_active
        and user.role == Role.TEAM_LEADER
        and user.team_id == team.pk
        and user.check_password(DEMO_PASSWORD)
    )
    if not ready:
        # The path of POST /teams/{id}/leader-account/, by the commune officer.
        try:
            user, _created, _generated = team_leader_account_set(actor=officer, team_id=team.pk, password=DEMO_PASSWORD)
        except DomainError as exc:
            result.notes.append(f"no leader login: {_message(exc)}")
            return None
        result.written.append("leader login")
    return user


def _leader_activities(leader: User, team: Team, result: DemoLeader) -> None:
    ids = [a.activity_id for a in LEADER_ACTIVITIES]
    there = set(Activity.objects.filter(pk__in=ids).values_list("pk", flat=True))
    today = timezone.localdate()
    items = [
        (
            a.activity_id,
            normalize(
                {
                    "team": team.pk,
                    "hamlet": team.hamlet_id,
                    "type": a.type_code,
                    "occurred_on": today - dt.timedelta(days=a.days_ago),
                    "people_helped": a.people_helped,
                    "households_helped": a.households_helped,
                    "duration_minutes": a.duration_minutes,
                    "note": a.note,
                }
            ),
            None,
        )
        for a in LEADER_ACTIVITIES
        if a.activity_id not in there
    ]
    if not items:
        return
    # The leader logs them from the phone, as the mobile app's sync does.
    outcomes = activities_sync(actor=leader, items=items)
    created = sum(o.status == CREATED for o in outcomes.values())
    if created:
        result.written.append(f"{created} activities")
    for outcome in outcomes.values():
        if outcome.status != CREATED:
            result.notes.append(f"activity {outcome.id}: {outcome.status} {outcome.errors or ''}".strip())


@transaction.atomic
def demo_leader_seed() -> DemoLeader:
    """The demo team leader (after demo_accounts_set): a team on a free hamlet of the demo officer's commune,
    its members, the leader's login and some activities the leader logged. Each is written through its owner's
    service, by the commune officer or the leader; what an earlier run wrote is found by its fixed id and left
    alone, so a restart adds nothing.
    """
    result = DemoLeader()
    officer = User.objects.select_related("commune").get(phone=DEMO_OFFICER)
    team = _leader_team(officer, result)
    if team is None:
        return result
    result.team = team
    if team.status != TeamStatus.ACTIVE:
        result.notes.append("the demo team leader's team was dissolved: no demo team leader")
        return result
    _leader_members(officer, team, result)
    leader = _leader_login(officer, team, result)
    if leader is not None:
        _leader_activities(leader, team, result)
        leader = User.objects.select_related("team", "commune").get(pk=leader.pk)
        result.login = _login(leader)
    result.members = Member.objects.filter(team=team, active=True).count()
    result.activities = Activity.objects.filter(team=team, deleted=False).count()
    return result
