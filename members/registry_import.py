"""The registry spreadsheet import: teams and their members from one sheet, all or nothing, idempotent.

The sheet has one row per member, with the team's columns repeated on each of its rows. Teams are
matched on (commune, hamlet, team name) and members on their canonical phone, so importing the same
file again changes nothing. Errors not tied to one row (an unreadable file, missing columns) are
reported on row 0, column "file".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_bulk
from accounts.models import User
from accounts.scoping import Role, scope_of
from accounts.services import leader_logins_deactivate
from areas.changes import communes_changed
from areas.models import Commune, Hamlet
from areas.names import clean_name, fold, name_key
from areas.services import parse_hamlet_kind, validate_hamlet_name
from config.errors import Conflict, DomainError, invalid
from config.spreadsheets import RowError, SheetError, SheetLimits, check_upload, read_rows
from members.models import Background, Gender, ImportJob, ImportStatus, Member, MemberRole
from members.services import teams_recount, validate_birth_year, validate_full_name, validate_phone
from teams.models import SizeStatus, Team, TeamStatus
from teams.services import validate_team_name

logger = logging.getLogger(__name__)

COLUMNS = [
    "commune_code",
    "hamlet_name",
    "hamlet_kind",
    "team_name",
    "established_on",
    "decision_number",
    "full_name",
    "phone",
    "role",
    "background",
    "gender",
    "birth_year",
]
# The other columns may be left out: an absent column keeps what the registry already holds.
REQUIRED_COLUMNS = ["commune_code", "hamlet_name", "team_name", "established_on", "full_name", "phone"]

IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_SUFFIXES = (".csv", ".xlsx")
DECISION_NUMBER_MAX = 100
BATCH_SIZE = 1000
PROGRESS_EVERY = 1000

_TEAM_FIELDS = ["name", "name_key", "name_folded", "established_on", "decision_number", "version", "updated_at"]
_MEMBER_FIELDS = [
    "full_name",
    "role",
    "background",
    "gender",
    "birth_year",
    "active",
    "left_on",
    "user",
    "version",
    "updated_at",
]
_OPTIONAL_MEMBER_COLUMNS = ("role", "background", "gender", "birth_year")


# --- Cell parsing -------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# Five digits only: a bare year such as "2024" must not pass for Excel day 2024 (1905).
_EXCEL_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(raw: str) -> dt.date | None:
    """A date written YYYY-MM-DD, DD/MM/YYYY or as an Excel day number; None when it is none of them."""
    value = (raw or "").strip()
    try:
        if match := _ISO_DATE.match(value):
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DMY_DATE.match(value):
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
        if match := _EXCEL_SERIAL.match(value):
            return _EXCEL_EPOCH + dt.timedelta(days=int(match[1]))
    except ValueError:
        return None
    return None


def _choice_keys(choices) -> dict[str, str]:
    keys: dict[str, str] = {}
    for code, label in choices:
        keys[name_key(code)] = code
        keys[name_key(code.replace("_", " "))] = code
        keys[name_key(label)] = code
    return keys


_ROLES = _choice_keys(MemberRole.choices)
_BACKGROUNDS = _choice_keys(Background.choices)
_GENDERS = _choice_keys(Gender.choices)


def _field_errors(number: int, exc: DomainError, columns: dict[str, str]) -> list[RowError]:
    """A service's DomainError as row errors, its fields renamed to the sheet's columns."""
    return [
        RowError(number, columns.get(name, name), str(message))
        for name, messages in exc.fields.items()
        for message in messages
    ]


# --- The plan -------------------------------------------------------------------------------------


@dataclass
class RegistryImportResult:
    rows: int
    errors: list[RowError]
    hamlets_created: int = 0
    teams_created: int = 0
    teams_updated: int = 0
    teams_unchanged: int = 0
    members_created: int = 0
    members_updated: int = 0
    members_moved: int = 0
    members_unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        """The counts, without the errors."""
        data = asdict(self)
        data.pop("errors")
        return data


@dataclass
class _TeamRow:
    """A team as the file describes it, from the first of its rows."""

    row: int
    commune: Commune
    hamlet_name: str | None
    hamlet_key: str  # "" for a commune-level team
    hamlet_kind: str | None
    name: str
    key: str
    established_on: dt.date
    decision_number: str | None  # None when the column is absent
    team: Team | None = None
    new_hamlet: Hamlet | None = None


@dataclass
class _MemberRow:
    row: int
    team: _TeamRow
    full_name: str
    phone: str
    values: dict = field(default_factory=dict)  # role, background, gender, birth_year: those the sheet has


@dataclass
class _Parsed:
    teams: dict[tuple, _TeamRow]
    members: list[_MemberRow]
    errors: list[RowError]


def _parse_team_columns(number: int, row: dict, communes: dict, province_id: int | None, errors: list) -> dict | None:
    """The team columns of one row, or None (with errors added) when any is invalid."""
    before = len(errors)
    commune = communes.get(row.get("commune_code", ""))
    if commune is None or (province_id is not None and commune.province_id != province_id):
        message = _("No commune with this code in your area.") if province_id else _("No commune with this code.")
        errors.append(RowError(number, "commune_code", message))
    hamlet_name = None
    if clean_name(row.get("hamlet_name", "")):
        try:
            hamlet_name = validate_hamlet_name(row["hamlet_name"])
        except DomainError as exc:
            errors.extend(_field_errors(number, exc, {"name": "hamlet_name"}))
    kind = None
    raw_kind = row.get("hamlet_kind", "")
    if raw_kind and hamlet_name is not None:
        kind = parse_hamlet_kind(raw_kind)
        if kind is None:
            errors.append(RowError(number, "hamlet_kind", _("Unknown hamlet kind.")))
    name = None
    try:
        name = validate_team_name(row.get("team_name", ""))
    except DomainError as exc:
        errors.extend(_field_errors(number, exc, {"name": "team_name"}))
    established_on = parse_date(row.get("established_on", ""))
    if established_on is None:
        errors.append(RowError(number, "established_on", _("Enter the date as YYYY-MM-DD or DD/MM/YYYY.")))
    elif established_on > timezone.localdate():
        errors.append(RowError(number, "established_on", _("The date may not be in the future.")))
    decision_number = None
    if "decision_number" in row:
        decision_number = clean_name(row["decision_number"])
        if len(decision_number) > DECISION_NUMBER_MAX:
            message = _("The decision number may have at most %(max)d characters.") % {"max": DECISION_NUMBER_MAX}
            errors.append(RowError(number, "decision_number", message))
    if len(errors) > before:
        return None
    return {
        "commune": commune,
        "hamlet_name": hamlet_name,
        "hamlet_key": name_key(hamlet_name) if hamlet_name else "",
        "hamlet_kind": kind,
        "name": name,
        "key": name_key(name),
        "established_on": established_on,
        "decision_number": decision_number,
    }


def _parse_choice(number: int, column: str, raw: str, keys: dict, message: str, errors: list) -> str | None:
    code = keys.get(name_key(raw.replace("_", " "))) or keys.get(name_key(raw))
    if code is None:
        # The message never repeats the cell: a phone or CCCD typed in the wrong column must not travel on.
        errors.append(RowError(number, column, message))
    return code


def _parse_member_columns(number: int, row: dict, errors: list) -> dict | None:
    """The member columns of one row, or None (with errors added) when any is invalid."""
    before = len(errors)
    values: dict = {}
    for column, validate in (("full_name", validate_full_name), ("phone", validate_phone)):
        try:
            values[column] = validate(row.get(column, ""))
        except DomainError as exc:
            errors.extend(_field_errors(number, exc, {}))
    if "role" in row:
        values["role"] = MemberRole.MEMBER
        if row["role"]:
            message = _("Unknown member role.")
            values["role"] = _parse_choice(number, "role", row["role"], _ROLES, message, errors)
    if "background" in row:
        values["background"] = Background.OTHER
        if row["background"]:
            message = _("Unknown background.")
            values["background"] = _parse_choice(number, "background", row["background"], _BACKGROUNDS, message, errors)
    if "gender" in row:
        values["gender"] = None
        if row["gender"]:
            message = _("Unknown gender.")
            values["gender"] = _parse_choice(number, "gender", row["gender"], _GENDERS, message, errors)
    if "birth_year" in row:
        values["birth_year"] = None
        if row["birth_year"]:
            try:
                year = float(row["birth_year"])
            except ValueError:
                year = None
            if year is None or not year.is_integer():
                errors.append(RowError(number, "birth_year", _("Enter the birth year as a number, e.g. 1985.")))
            else:
                try:
                    values["birth_year"] = validate_birth_year(int(year))
                except DomainError as exc:
                    errors.extend(_field_errors(number, exc, {}))
    if len(errors) > before:
        return None
    return values


def _same_team_columns(number: int, team: _TeamRow, columns: dict, errors: list) -> None:
    """The team's columns must read the same on each of its rows."""
    message = _("Differs from row %(row)d of the same team.") % {"row": team.row}
    if columns["established_on"] != team.established_on:
        errors.append(RowError(number, "established_on", message))
    if columns["decision_number"] is not None and columns["decision_number"] != team.decision_number:
        errors.append(RowError(number, "decision_number", message))
    if columns["hamlet_kind"]:
        if team.hamlet_kind is None:
            team.hamlet_kind = columns["hamlet_kind"]
        elif columns["hamlet_kind"] != team.hamlet_kind:
            errors.append(RowError(number, "hamlet_kind", message))


