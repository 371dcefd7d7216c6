"""Reads of teams and the team-size policy, scoped to the caller."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from django.db import connections, router
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from accounts.scoping import COMMUNE, NATION, PROVINCE, Role, scope_of
from areas.models import Hamlet, Province
from config.conditional import scalar
from config.filtering import filtered
from config.statements import Compiled, CompiledPage
from config.timestamps import TimestampText
from teams.filters import TeamFilter
from teams.models import SizePolicy, Team, TeamCount, TeamStatus

# What teams.apis.TeamOutput reads of a team and of its related rows.
TEAM_COLUMNS = (
    "id",
    "province",
    "commune",
    "hamlet",
    "leader",
    "name",
    "established_on",
    "decision_number",
    "status",
    "dissolved_on",
    "member_count",
    "size_status",
    "version",
    "created_at",
    "updated_at",
)
RELATED_COLUMNS = ("province__code", "commune__code", "commune__name", "hamlet__name", "leader__full_name")


def team_list(*, user, filters: dict | None = None) -> QuerySet[Team]:
    """Teams the user may see, with the related rows the API prints, in a stable order."""
    qs = (
        Team.objects.visible_to(user)
        .select_related("province", "commune", "hamlet", "leader")
        # Only the columns the API prints: every related row's full width cost more than the page's query
        # (decoding ~300 timestamps a page of 50; docs/performance.md).
        .only(*TEAM_COLUMNS, *RELATED_COLUMNS)
        # Unit ids follow code order (the loader inserts by code); ordering by the ids lets the
        # (province, commune, name_key, id) index serve the page without a sort.
        .order_by("province_id", "commune_id", "name_key", "id")
    )
    # TeamFilter narrows only by what is asked (no default filter): without a filter, no FilterSet to build
    # (its form deep-copies every field, ~2 ms a request).
    return filtered(TeamFilter, filters, qs) if filters else qs


# Scopes of whole units (not a team leader's one team), and the scope's attribute that holds the unit's id.
_UNIT_SCOPES = {NATION: None, PROVINCE: "province_id", COMMUNE: "commune_id"}
# Where the unit's id goes while the statements of _UNIT_SCOPES are compiled: an id no unit has.
_STAND_IN = -2_000_000_011
_COMPILED: dict[tuple, Compiled] = {}


def team_list_page(*, user, filters: dict | None = None) -> tuple[QuerySet | CompiledPage, Callable[[], int]]:
    """The list's rows (TEAM_LIST_VALUES, sliced by the paginator) and how to count them.

    When only the scope narrows the list (no filter; the ministry, a province admin, a commune officer), both
    come from statements compiled once per scope level (config.statements): building and compiling the page's
    queryset took longer than PostgreSQL took to run it. The count sums the per-commune counts the triggers keep
    (teams.models.TeamCount), where counting the teams read all 81,415 of them for the nation. Otherwise the
    rows are team_list_values(team_list(...)) and the teams are counted.
    """
    scope = scope_of(user)
    if filters or scope.level not in _UNIT_SCOPES:
        teams = team_list(user=user, filters=filters)
        return team_list_values(teams), teams.count
    unit = _UNIT_SCOPES[scope.level]
    value = None if unit is None else getattr(scope, unit)
    page = _compiled(scope.level, "page", lambda stand_in: team_list_values(team_list(user=stand_in)))
    count = _compiled(
        scope.level, "count", lambda stand_in: scalar(TeamCount.objects.visible_to(stand_in), Coalesce(Sum("teams"), 0))
    )
    return CompiledPage(page, value), lambda: count.rows(value)[0][0]


def _compiled(level: str, name: str, build: Callable[[object], QuerySet]) -> Compiled:
    """The statement `build` makes for a stand-in requester of this scope level, compiled on the first call."""
    key = (level, name, router.db_for_read(Team))
    statement = _COMPILED.get(key)
    if statement is None:
        role = {NATION: Role.MINISTRY, PROVINCE: Role.PROVINCE_ADMIN, COMMUNE: Role.COMMUNE_OFFICER}[level]
        stand_in = SimpleNamespace(
            is_authenticated=True, is_active=True, role=role, province_id=_STAND_IN, commune_id=_STAND_IN, team_id=None
        )
        if scope_of(stand_in).level != level:
            raise RuntimeError(f"the stand-in of {level} has another scope")
        statement = _COMPILED[key] = Compiled(build(stand_in), _STAND_IN, expected=0 if level == NATION else 1)
    return statement


# The list page's columns, in order (teams.apis.team_list_rows reads them so).
TEAM_LIST_VALUES = (
    "id",
    "province_code",
    "commune_code",
    "commune_name",
    "hamlet_id",
    "hamlet_name",
    "name",
    "established_on",
    "decision_number",
    "status",
    "dissolved_on",
    "leader_id",
    "leader_name",
    "member_count",
    "size_status",
    "version",
    "created_at",
    "updated_at",
)


def _of_related(relation: str, column: str = "name") -> Subquery:
    """One column of the row a team's foreign key `relation` points at, as a scalar sub-query."""
    model = Team._meta.get_field(relation).related_model
    return Subquery(model.objects.filter(pk=OuterRef(f"{relation}_id")).order_by().values(column)[:1])


