"""Reading the registry sheet: each row checked on its own and against the other rows of the file.

Nothing here reads the registry but the communes; matching the rows to teams and members is the plan's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Commune, Hamlet
from areas.names import clean_name, name_key
from areas.old_units import OLD_COLUMNS, Place, location_columns_missing, place_rows
from areas.services import parse_hamlet_kind, validate_hamlet_name
from config.errors import DomainError
from config.spreadsheets import RowError, SheetError, SheetLimits, read_rows
from members.models import Background, Gender, MemberRole
from members.services import validate_birth_year, validate_full_name, validate_phone
from teams.models import Team
from teams.services import validate_team_name

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
# The other columns may be left out: an absent column keeps what the registry already holds. The commune is
# commune_code, or one commune of the 2024 map (areas.old_units.OLD_COLUMNS), checked once the header is read.
REQUIRED_COLUMNS = ["hamlet_name", "team_name", "established_on", "full_name", "phone"]
KNOWN_COLUMNS = [*COLUMNS, *OLD_COLUMNS]


def read_registry_rows(content: bytes, filename: str, *, limits: SheetLimits | None = None):
    """The sheet's header and rows (as config.spreadsheets.read_rows), once the header names each row's commune."""
    header, rows = read_rows(content, filename, REQUIRED_COLUMNS, limits=limits, known=KNOWN_COLUMNS)
    if message := location_columns_missing(header):
        raise SheetError(message)
    return header, rows


DECISION_NUMBER_MAX = 100
PROGRESS_EVERY = 1000


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


def field_errors(number: int, exc: DomainError, columns: dict[str, str]) -> list[RowError]:
    """A service's DomainError as row errors, its fields renamed to the sheet's columns."""
    return [
        RowError(number, columns.get(name, name), str(message))
        for name, messages in exc.fields.items()
        for message in messages
    ]


@dataclass
class TeamRow:
    """A team as the file describes it, from the first of its rows."""

    row: int
    commune: Commune
    old_commune: Commune | None  # the commune of the 2024 map the file named, if it named one
    hamlet_name: str | None
    hamlet_key: str  # "" for a commune-level team
    hamlet_kind: str | None
    name: str
    key: str  # the name's matching key, as teams stores it in name_key
    established_on: dt.date
    decision_number: str | None  # None when the column is absent
    hamlet: Hamlet | None = None  # the registry's hamlet of that name, once planned
    new_hamlet: Hamlet | None = None
    team: Team | None = None


@dataclass
class MemberRow:
    row: int
    team: TeamRow
    full_name: str
    phone: str
    values: dict = field(default_factory=dict)  # role, background, gender, birth_year: those the sheet has


@dataclass
class Parsed:
    teams: dict[tuple, TeamRow]
    members: list[MemberRow]
    errors: list[RowError]
    warnings: list[RowError] = field(default_factory=list)


def _area_message(province_id: int | None) -> str:
    return _("No commune with this code in your area.") if province_id else _("No commune with this code.")


def _parse_team_columns(
    number: int, row: dict, place: Place | None, province_id: int | None, errors: list
) -> dict | None:
    """The team columns of one row, or None (with errors added) when any is invalid.

    place: where areas.old_units placed the row (None: it could not, and said why).
    """
    before = len(errors)
    commune = place.commune if place else None
    if place is not None and province_id is not None and commune.province_id != province_id:
        errors.append(RowError(number, place.column, _area_message(province_id)))
    hamlet_name = None
    if clean_name(row.get("hamlet_name", "")):
        try:
            hamlet_name = validate_hamlet_name(row["hamlet_name"])
        except DomainError as exc:
            errors.extend(field_errors(number, exc, {"name": "hamlet_name"}))
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
        errors.extend(field_errors(number, exc, {"name": "team_name"}))
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
    if len(errors) > before or place is None:  # an unplaced row was reported when it was placed
        return None
    return {
        "commune": commune,
        "old_commune": place.old,
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
            errors.extend(field_errors(number, exc, {}))
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
                    errors.extend(field_errors(number, exc, {}))
    if len(errors) > before:
        return None
    return values


def _same_team_columns(number: int, team: TeamRow, columns: dict, errors: list) -> None:
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


def parse_rows(
    rows, province_id: int | None, progress: Callable[[int, int], None] | None, *, accept_default: bool = False
) -> Parsed:
    """Check every row on its own and against the other rows of the file (no registry reads but the units,
    and the hamlets that decide the rows of a divided old commune)."""
    placed = place_rows(
        rows, hamlet_column="hamlet_name", accept_default=accept_default, current_message=_area_message(province_id)
    )
    errors: list[RowError] = list(placed.errors)
    teams: dict[tuple, TeamRow] = {}
    slots: dict[tuple, TeamRow] = {}
    phones: dict[str, int] = {}
    leaders: dict[tuple, int] = {}
    members: list[MemberRow] = []
    total = len(rows)
    for done, (number, row) in enumerate(rows, start=1):
        before = len(errors)
        columns = _parse_team_columns(number, row, placed.places.get(number), province_id, errors)
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
                    team = teams[key] = slots[slot] = TeamRow(row=number, **columns)
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
            members.append(MemberRow(row=number, team=team, full_name=full_name, phone=phone, values=values))
        if progress and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return Parsed(teams=teams, members=members, errors=errors, warnings=placed.warnings)