def _parse(rows, province_id: int | None, progress: Callable[[int, int], None] | None) -> _Parsed:
    """Check every row on its own and against the other rows of the file (no registry reads but communes)."""
    errors: list[RowError] = []
    codes = {row.get("commune_code", "") for _, row in rows}
    communes = {c.code: c for c in Commune.objects.current().filter(code__in=codes)}
    teams: dict[tuple, _TeamRow] = {}
    slots: dict[tuple, _TeamRow] = {}
    phones: dict[str, int] = {}
    leaders: dict[tuple, int] = {}
    members: list[_MemberRow] = []
    total = len(rows)
    for done, (number, row) in enumerate(rows, start=1):
        before = len(errors)
        columns = _parse_team_columns(number, row, communes, province_id, errors)
        values = _parse_member_columns(number, row, errors)
        team = None
        if columns is not None:
            key = (columns["commune"].pk, columns["hamlet_key"], columns["key"])
            team = teams.get(key)
            if team is not None:
                _same_team_columns(number, team, columns, errors)
            else:
                slot = (columns["commune"].pk, columns["hamlet_key"])
                other = slots.get(slot)
                if other is not None:
                    message = (
                        _("Row %(row)d names another team for this hamlet; a hamlet has one active team.")
                        if columns["hamlet_key"]
                        else _("Row %(row)d names another commune-level team for this commune; a commune has one.")
                    )
                    errors.append(RowError(number, "team_name", message % {"row": other.row}))
                else:
                    team = teams[key] = slots[slot] = _TeamRow(row=number, **columns)
        if values is not None:
            first = phones.get(values["phone"])
            if first is not None:
                errors.append(RowError(number, "phone", _("Same phone number as row %(row)d.") % {"row": first}))
            else:
                phones[values["phone"]] = number
            if team is not None and values.get("role") == MemberRole.LEADER:
                team_key = (team.commune.pk, team.hamlet_key, team.key)
                if team_key in leaders:
                    message = _("Row %(row)d is already this team's leader; a team has at most one leader.")
                    errors.append(RowError(number, "role", message % {"row": leaders[team_key]}))
                else:
                    leaders[team_key] = number
        if team is not None and values is not None and len(errors) == before:
            full_name, phone = values.pop("full_name"), values.pop("phone")
            members.append(_MemberRow(row=number, team=team, full_name=full_name, phone=phone, values=values))
        if progress and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return _Parsed(teams=teams, members=members, errors=errors)