def team_list_values(teams: QuerySet[Team]) -> QuerySet:
    """`teams` (from team_list) as rows of TEAM_LIST_VALUES. The related rows' names are read by one scalar
    sub-query each, run for the page's rows only: PostgreSQL planned the five-table join of team_list for
    about 1 ms on every request, longer than it ran it (docs/performance.md). On PostgreSQL the timestamps
    come as the API's text (config.timestamps.TimestampText); elsewhere as datetimes, formatted by the API."""
    columns = TEAM_LIST_VALUES
    stamps = {}
    if connections[teams.db].vendor == "postgresql":
        stamps = {"created_text": TimestampText("created_at"), "updated_text": TimestampText("updated_at")}
        columns = tuple({"created_at": "created_text", "updated_at": "updated_text"}.get(c, c) for c in columns)
    return teams.annotate(
        province_code=_of_related("province", "code"),
        commune_code=_of_related("commune", "code"),
        commune_name=_of_related("commune"),
        hamlet_name=_of_related("hamlet"),
        leader_name=_of_related("leader", "full_name"),
        **stamps,
    ).values_list(*columns)


def size_policy_list(*, user) -> QuerySet[Province]:
    """Current provinces in scope, each with its team-size range (its policy, else the default) and
    `is_default`, in one query."""
    low, high = SizePolicy.range_of(OuterRef("pk"))
    return (
        Province.objects.current()
        .visible_to(user)
        .annotate(
            min_members=low,
            max_members=high,
            is_default=~Exists(SizePolicy.objects.filter(province_id=OuterRef("pk"))),
        )
        .order_by("code")
    )


def hamlets_without_team(*, user, province_code: str | None = None, commune_code: str | None = None) -> QuerySet:
    """The active hamlets in scope (of a current province or commune) that no active team covers, by commune
    then name, as dicts: commune code and name, hamlet id, name and kind. One query."""
    covered = Team.objects.filter(hamlet=OuterRef("pk"), status=TeamStatus.ACTIVE)
    qs = Hamlet.objects.visible_to(user).filter(active=True, commune__valid_to__isnull=True).filter(~Exists(covered))
    if province_code:
        qs = qs.filter(province__code=province_code, province__valid_to__isnull=True)
    if commune_code:
        qs = qs.filter(commune__code=commune_code)
    return qs.order_by("commune__code", "name_key", "id").values(
        "id", "name", "kind", commune_code=F("commune__code"), commune_name=F("commune__name")
    )


def commune_registry(*, user, commune_code: str) -> tuple[list[Hamlet], list[Team]]:
    """A current commune's active hamlets (by name), each with `covered` (an active team serves it, whoever may
    see that team), and the active teams in scope (commune level first) with their hamlet and leader: a team
    leader sees that their neighbours' hamlets are covered, not those teams. Queries: the hamlets, the teams."""
    served = Team.objects.filter(hamlet=OuterRef("pk"), status=TeamStatus.ACTIVE)
    hamlets = list(
        Hamlet.objects.visible_to(user)
        .filter(commune__code=commune_code, commune__valid_to__isnull=True, active=True)
        .annotate(covered=Exists(served))
        .order_by("name_key", "id")
    )
    teams = list(
        Team.objects.visible_to(user)
        .active()
        .filter(commune__code=commune_code, commune__valid_to__isnull=True)
        .select_related("hamlet", "leader")
        .order_by(F("hamlet_id").asc(nulls_first=True), "name_key", "id")
    )
    return hamlets, teams
