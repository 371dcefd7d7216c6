"""Planning the registry import: the parsed rows matched to the registry under locks, as rows to write.

Every rule is asked of its owner: which team holds a slot (teams), what a new hamlet or team looks like
(areas, teams), what leaving and a leader's demotion do to a member (members). The plan only decides
which rows change and collects them for the set-based writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Hamlet
from areas.services import hamlet_build_placed, hamlet_record_old_commune, sole_predecessors
from config.errors import DomainError
from config.spreadsheets import RowError
from members.models import Member, MemberRole
from members.registry_import.parsing import Parsed, TeamRow
from members.services import leader_loses_login, member_build, member_changes_apply, member_leave_apply
from teams.models import Team
from teams.services import (
    team_build,
    team_name_fields,
    team_occupied_message,
    team_record_old_commune,
    teams_occupying,
)


@dataclass
class Writes:
    hamlets: list[Hamlet] = field(default_factory=list)
    hamlets_changed: list[Hamlet] = field(default_factory=list)  # an old commune recorded
    teams_new: list[Team] = field(default_factory=list)
    teams_changed: list[Team] = field(default_factory=list)
    # Released first (leavers and demoted leaders), so that no unique index sees two active rows at once.
    members_released: list[Member] = field(default_factory=list)
    members_changed: list[Member] = field(default_factory=list)
    members_new: list[Member] = field(default_factory=list)
    logins_off: list[int] = field(default_factory=list)
    recount: set = field(default_factory=set)
    communes: set = field(default_factory=set)


def _slot(t: TeamRow) -> tuple[int, int | None]:
    return (t.commune.pk, t.hamlet.pk if t.hamlet else None)


def plan_teams(parsed: Parsed, writes: Writes, now) -> set:
    """Match the file's teams to the registry (locking them), plan the new hamlets and team changes."""
    teams = list(parsed.teams.values())
    hamlets = {
        (h.commune_id, h.name_key): h
        for h in Hamlet.objects.select_for_update(of=("self",))
        .select_related("old_commune")
        .filter(
            commune_id__in={t.commune.pk for t in teams},
            name_key__in={t.hamlet_key for t in teams if t.hamlet_key},
            active=True,
        )
        .order_by("pk")
    }
    certain = sole_predecessors({t.commune.pk for t in teams if t.hamlet_key})
    for t in teams:
        t.hamlet = hamlets.get((t.commune.pk, t.hamlet_key)) if t.hamlet_key else None
        if t.hamlet is not None:
            try:
                if hamlet_record_old_commune(t.hamlet, t.old_commune):
                    t.hamlet.updated_at = now
                    writes.hamlets_changed.append(t.hamlet)
                    writes.communes.add(t.commune.pk)
            except DomainError as exc:
                parsed.errors.append(RowError(t.row, "hamlet_name", exc.fields["name"][0]))
    # The teams holding the file's slots, locked in one order: a team the file matches, and the occupant
    # of a slot the file wants, must hold still until the import commits.
    occupants = teams_occupying({_slot(t) for t in teams if t.hamlet or not t.hamlet_key}, lock=True)
    for t in teams:
        if t.hamlet_key and t.hamlet is None:
            if t.hamlet_kind is None:
                message = _("This hamlet does not exist yet; give its kind so that it can be created.")
                parsed.errors.append(RowError(t.row, "hamlet_kind", message))
                continue
            t.new_hamlet = hamlet_build_placed(
                commune=t.commune,
                name=t.hamlet_name,
                kind=t.hamlet_kind,
                key=t.hamlet_key,
                old=t.old_commune,
                certain=certain,
            )
            writes.hamlets.append(t.new_hamlet)
        else:
            t.team = occupants.get(_slot(t))
            if t.team is not None and t.team.name_key != t.key:
                t.team = None
                parsed.errors.append(RowError(t.row, "team_name", team_occupied_message(hamlet_level=bool(t.hamlet))))
                continue
        if t.team is None:
            t.team = team_build(
                commune=t.commune,
                hamlet=t.new_hamlet or t.hamlet,
                name=t.name,
                established_on=t.established_on,
                decision_number=t.decision_number or "",
                old_commune=t.old_commune,
            )
            writes.teams_new.append(t.team)
            writes.recount.add(t.team.pk)
            writes.communes.add(t.commune.pk)
            continue
        names = team_name_fields(t.name)
        changes = {"name": names["name"], "name_folded": names["name_folded"], "established_on": t.established_on}
        if t.decision_number is not None:
            changes["decision_number"] = t.decision_number
        try:
            moved = team_record_old_commune(t.team, t.old_commune)
        except DomainError as exc:
            parsed.errors.append(RowError(t.row, "team_name", exc.fields["name"][0]))
            continue
        if moved or any(getattr(t.team, k) != v for k, v in changes.items()):
            for k, v in changes.items():
                setattr(t.team, k, v)
            t.team.version += 1
            t.team.updated_at = now
            writes.teams_changed.append(t.team)
            writes.communes.add(t.commune.pk)
    new_ids = {team.pk for team in writes.teams_new}
    return {t.team.pk for t in teams if t.team is not None and t.team.pk not in new_ids}