@dataclass
class _Writes:
    hamlets: list[Hamlet] = field(default_factory=list)
    teams_new: list[Team] = field(default_factory=list)
    teams_changed: list[Team] = field(default_factory=list)
    # Released first (leavers and demoted leaders), so that no unique index sees two active rows at once.
    members_released: list[Member] = field(default_factory=list)
    members_changed: list[Member] = field(default_factory=list)
    members_new: list[Member] = field(default_factory=list)
    logins_off: list[int] = field(default_factory=list)
    recount: set = field(default_factory=set)
    communes: set = field(default_factory=set)


def _plan_teams(parsed: _Parsed, writes: _Writes, now) -> set:
    """Match the file's teams to the registry (locking them), plan the new hamlets and team changes."""
    teams = list(parsed.teams.values())
    commune_ids = {t.commune.pk for t in teams}
    hamlets = {
        (h.commune_id, h.name_key): h
        for h in Hamlet.objects.select_for_update()
        .filter(commune_id__in=commune_ids, name_key__in={t.hamlet_key for t in teams if t.hamlet_key}, active=True)
        .order_by("pk")
    }
    # Every active team of these communes, locked in one order: both the matches and the occupants
    # of a hamlet or commune slot must hold still until the import commits.
    active = list(
        Team.objects.select_for_update().filter(commune_id__in=commune_ids, status=TeamStatus.ACTIVE).order_by("pk")
    )
    by_key = {(t.commune_id, t.hamlet_id, t.name_key): t for t in active}
    by_slot = {(t.commune_id, t.hamlet_id): t for t in active}
    for t in teams:
        hamlet = hamlets.get((t.commune.pk, t.hamlet_key)) if t.hamlet_key else None
        if t.hamlet_key and hamlet is None:
            if t.hamlet_kind is None:
                message = _("This hamlet does not exist yet; give its kind so that it can be created.")
                parsed.errors.append(RowError(t.row, "hamlet_kind", message))
                continue
            t.new_hamlet = Hamlet(
                commune=t.commune,
                province_id=t.commune.province_id,
                name=t.hamlet_name,
                name_key=t.hamlet_key,
                kind=t.hamlet_kind,
            )
            writes.hamlets.append(t.new_hamlet)
        else:
            hamlet_id = hamlet.pk if hamlet else None
            t.team = by_key.get((t.commune.pk, hamlet_id, t.key))
            occupant = by_slot.get((t.commune.pk, hamlet_id))
            if t.team is None and occupant is not None:
                message = (
                    _("This hamlet already has an active team.")
                    if hamlet
                    else _("This commune already has an active commune-level team.")
                )
                parsed.errors.append(RowError(t.row, "team_name", message))
                continue
        if t.team is None:
            t.team = Team(
                id=uuid.uuid4(),
                province_id=t.commune.province_id,
                commune=t.commune,
                hamlet=t.new_hamlet or hamlet,
                name=t.name,
                name_key=t.key,
                name_folded=fold(t.name),
                established_on=t.established_on,
                decision_number=t.decision_number or "",
                size_status=SizeStatus.UNDER,
            )
            writes.teams_new.append(t.team)
            writes.recount.add(t.team.pk)
            writes.communes.add(t.commune.pk)
            continue
        changes = {"name": t.name, "name_folded": fold(t.name), "established_on": t.established_on}
        if t.decision_number is not None:
            changes["decision_number"] = t.decision_number
        if any(getattr(t.team, k) != v for k, v in changes.items()):
            for k, v in changes.items():
                setattr(t.team, k, v)
            t.team.version += 1
            t.team.updated_at = now
            writes.teams_changed.append(t.team)
            writes.communes.add(t.commune.pk)
    new_ids = {team.pk for team in writes.teams_new}
    return {t.team.pk for t in teams if t.team is not None and t.team.pk not in new_ids}


