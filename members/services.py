"""Writes on members, the derived team figures (count, size status, leader) and team-leader logins."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import audit_record, state
from accounts.models import User
from accounts.phones import InvalidPhone, canonical_phone
from accounts.scoping import Role
from accounts.services import leader_logins_deactivate
from areas.changes import commune_changed
from areas.names import validate_name
from config.copying import RowShape
from config.errors import Conflict, DomainError, NotFound, constraint_name, invalid
from config.versioning import check_version, replay_or_conflict
from members.models import Member, MemberQuerySet, MemberRole
from teams.models import Team, TeamStatus
from teams.services import SizeRanges, team_get_for_update, teams_figures_set

FULL_NAME_MAX = 150
_FULL_NAME_MESSAGES = (
    gettext_lazy("The full name may not be blank."),
    gettext_lazy("The full name may have at most %(max)d characters."),
)


# --- Derived team figures -------------------------------------------------------------------


def teams_recount(team_ids) -> None:
    """Recompute member_count, size_status and leader of these teams from their members (one UPDATE).

    Callers hold the teams' row locks, so two member writes on one team cannot interleave here.
    """
    active = Member.objects.filter(team=OuterRef("pk"), active=True)
    count = Coalesce(Subquery(active.values("team").annotate(n=Count("pk")).values("n")[:1]), 0)
    leader = Subquery(active.filter(role=MemberRole.LEADER).values("pk")[:1])
    teams_figures_set(team_ids, member_count=count, leader=leader)


# The columns a new member's row gives (config.copying.copy_rows).
MEMBER_ROW = RowShape(
    Member,
    (
        "id", "team_id", "province_id", "commune_id", "full_name", "phone", "national_id", "birth_year", "role",
        "background", "gender", "joined_on",
    ),
)  # fmt: skip
_ROLE_AT = MEMBER_ROW.given.index("role")


def member_row(
    *,
    team,
    member_id: uuid.UUID,
    full_name: str,
    phone: str,
    national_id: str | None,
    birth_year: int | None,
    role: str,
    background: str,
    gender: str | None,
    joined_on: dt.date,
) -> tuple:
    """A new active member of `team` (anything with the team's id, province_id and commune_id) as a row of
    MEMBER_ROW, with the team's province and commune copied on for the scope filters, as member_build does."""
    return (
        member_id,
        team.id,
        team.province_id,
        team.commune_id,
        full_name,
        phone,
        national_id,
        birth_year,
        role,
        background,
        gender,
        joined_on,
    )


def new_team_figures(rows: list[tuple], sizes: SizeRanges, province_id: int) -> tuple[int, str, uuid.UUID | None]:
    """teams_recount's figures for a new team written together with its members (rows of MEMBER_ROW, all
    active): the member count, the size status by the province's range, and the leader."""
    leader = next((row[0] for row in rows if row[_ROLE_AT] == MemberRole.LEADER), None)
    return len(rows), sizes.status(province_id, len(rows)), leader


def member_build(*, team: Team, member_id: uuid.UUID | None = None, **values) -> Member:
    """An unsaved member of `team`, with the team's province and commune copied on for the scope filters."""
    return Member(
        id=member_id or uuid.uuid4(),
        team_id=team.pk,
        province_id=team.province_id,
        commune_id=team.commune_id,
        **values,
    )


# --- The rules of leaving and of losing the leader's login ----------------------------------------


def member_leave_apply(member: Member, day: dt.date) -> int | None:
    """End the membership on this unsaved instance; returns the login to switch off (None if it has none).

    A member who joined after the day leaves on the day they joined, so that no membership ends before it began.
    """
    member.active = False
    member.left_on = max(day, member.joined_on)
    member.version += 1
    return member.user_id


def leader_loses_login(member: Member, values: dict) -> bool:
    """Whether these changes cost the member their leader's login: it belongs to the leader's role and phone."""
    if member.role != MemberRole.LEADER:
        return False
    return values.get("role", member.role) != MemberRole.LEADER or values.get("phone", member.phone) != member.phone


def member_changes_apply(member: Member, values: dict) -> int | None:
    """Apply changes to this unsaved instance; returns the login they cost it (None if none), already detached."""
    loses_login = leader_loses_login(member, values)
    for key, value in values.items():
        setattr(member, key, value)
    member.version += 1
    if not loses_login:
        return None
    login, member.user_id = member.user_id, None
    return login


def team_members_dissolve(*, team, day: dt.date) -> None:
    """teams' dissolve hook: the team's active members leave on that day and their leader logins are switched off."""
    leaving = list(Member.objects.select_for_update().filter(team_id=team.pk, active=True).order_by("pk"))
    logins = [member_leave_apply(member, day) for member in leaving]
    Member.objects.bulk_update(leaving, ["active", "left_on", "version"])
    leader_logins_deactivate(logins)


# --- Validation -------------------------------------------------------------------------------


def validate_full_name(raw: str) -> str:
    """The cleaned full name, or a DomainError on `full_name`."""
    return validate_name(raw, field="full_name", max_length=FULL_NAME_MAX, messages=_FULL_NAME_MESSAGES)


def validate_phone(raw: str) -> str:
    try:
        return canonical_phone(raw)
    except InvalidPhone as exc:
        raise invalid(phone=exc.args[0]) from None


def validate_national_id(raw: str | None) -> str | None:
    if raw is None or str(raw).strip() == "":
        return None
    value = str(raw).strip().replace(" ", "")
    if not (value.isascii() and value.isdigit() and len(value) == 12):
        raise invalid(national_id=_("The citizen ID (CCCD) must have exactly 12 digits."))
    return value


def validate_birth_year(year: int | None) -> int | None:
    if year is None:
        return None
    this_year = timezone.localdate().year
    if year < 1900 or year > this_year:
        raise invalid(birth_year=_("The birth year must be between 1900 and %(year)d.") % {"year": this_year})
    return year


def _taken(actor, holders, in_scope_message: str) -> str | None:
    """The message for a value that active members hold, or None when nobody does.

    The rule is national (one person, one team), so a value held out of the actor's scope is refused
    too, but without saying by whom or that it belongs to a member: the message is the same generic one
    whatever the reason, and the value itself is never repeated.
    """
    if not holders.exists():
        return None
    if actor is not None and Member.objects.visible_to(actor).filter(pk__in=holders.values("pk")).exists():
        return in_scope_message
    return _("This value cannot be registered. If it is right, ask your province admin.")


def _field_errors_for_uniques(*, actor, phone: str, national_id: str | None, role: str, team_id, exclude=None) -> dict:
    errors: dict[str, list] = {}
    others = Member.objects.filter(active=True)
    if exclude:
        others = others.exclude(pk=exclude)
    message = _taken(actor, others.filter(phone=phone), _("This phone number belongs to an active member of a team."))
    if message:
        errors["phone"] = [message]
    if national_id:
        held = others.filter(national_id=national_id)
        message = _taken(actor, held, _("This citizen ID belongs to an active member of a team."))
        if message:
            errors["national_id"] = [message]
    if role == MemberRole.LEADER and others.filter(team_id=team_id, role=MemberRole.LEADER).exists():
        errors["role"] = [_("This team already has an active leader.")]
    return errors


_CONSTRAINT_FIELDS = {
    "member_phone_unique_active": "phone",
    "member_national_id_unique_active": "national_id",
    "member_one_leader_per_team": "role",
}


def _integrity_to_error(exc: IntegrityError, **context) -> DomainError:
    name = constraint_name(exc) or ""
    for constraint, field in _CONSTRAINT_FIELDS.items():
        if constraint in name:
            errors = _field_errors_for_uniques(**context)
            return DomainError(fields={field: errors.get(field, [_("This value is already taken.")])})
    return Conflict(_("The request conflicts with existing data."))


# --- Members ----------------------------------------------------------------------------------


def _team_for_member_write(actor, team_id) -> Team:
    """The team, row-locked, if the actor may write its members (400 on `team` otherwise)."""
    if actor.role not in MemberQuerySet.write_roles:
        raise invalid(team=_("No team with this id in your area."))
    team = Team.objects.visible_to(actor).select_for_update().filter(pk=team_id).first()
    if team is None:
        raise invalid(team=_("No team with this id in your area."))
    if team.status != TeamStatus.ACTIVE:
        raise invalid(team=_("This team is dissolved."))
    return team


def _member_values(data: dict) -> dict:
    values = {
        "full_name": validate_full_name(data["full_name"]),
        "phone": validate_phone(data["phone"]),
        "national_id": validate_national_id(data.get("national_id")),
        "birth_year": validate_birth_year(data.get("birth_year")),
        "role": data.get("role") or MemberRole.MEMBER,
        "background": data.get("background") or "other",
        "gender": data.get("gender") or None,
    }
    return values


def _member_replay(member_id, values: dict, actor) -> Member:
    message = _("A different member already exists with this id.")
    return replay_or_conflict(Member, member_id, values, message, actor=actor)


@transaction.atomic
def member_create(
    *, actor, team_id, member_id: uuid.UUID | None = None, joined_on: dt.date | None = None, **data
) -> tuple[Member, bool]:
    """Add a member to a team. A replay of the same id and content returns it with created=False."""
    team = _team_for_member_write(actor, team_id)
    fields = _member_values(data)
    values = {"team_id": team.pk, **fields}
    if member_id and Member.objects.filter(pk=member_id).exists():
        return _member_replay(member_id, values, actor), False
    joined = joined_on or timezone.localdate()
    if joined > timezone.localdate():
        raise invalid(joined_on=_("The date may not be in the future."))
    context = {
        "actor": actor,
        "phone": values["phone"],
        "national_id": values["national_id"],
        "role": values["role"],
        "team_id": team.pk,
    }
    errors = _field_errors_for_uniques(**context)
    if errors:
        raise DomainError(fields=errors)
    member = member_build(team=team, member_id=member_id, joined_on=joined, **fields)
    try:
        with transaction.atomic():
            member.save(force_insert=True)
    except IntegrityError as exc:
        if "pkey" in (constraint_name(exc) or ""):
            return _member_replay(member.pk, values, actor), False
        raise _integrity_to_error(exc, **context) from None
    teams_recount([team.pk])
    commune_changed(team.commune_id)
    audit_record(actor=actor, action="member.create", obj=member, before=None)
    return member, True


def member_get_for_update(*, actor, member_id) -> Member:
    if actor.role not in MemberQuerySet.write_roles:
        if Member.objects.visible_to(actor).filter(pk=member_id).exists():
            raise DomainError(_("You may not change this member."), code="forbidden", status_code=403)
        raise NotFound(_("Not found."))
    member = Member.objects.writable_by(actor).filter(pk=member_id).first()
    if member is None:
        raise NotFound(_("Not found."))
    # Lock the team first, then the member: every member write takes locks in this order.
    Team.objects.select_for_update().filter(pk=member.team_id).first()
    return Member.objects.select_for_update().get(pk=member_id)


@transaction.atomic
def member_update(*, actor, member_id, version: int | None, **changes) -> Member:
    """Edit a member's details or role. The version must be current."""
    member = member_get_for_update(actor=actor, member_id=member_id)
    if not member.active:
        raise Conflict(_("This member has left the team and cannot be changed."), code="member_left")
    check_version(member, version)
    before = state(member)
    merged = {
        "full_name": member.full_name,
        "phone": member.phone,
        "national_id": member.national_id,
        "birth_year": member.birth_year,
        "role": member.role,
        "background": member.background,
        "gender": member.gender,
    } | {k: v for k, v in changes.items() if k != "joined_on"}
    values = _member_values(merged)
    context = {
        "actor": actor,
        "phone": values["phone"],
        "national_id": values["national_id"],
        "role": values["role"],
        "team_id": member.team_id,
        "exclude": member.pk,
    }
    errors = _field_errors_for_uniques(**context)
    if errors:
        raise DomainError(fields=errors)
    if "joined_on" in changes:
        if changes["joined_on"] > timezone.localdate():
            raise invalid(joined_on=_("The date may not be in the future."))
        member.joined_on = changes["joined_on"]
    login = member_changes_apply(member, values)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise _integrity_to_error(exc, **context) from None
    leader_logins_deactivate([login])
    teams_recount([member.team_id])
    commune_changed(member.commune_id)
    audit_record(actor=actor, action="member.update", obj=member, before=before)
    return member


@transaction.atomic
def member_leave(*, actor, member_id, left_on: dt.date | None = None) -> Member:
    """The member leaves the team: left_on is set, the row is kept for history. A retry changes nothing."""
    member = member_get_for_update(actor=actor, member_id=member_id)
    if not member.active:
        return member
    before = state(member)
    login = member_leave_apply(member, left_on or timezone.localdate())
    member.save()
    leader_logins_deactivate([login])
    teams_recount([member.team_id])
    commune_changed(member.commune_id)
    audit_record(actor=actor, action="member.leave", obj=member, before=before)
    return member


# --- Team leader logins -----------------------------------------------------------------------


def _may_become_leader_login(user: User, leader: Member) -> bool:
    """Whether the existing login of the leader's phone may be (re)set as this leader's login.

    Only a plain team-leader login: this member's own, or a dormant one (deactivated when its member left
    or was demoted, so nobody is using it). Never staff, a superuser or another role: resetting those
    would hand an officer the password of someone else's login.
    """
    if user.role != Role.TEAM_LEADER or user.is_staff or user.is_superuser:
        return False
    return user.pk == leader.user_id or not user.is_active


@transaction.atomic
def team_leader_account_set(*, actor, team_id, password: str | None = None) -> tuple[User, bool, str | None]:
    """Create or reset the login of a team's leader; the login is the leader member's phone.

    actor None means the command line (no scope check). Returns (user, created, generated password or None).
    """
    if actor is None:
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None:
            raise NotFound(_("Not found."))
    else:
        team = team_get_for_update(actor=actor, team_id=team_id)
    if team.status != TeamStatus.ACTIVE:
        raise Conflict(_("This team is dissolved."), code="team_dissolved")
    leader = Member.objects.select_for_update().filter(team=team, active=True, role=MemberRole.LEADER).first()
    if leader is None:
        raise Conflict(_("This team has no active leader. Add a member with the leader role first."), code="no_leader")
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(9)
    else:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise DomainError(fields={"password": exc.messages}) from None
    user = User.objects.select_for_update().filter(phone=leader.phone).first()
    created = user is None
    if user is not None and not _may_become_leader_login(user, leader):
        raise Conflict(_("This phone number already has a login that cannot be used here."), code="phone_has_login")
    if user is None:
        user = User(phone=leader.phone)
    user.role = Role.TEAM_LEADER
    user.province_id = team.province_id
    user.commune_id = team.commune_id
    user.team = team
    user.full_name = leader.full_name
    user.is_active = True
    user.set_password(password)
    user.save()
    Member.objects.filter(user=user).exclude(pk=leader.pk).update(user=None)
    leader.user = user
    leader.save(update_fields=["user", "updated_at"])
    audit_record(
        actor=actor, action="team.leader_account", obj=team, before=None, after={"login": user.pk, "created": created}
    )
    return user, created, generated
