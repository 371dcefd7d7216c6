"""Writes on teams and size policies. Member writes live in members.services."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, OuterRef, Q, Value, When
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import audit_record, state
from accounts.scoping import Role, scope_of
from areas.changes import commune_changed, communes_changed
from areas.models import Commune, Hamlet, Province
from areas.names import clean_name, fold, name_key, validate_name
from areas.services import commune_get_writable
from config.copying import RowShape
from config.errors import (
    Conflict,
    DomainError,
    NotFound,
    constraint_name,
    invalid,
)
from config.versioning import check_version, replay_or_conflict
from teams.models import SizePolicy, SizeStatus, Team, TeamQuerySet, TeamStatus

TEAM_NAME_MAX = 200
_TEAM_NAME_MESSAGES = (
    gettext_lazy("The team name may not be blank."),
    gettext_lazy("The team name may have at most %(max)d characters."),
)


# --- Size policy --------------------------------------------------------------------------


def size_status_expression(count=None):
    """SQL for a team's size_status from its member count and its province's policy (or the default)."""
    count = count if count is not None else F("member_count")
    low, high = SizePolicy.range_of(OuterRef("province_id"))
    return Case(
        When(LessThan(count, low), then=Value(SizeStatus.UNDER)),
        When(GreaterThan(count, high), then=Value(SizeStatus.OVER)),
        default=Value(SizeStatus.OK),
    )


class SizeRanges:
    """Every province's team-size range, read once: size_status_expression's rule in Python, for the bulk paths
    that write teams together with their members."""

    def __init__(self):
        self._ranges = {
            province: (low, high)
            for province, low, high in SizePolicy.objects.values_list("province_id", "min_members", "max_members")
        }
        self._default = (settings.TEAM_SIZE_MIN_DEFAULT, settings.TEAM_SIZE_MAX_DEFAULT)

    def status(self, province_id: int, count: int) -> str:
        low, high = self._ranges.get(province_id, self._default)
        return SizeStatus.UNDER if count < low else SizeStatus.OVER if count > high else SizeStatus.OK


def teams_figures_set(team_ids: Iterable, *, member_count, leader) -> None:
    """Set the member count, size status and leader of these active teams from expressions on the team row (one UPDATE).

    The owner of the members builds the expressions; the size status follows from the count by the province's policy.
    """
    ids = list({t for t in team_ids if t})
    if not ids:
        return
    Team.objects.filter(pk__in=ids, status=TeamStatus.ACTIVE).update(
        member_count=member_count, size_status=size_status_expression(member_count), leader=leader
    )


@transaction.atomic
def size_policy_set(*, actor, province_code: str, min_members: int, max_members: int) -> SizePolicy:
    """Set a province's team-size range and re-flag its teams (one UPDATE)."""
    scope = scope_of(actor)
    province = Province.objects.current().visible_to(actor).filter(code=province_code).first()
    if province is None:
        raise NotFound(_("Not found."))
    if scope.role != Role.PROVINCE_ADMIN:
        raise DomainError(_("Only the province admin sets the team-size policy."), code="forbidden", status_code=403)
    if min_members < 1:
        raise invalid(min_members=_("The minimum must be at least 1."))
    if max_members < min_members:
        raise invalid(max_members=_("The maximum must not be below the minimum."))
    previous = SizePolicy.objects.filter(province=province).first()
    before = state(previous)
    policy, _created = SizePolicy.objects.update_or_create(
        province=province, defaults={"min_members": min_members, "max_members": max_members}
    )
    teams = Team.objects.filter(province=province, status=TeamStatus.ACTIVE)
    teams.update(size_status=size_status_expression())
    communes_changed(teams.values_list("commune_id", flat=True).distinct())
    audit_record(actor=actor, action="size_policy.set", obj=policy, before=before)
    return policy


# --- Teams --------------------------------------------------------------------------------