def _plan_members(parsed: _Parsed, writes: _Writes, file_team_ids: set, now) -> dict:
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
            demoted = existing.role == MemberRole.LEADER and values.get("role", existing.role) != MemberRole.LEADER
            for k, v in values.items():
                setattr(existing, k, v)
            if demoted and existing.user_id:
                # The login belongs to the leader; a demoted leader loses it, as in member_update.
                writes.logins_off.append(existing.user_id)
                existing.user_id = None
            existing.version += 1
            existing.updated_at = now
            (writes.members_released if demoted else writes.members_changed).append(existing)
            writes.recount.add(team.pk)
            writes.communes.add(existing.commune_id)
            counts["members_updated"] += 1
            continue
        base = {}
        if existing is not None:
            # A move between two teams of the file: the old membership ends, as in member_leave, and the
            # person joins the new team with what the registry knows of them that the sheet does not say.
            # The role stays behind: leading one team says nothing about the next.
            existing.active = False
            existing.left_on = max(today, existing.joined_on)
            existing.version += 1
            existing.updated_at = now
            writes.members_released.append(existing)
            if existing.user_id:
                writes.logins_off.append(existing.user_id)
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
            Member(
                team=team,
                province_id=team.province_id,
                commune_id=team.commune_id,
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


def _write(writes: _Writes, actor) -> None:
    try:
        with transaction.atomic():
            Hamlet.objects.bulk_create(writes.hamlets, batch_size=BATCH_SIZE)
            Team.objects.bulk_create(writes.teams_new, batch_size=BATCH_SIZE)
            Team.objects.bulk_update(writes.teams_changed, _TEAM_FIELDS, batch_size=BATCH_SIZE)
            Member.objects.bulk_update(writes.members_released, _MEMBER_FIELDS, batch_size=BATCH_SIZE)
            Member.objects.bulk_update(writes.members_changed, _MEMBER_FIELDS, batch_size=BATCH_SIZE)
            Member.objects.bulk_create(writes.members_new, batch_size=BATCH_SIZE)
    except IntegrityError:
        # Only a concurrent write can get here: every rule was checked under the teams' locks.
        raise Conflict(
            _("The registry changed while the file was being imported; nothing was written. Import it again."),
            code="import_conflict",
        ) from None
    leader_logins_deactivate(writes.logins_off)
    teams_recount(writes.recount)
    communes_changed(writes.communes)
    # The import's rows are audited in bulk: one entry per written row (after state; the before state of
    # an updated row is not kept by the bulk path).
    audit_bulk(actor=actor, action="import.hamlet_create", objects=writes.hamlets)
    audit_bulk(actor=actor, action="import.team_create", objects=writes.teams_new)
    audit_bulk(actor=actor, action="import.team_update", objects=writes.teams_changed)
    audit_bulk(actor=actor, action="import.member_leave", objects=writes.members_released)
    audit_bulk(actor=actor, action="import.member_update", objects=writes.members_changed)
    audit_bulk(actor=actor, action="import.member_create", objects=writes.members_new)


@transaction.atomic
def registry_import(
    *,
    rows: list[tuple[int, dict]],
    province_id: int | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    actor=None,
) -> RegistryImportResult:
    """Import teams and members from (row number, {column: text}) rows: all or nothing, idempotent.

    province_id limits the communes to one province (a province admin's upload); None allows all.
    progress(done, total) is called as rows are checked.
    """
    parsed = _parse(rows, province_id, progress)
    result = RegistryImportResult(rows=len(rows), errors=parsed.errors)
    if not parsed.teams:
        return result
    now = timezone.now()
    writes = _Writes()
    file_team_ids = _plan_teams(parsed, writes, now)
    counts = _plan_members(parsed, writes, file_team_ids, now)
    parsed.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else len(COLUMNS)))
    result.hamlets_created = len(writes.hamlets)
    result.teams_created = len(writes.teams_new)
    result.teams_updated = len(writes.teams_changed)
    result.teams_unchanged = len(parsed.teams) - result.teams_created - result.teams_updated
    for name, value in counts.items():
        setattr(result, name, value)
    if result.errors or dry_run:
        return result
    _write(writes, actor)
    return result


