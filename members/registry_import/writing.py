"""Writing the registry import: the whole plan in set-based writes, or nothing, and the import's entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_bulk
from accounts.services import leader_logins_deactivate
from areas.changes import communes_changed
from areas.models import Hamlet
from config.copying import copy_insert
from config.errors import Conflict
from config.spreadsheets import RowError
from members.models import Member
from members.registry_import.parsing import COLUMNS, parse_rows
from members.registry_import.planning import Writes, plan_members, plan_teams
from members.services import teams_recount
from teams.models import Team

BATCH_SIZE = 1000

_TEAM_FIELDS = [
    "name",
    "name_key",
    "name_folded",
    "established_on",
    "decision_number",
    "old_commune",
    "version",
    "updated_at",
]
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


@dataclass
class RegistryImportResult:
    rows: int
    errors: list[RowError]
    # Rows placed in the default successor of a divided old commune (accept_default): to check.
    warnings: list[RowError] = field(default_factory=list)
    hamlets_created: int = 0
    hamlets_updated: int = 0
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
        data.pop("warnings")
        return data


def _write(writes: Writes, actor) -> None:
    try:
        with transaction.atomic():
            copy_insert(Hamlet, writes.hamlets)
            Hamlet.objects.bulk_update(
                writes.hamlets_changed, ["old_commune", "old_commune_source", "updated_at"], batch_size=BATCH_SIZE
            )
            copy_insert(Team, writes.teams_new)
            Team.objects.bulk_update(writes.teams_changed, _TEAM_FIELDS, batch_size=BATCH_SIZE)
            Member.objects.bulk_update(writes.members_released, _MEMBER_FIELDS, batch_size=BATCH_SIZE)
            Member.objects.bulk_update(writes.members_changed, _MEMBER_FIELDS, batch_size=BATCH_SIZE)
            copy_insert(Member, writes.members_new)
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
    audit_bulk(actor=actor, action="import.hamlet_update", objects=writes.hamlets_changed)
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
    accept_default: bool = False,
) -> RegistryImportResult:
    """Import teams and members from (row number, {column: text}) rows: all or nothing, idempotent.

    province_id limits the communes to one province (a province admin's upload); None allows all.
    progress(done, total) is called as rows are checked. A row may name its commune on the 2024 map
    (areas.old_units); accept_default places a divided one's undecided rows in its default successor,
    flagged in `warnings`.
    """
    parsed = parse_rows(rows, province_id, progress, accept_default=accept_default)
    result = RegistryImportResult(rows=len(rows), errors=parsed.errors, warnings=parsed.warnings)
    if not parsed.teams:
        return result
    now = timezone.now()
    writes = Writes()
    file_team_ids = plan_teams(parsed, writes, now)
    counts = plan_members(parsed, writes, file_team_ids, now)
    parsed.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else len(COLUMNS)))
    result.hamlets_created = len(writes.hamlets)
    result.hamlets_updated = len(writes.hamlets_changed)
    result.teams_created = len(writes.teams_new)
    result.teams_updated = len(writes.teams_changed)
    result.teams_unchanged = len(parsed.teams) - result.teams_created - result.teams_updated
    for name, value in counts.items():
        setattr(result, name, value)
    if result.errors or dry_run:
        return result
    _write(writes, actor)
    return result