def validate_team_name(raw: str) -> str:
    """The cleaned team name, or a DomainError on `name`."""
    return validate_name(raw, field="name", max_length=TEAM_NAME_MAX, messages=_TEAM_NAME_MESSAGES)


def team_name_fields(name: str) -> dict[str, str]:
    """A validated team name with the two forms stored beside it: its matching key and its tone-less search form."""
    return {"name": name, "name_key": name_key(name), "name_folded": fold(name)}


# The columns a new team's row gives (config.copying.copy_rows).
TEAM_ROW = RowShape(
    Team,
    (
        "id", "province_id", "commune_id", "hamlet_id", "old_commune_id", "name", "name_key", "name_folded",
        "established_on", "decision_number", "member_count", "size_status", "leader_id",
    ),
)  # fmt: skip


def team_row(
    *,
    commune: Commune,
    hamlet_id: int | None,
    name: str,
    established_on: dt.date,
    decision_number: str = "",
    team_id: uuid.UUID | None = None,
    old_commune_id: int | None = None,
    figures: tuple[int, str, uuid.UUID | None] = (0, SizeStatus.UNDER, None),
) -> tuple:
    """A new team as a row of TEAM_ROW. figures are its member count, size status and leader: a team written with
    its members takes them from members.services.new_team_figures and size_status_of; one written before its
    members has none, until they are recounted.

    old_commune_id (a commune-level team's commune on the 2024 map) must already be checked as a
    predecessor of `commune` (areas.old_units places import rows that way).
    """
    names = team_name_fields(name)
    return (
        team_id or uuid.uuid4(),
        commune.province_id,
        commune.pk,
        hamlet_id,
        None if hamlet_id else old_commune_id,
        names["name"],
        names["name_key"],
        names["name_folded"],
        established_on,
        decision_number,
        *figures,
    )


def team_build(*, commune: Commune, hamlet: Hamlet | None, old_commune: Commune | None = None, **values) -> Team:
    """team_row's team, before its members, as an unsaved instance holding its commune and hamlet."""
    old_commune = None if hamlet else old_commune  # a hamlet not yet written has no key to tell by
    row = team_row(
        commune=commune,
        hamlet_id=hamlet.pk if hamlet else None,
        old_commune_id=old_commune.pk if old_commune else None,
        **values,
    )
    team = Team(**TEAM_ROW.kwargs(row))
    team.commune, team.hamlet, team.old_commune = commune, hamlet, old_commune
    return team


def team_record_old_commune(team: Team, old: Commune | None) -> bool:
    """Record (in memory) the 2024-map commune an import row names for an existing commune-level team; True
    when it changed. A team that records another keeps it (a DomainError on `name`); a hamlet-level team's
    old commune is its hamlet's, so nothing is recorded on it."""
    if old is None or team.hamlet_id is not None or team.old_commune_id == old.pk:
        return False
    if team.old_commune_id is not None:
        raise invalid(name=_("This team is recorded in another commune of the 2024 map than the one this row names."))
    team.old_commune = old
    return True


def _not_in_future(field: str, day: dt.date) -> None:
    if day > timezone.localdate():
        raise invalid(**{field: _("The date may not be in the future.")})


def _hamlet_of(commune: Commune, hamlet_id: int | None) -> Hamlet | None:
    if hamlet_id is None:
        return None
    hamlet = Hamlet.objects.filter(pk=hamlet_id, commune=commune, active=True).first()
    if hamlet is None:
        raise invalid(hamlet=_("This hamlet is not an active hamlet of the team's commune."))
    return hamlet


# --- Slots: one active team per hamlet, and one commune-level team per commune -------------------

Slot = tuple[int, int | None]  # (commune id, hamlet id or None for the commune level)


def team_occupied_message(*, hamlet_level: bool) -> str:
    """Why a new team cannot take an occupied slot."""
    if hamlet_level:
        return _("This hamlet already has an active team.")
    return _("This commune already has an active commune-level team.")