# --- Jobs (POST /api/v1/imports/ and the Celery task) --------------------------------------------


def _progress_key(job_id) -> str:
    return f"members:import:{job_id}:processed"


def import_job_processed(job: ImportJob) -> int:
    """Rows checked so far: live from the cache while the job runs, from the job once it is done."""
    if job.status != ImportStatus.RUNNING:
        return job.processed
    try:
        return int(cache.get(_progress_key(job.pk), job.processed))
    except Exception:  # the cache is a nicety; a Redis outage must not break the status page
        return job.processed


def _record_progress(job_id, done: int) -> None:
    try:
        cache.set(_progress_key(job_id), done, timeout=settings.CELERY_TASK_TIME_LIMIT)
    except Exception as exc:  # best effort, as above
        logger.warning("could not record import progress: %s", type(exc).__name__)


@transaction.atomic
def import_job_create(*, actor, upload) -> tuple[ImportJob, bool]:
    """Store an uploaded registry file as a pending job and enqueue it; the same file again returns its job."""
    scope = scope_of(actor)
    if scope.role != Role.PROVINCE_ADMIN or scope.is_empty:
        raise DomainError(_("Only a province admin imports the registry."), code="forbidden", status_code=403)
    filename = Path(upload.name or "").name
    if not filename.lower().endswith(IMPORT_SUFFIXES):
        raise invalid(file=_("Upload a .csv or .xlsx file."))
    if upload.size > IMPORT_MAX_BYTES:
        message = _("The file may be at most %(mb)d MB.") % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)}
        raise DomainError(fields={"file": [message]}, code="too_large", status_code=413)
    content = upload.read()
    # What can be checked cheaply is refused here, before anything is stored: the type, the encoding,
    # and for XLSX the zip's directory (part count, unpacked sizes) and that it names a worksheet.
    check_upload(content, filename, SheetLimits.from_settings())
    checksum = hashlib.sha256(content).hexdigest()
    # One upload at a time per user, so that a double-clicked upload cannot create two jobs.
    list(User.objects.select_for_update().filter(pk=actor.pk).values_list("pk"))
    existing = (
        ImportJob.objects.filter(created_by=actor, checksum=checksum)
        .exclude(status=ImportStatus.FAILED)
        .defer("content")
        .first()
    )
    if existing is not None:
        return existing, False
    job = ImportJob.objects.create(
        province_id=scope.province_id,
        created_by=actor,
        filename=filename[-255:],
        checksum=checksum,
        content=content,
    )
    from members.tasks import run_import  # tasks imports this module

    transaction.on_commit(lambda: run_import.delay(str(job.pk)))
    return job, True