def plan_members(parsed: Parsed, writes: Writes, file_team_ids: set, now) -> dict:
    """Match the file's members to the registry by phone (locking them), plan creates, updates and moves."""
    new_team_ids = {team.pk for team in writes.teams_new}
    counts = {"members_created": 0, "members_updated": 0, "members_moved": 0, "members_unchanged": 0}
    phones = {m.phone for m in parsed.members}
    current = {
        m.phone: m for m in Member.objects.select_for_update().filter(active=True, phone__in=phones).order_by("pk")
    }
    leaders_kept: dict = {}
    for leader in Member.objects.filter(active=True, role=MemberRole.LEADER, team_id__in=file_team_ids):
        if leader.phone not in phones:
            leaders_kept[leader.team_id] = leader
    today = timezone.localdate()
    for m in parsed.members:
        team = m.team.team
        if team is None:
            continue  # the team has an error of its own
        existing = current.get(m.phone)
        if existing is not None and existing.team_id not in file_team_ids:
            message = _("This phone number belongs to an active member of a team.")
            parsed.errors.append(RowError(m.row, "phone", message))
            continue
        if m.values.get("role") == MemberRole.LEADER and team.pk in leaders_kept:
            parsed.errors.append(RowError(m.row, "role", _("This team already has an active leader.")))
            continue
        if existing is not None and existing.team_id == team.pk:
            values = {"full_name": m.full_name, **m.values}
            if all(getattr(existing, k) == v for k, v in values.items()):
                counts["members_unchanged"] += 1
                continue
            released = leader_loses_login(existing, values)
            login = member_changes_apply(existing, values)
            if login:
                writes.logins_off.append(login)
            existing.updated_at = now
            (writes.members_released if released else writes.members_changed).append(existing)
            writes.recount.add(team.pk)
            writes.communes.add(existing.commune_id)
            counts["members_updated"] += 1
            continue
        base = {}
        if existing is not None:
            # A move between two teams of the file: the old membership ends, and the person joins the new
            # team with what the registry knows of them that the sheet does not say. The role stays behind:
            # leading one team says nothing about the next.
            login = member_leave_apply(existing, today)
            if login:
                writes.logins_off.append(login)
            existing.updated_at = now
            writes.members_released.append(existing)
            writes.recount.add(existing.team_id)
            writes.communes.add(existing.commune_id)
            base = {
                "national_id": existing.national_id,
                "birth_year": existing.birth_year,
                "background": existing.background,
                "gender": existing.gender,
            }
            counts["members_moved"] += 1
        else:
            counts["members_created"] += 1
        writes.members_new.append(
            member_build(
                team=team,
                full_name=m.full_name,
                phone=m.phone,
                # Members of a team the import creates joined on its decision; others join today.
                joined_on=m.team.established_on if team.pk in new_team_ids else today,
                **(base | m.values),
            )
        )
        writes.recount.add(team.pk)
        writes.communes.add(team.commune_id)
    return counts