def teams_occupying(slots: Iterable[Slot], *, exclude: uuid.UUID | None = None, lock: bool = False) -> dict[Slot, Team]:
    """The active teams holding these slots, by slot (one query); lock=True row-locks them in one order.

    The database's unique indexes are the last word; this is the check that gives the message first.
    """
    slots = set(slots)
    if not slots:
        return {}
    hamlet_ids = {hamlet for _commune, hamlet in slots if hamlet is not None}
    commune_level = {commune for commune, hamlet in slots if hamlet is None}
    qs = Team.objects.filter(
        Q(hamlet_id__in=hamlet_ids) | Q(hamlet__isnull=True, commune_id__in=commune_level),
        commune_id__in={commune for commune, _hamlet in slots},
        status=TeamStatus.ACTIVE,
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    if lock:
        qs = qs.select_for_update().order_by("pk")
    return {(t.commune_id, t.hamlet_id): t for t in qs}


def _occupant(commune: Commune, hamlet: Hamlet | None, exclude: uuid.UUID | None = None) -> Team | None:
    slot = (commune.pk, hamlet.pk if hamlet else None)
    return teams_occupying([slot], exclude=exclude).get(slot)


def _occupied_conflict(existing: Team | None, hamlet: Hamlet | None) -> Conflict:
    message = team_occupied_message(hamlet_level=hamlet is not None)
    return Conflict(
        message,
        code="team_exists",
        fields={"hamlet" if hamlet else "commune": [message]},
        extra={"existing_id": str(existing.pk)} if existing else {},
    )


def _replay_or_conflict(team_id: uuid.UUID, values: dict, actor) -> Team:
    return replay_or_conflict(Team, team_id, values, _("A different team already exists with this id."), actor=actor)


@transaction.atomic
def team_create(
    *,
    actor,
    commune_code: str,
    name: str,
    established_on: dt.date,
    hamlet_id: int | None = None,
    decision_number: str = "",
    team_id: uuid.UUID | None = None,
) -> tuple[Team, bool]:
    """Register a team. A replay of the same id and content returns the team with created=False."""
    commune = commune_get_writable(actor=actor, commune_code=commune_code, writes=TeamQuerySet)
    hamlet = _hamlet_of(commune, hamlet_id)
    name = validate_team_name(name)
    _not_in_future("established_on", established_on)
    values = {
        "commune_id": commune.pk,
        "hamlet_id": hamlet.pk if hamlet else None,
        "name": name,
        "established_on": established_on,
        "decision_number": clean_name(decision_number or ""),
    }
    if team_id and Team.objects.filter(pk=team_id).exists():
        return _replay_or_conflict(team_id, values, actor), False
    existing = _occupant(commune, hamlet)
    if existing:
        raise _occupied_conflict(existing, hamlet)
    team = team_build(
        commune=commune,
        hamlet=hamlet,
        name=name,
        established_on=established_on,
        decision_number=values["decision_number"],
        team_id=team_id,
    )
    try:
        with transaction.atomic():
            team.save(force_insert=True)
    except IntegrityError as exc:
        # A concurrent request won: either the same id (a replay) or the same hamlet/commune slot.
        if constraint_name(exc) and "pkey" in constraint_name(exc):
            return _replay_or_conflict(team.pk, values, actor), False
        raise _occupied_conflict(_occupant(commune, hamlet), hamlet) from None
    Team.objects.filter(pk=team.pk).update(size_status=size_status_expression())
    team.refresh_from_db(fields=["size_status"])
    commune_changed(commune.pk)
    audit_record(actor=actor, action="team.create", obj=team, before=None)
    return team, True


def team_get_for_update(*, actor, team_id, leader_allowed: bool = False) -> Team:
    """The team, row-locked, if the actor may write it (404 otherwise)."""
    qs = Team.objects.visible_to(actor) if leader_allowed else Team.objects.writable_by(actor)
    team = qs.select_for_update().filter(pk=team_id).first()
    if team is None:
        if leader_allowed or not Team.objects.visible_to(actor).filter(pk=team_id).exists():
            raise NotFound(_("Not found."))
        raise DomainError(_("You may not change this team."), code="forbidden", status_code=403)
    if leader_allowed and actor.role not in TeamQuerySet.write_roles | {Role.TEAM_LEADER}:
        raise DomainError(_("You may not change this team."), code="forbidden", status_code=403)
    return team


@transaction.atomic
def team_update(*, actor, team_id, version: int | None, **changes) -> Team:
    """Edit a team. Team leaders may edit their own team's name, date and decision, not where it serves."""
    team = team_get_for_update(actor=actor, team_id=team_id, leader_allowed=True)
    if team.status != TeamStatus.ACTIVE:
        raise Conflict(_("A dissolved team cannot be changed."), code="team_dissolved")
    if actor.role == Role.TEAM_LEADER and ({"hamlet_id", "commune_code"} & changes.keys()):
        raise DomainError(
            _("A team leader cannot change the team's commune or hamlet."), code="forbidden", status_code=403
        )
    check_version(team, version)
    before = state(team)
    if "commune_code" in changes and changes.pop("commune_code") != team.commune.code:
        raise invalid(commune=_("A team cannot move to another commune; dissolve it and register a new one."))
    if "name" in changes:
        for key, value in team_name_fields(validate_team_name(changes.pop("name"))).items():
            setattr(team, key, value)
    if "established_on" in changes:
        team.established_on = changes.pop("established_on")
        _not_in_future("established_on", team.established_on)
    if "decision_number" in changes:
        team.decision_number = clean_name(changes.pop("decision_number") or "")
    if "hamlet_id" in changes:
        hamlet = _hamlet_of(team.commune, changes.pop("hamlet_id"))
        if (hamlet.pk if hamlet else None) != team.hamlet_id:
            existing = _occupant(team.commune, hamlet, exclude=team.pk)
            if existing:
                raise _occupied_conflict(existing, hamlet)
            team.hamlet = hamlet
    team.version += 1
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise _occupied_conflict(_occupant(team.commune, team.hamlet, exclude=team.pk), team.hamlet) from None
    commune_changed(team.commune_id)
    audit_record(actor=actor, action="team.update", obj=team, before=before)
    return team


def hamlet_served_by_active_team(hamlet: Hamlet) -> str | None:
    """areas' removal guard: a hamlet with an active team may not be retired."""
    if Team.objects.filter(hamlet=hamlet, status=TeamStatus.ACTIVE).exists():
        return _("An active team serves this hamlet; dissolve or move the team first.")
    return None


# Other apps register what a team's dissolution ends for them here (members does, in its AppConfig.ready),
# so that teams never imports them. Each is called as hook(team=..., day=...) under the team's row lock,
# before the team itself is marked dissolved.
TEAM_DISSOLVE_HOOKS: list[Callable[..., None]] = []


@transaction.atomic
def team_dissolve(*, actor, team_id, dissolved_on: dt.date | None = None, version: int | None = None) -> Team:
    """Dissolve a team: its active members leave on that day and its leader's login is switched off."""
    team = team_get_for_update(actor=actor, team_id=team_id)
    if team.status == TeamStatus.DISSOLVED:
        return team  # a retry of the same dissolution changes nothing
    if version is not None:
        check_version(team, version)
    day = dissolved_on or timezone.localdate()
    _not_in_future("dissolved_on", day)
    if day < team.established_on:
        raise invalid(dissolved_on=_("A team cannot be dissolved before it was established."))
    before = state(team)
    for hook in TEAM_DISSOLVE_HOOKS:
        hook(team=team, day=day)
    team.status = TeamStatus.DISSOLVED
    team.dissolved_on = day
    team.member_count = 0
    team.leader = None
    team.size_status = SizeStatus.UNDER
    team.version += 1
    team.save()
    commune_changed(team.commune_id)
    audit_record(actor=actor, action="team.dissolve", obj=team, before=before)
    return team