@contextmanager
def _job_lock(job_id: uuid.UUID) -> Iterator[bool]:
    """A session lock on the job, so that a duplicate delivery does not run it while it runs."""
    if connection.vendor != "postgresql":
        yield True  # the embedded run executes tasks in-process, one at a time
        return
    key = job_id.int >> 65  # 63 bits: a positive bigint
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


_UNFINISHED = (ImportStatus.PENDING, ImportStatus.RUNNING)


class _JobTaken(Exception):
    """The job was finished elsewhere (failed as stuck) while this run worked on it."""


def _finish(job: ImportJob, status: str, errors: list[RowError], summary: dict | None = None) -> bool:
    """Record the outcome unless the job is already finished; False when it was (nothing is changed)."""
    updated = ImportJob.objects.filter(pk=job.pk, status__in=_UNFINISHED).update(
        status=status,
        errors=[e.as_dict() for e in errors],
        summary=summary or {},
        processed=job.total,
        finished_at=timezone.now(),
    )
    return updated == 1


def _general_errors(exc: DomainError) -> list[RowError]:
    if isinstance(exc, SheetError):
        return [exc.as_row_error()]
    errors = [RowError(0, "file", str(m)) for messages in exc.fields.values() for m in messages]
    return errors or [RowError(0, "file", str(exc.message or exc.code))]


def import_job_run(*, job_id: str) -> ImportJob | None:
    """Run a registry import job; a job that is finished, missing or running elsewhere is left alone.

    The outcome is written only while the job is unfinished, in the transaction of the import's writes:
    a job that import_jobs_fail_stuck failed meanwhile keeps its failure, and the writes roll back.
    """
    try:
        job_uuid = uuid.UUID(str(job_id))
    except ValueError:
        return None
    with _job_lock(job_uuid) as locked:
        if not locked:
            return None
        job = ImportJob.objects.filter(pk=job_uuid).first()
        if job is None or job.status not in _UNFINISHED:
            return job
        try:
            _run(job)
        except (OperationalError, InterfaceError):
            raise  # transient: the task retries, and the job is still not finished
        except _JobTaken:
            logger.warning("import job %s was finished elsewhere; its run was rolled back", job.pk)
        except Exception as exc:
            # Not re-raised: the job records the failure, and in the embedded mode the task runs inside
            # the upload's request, which must not become a 500.
            logger.exception("import job %s failed: %s", job.pk, type(exc).__name__)
            _finish(job, ImportStatus.FAILED, [RowError(0, "file", _("The import failed; nothing was written."))])
        return ImportJob.objects.defer("content").get(pk=job.pk)


def _run(job: ImportJob) -> None:
    job.started_at = timezone.now()
    try:
        _, reader = read_rows(
            bytes(job.content), job.filename, REQUIRED_COLUMNS, limits=SheetLimits.from_settings(), known=COLUMNS
        )
        rows = list(reader)
    except DomainError as exc:
        _finish(job, ImportStatus.FAILED, _general_errors(exc))
        return
    job.total = len(rows)
    started = ImportJob.objects.filter(pk=job.pk, status__in=_UNFINISHED).update(
        status=ImportStatus.RUNNING, started_at=job.started_at, total=job.total, processed=0
    )
    if not started:
        raise _JobTaken
    try:
        with transaction.atomic():
            result = registry_import(
                rows=rows,
                province_id=job.province_id,
                progress=lambda done, _total: _record_progress(job.pk, done),
                actor=job.created_by,
            )
            status = ImportStatus.SUCCEEDED if result.ok else ImportStatus.FAILED
            if not _finish(job, status, result.errors, result.summary()):
                raise _JobTaken  # rolls the import's writes back with it
    except DomainError as exc:
        _finish(job, ImportStatus.FAILED, _general_errors(exc))


# --- Stuck jobs (the members.fail_stuck_imports beat task) ---------------------------------------


def import_jobs_fail_stuck(*, now: dt.datetime | None = None) -> int:
    """Fail the jobs still pending or running past the task's hard time limit plus a margin, in one UPDATE.

    No worker can still be running them (Celery killed it at the hard limit), so they would otherwise
    wait forever. A run that is somehow still alive finds the job failed and rolls its writes back.
    Returns how many jobs were failed.
    """
    now = now or timezone.now()
    age = settings.CELERY_TASK_TIME_LIMIT + settings.IMPORT_STUCK_MARGIN_SECONDS
    cutoff = now - dt.timedelta(seconds=age)
    message = _(
        "The import stopped without finishing within %(minutes)d minutes; nothing was written. Upload the file again."
    ) % {"minutes": math.ceil(age / 60)}
    return (
        ImportJob.objects.filter(status__in=_UNFINISHED)
        .filter(Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff))
        .update(status=ImportStatus.FAILED, errors=[RowError(0, "file", message).as_dict()], finished_at=now)
    )
