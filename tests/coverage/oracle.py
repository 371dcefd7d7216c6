"""An independent computation of every coverage figure, for comparing with what coverage stores.

It shares no code with coverage.compute: it loads the rows and counts them in plain Python, straight
from the definitions in docs/coverage.md, and it derives each team's size status from its active
members and its province's policy instead of trusting the stored column. Slow, and meant for small
test worlds only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.conf import settings

from activities.models import Activity, ActivityType
from areas.models import Commune, CommuneLink, Hamlet, Province
from coverage.models import NATION_2025, CommuneFigures, NationalFigures, ProvinceFigures
from members.models import Background, Member, MemberRole
from teams.models import SizePolicy, SizeStatus, Team, TeamStatus

UNIT_SUMS = (
    "hamlets_total",
    "hamlets_covered",
    "teams_active",
    "teams_commune_level",
    "teams_hamlet_level",
    "members_active",
    "activities",
    "people_helped",
    "activities_quarter",
    "people_helped_quarter",
    "hamlets_old_commune_missing",
    "teams_unattributed",
)
UNIT_BREAKDOWNS = (
    "teams_by_size_status",
    "members_by_role",
    "members_by_background",
    "activities_by_type",
    "activities_by_type_quarter",
)


def _valid_on(unit, day: dt.date) -> bool:
    return unit.valid_from <= day and (unit.valid_to is None or unit.valid_to > day)


def _quarter(day: dt.date) -> tuple[str, dt.date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    return f"{day.year}-Q{(day.month + 2) // 3}", dt.date(day.year, first_month, 1)


def _zero(types: list[str]) -> dict:
    figures = dict.fromkeys(UNIT_SUMS, 0)
    figures["teams_by_size_status"] = dict.fromkeys(SizeStatus.values, 0)
    figures["members_by_role"] = dict.fromkeys(MemberRole.values, 0)
    figures["members_by_background"] = dict.fromkeys(Background.values, 0)
    for name in ("activities_by_type", "activities_by_type_quarter"):
        figures[name] = {code: {"activities": 0, "people_helped": 0} for code in types}
    return figures


def _ratio(figures: dict) -> float:
    total = figures["hamlets_total"]
    return round(figures["hamlets_covered"] / total, 6) if total else 0.0


def _plus(total: dict, part: dict) -> None:
    for name in UNIT_SUMS:
        total[name] += part[name]
    for name in ("teams_by_size_status", "members_by_role", "members_by_background"):
        for key, value in part[name].items():
            total[name][key] += value
    for name in ("activities_by_type", "activities_by_type_quarter"):
        for key, value in part[name].items():
            total[name][key]["activities"] += value["activities"]
            total[name][key]["people_helped"] += value["people_helped"]


def expected_figures(today: dt.date) -> dict[tuple[str, str], dict]:
    """{(level, code): figures} for every current commune and province and the nation ("nation", "VN")."""
    label, quarter_start = _quarter(today)
    types = [t.code for t in ActivityType.objects.order_by("sort_order", "code")]
    provinces = [p for p in Province.objects.all() if _valid_on(p, today)]
    communes = [c for c in Commune.objects.all() if _valid_on(c, today) and c.province_id in {p.id for p in provinces}]
    policy = {p.province_id: (p.min_members, p.max_members) for p in SizePolicy.objects.all()}
    default = (settings.TEAM_SIZE_MIN_DEFAULT, settings.TEAM_SIZE_MAX_DEFAULT)
    members = list(Member.objects.filter(active=True))
    size = Counter(m.team_id for m in members)
    teams = list(Team.objects.filter(status=TeamStatus.ACTIVE))
    hamlets_with_team = {t.hamlet_id for t in teams if t.hamlet_id}
    hamlets = list(Hamlet.objects.filter(active=True))
    old_commune_of_hamlet = {h.id: h.old_commune_id for h in Hamlet.objects.all()}
    made_of = Counter(CommuneLink.objects.values_list("new_commune_id", flat=True))

    per_commune: dict[int, dict] = defaultdict(lambda: _zero(types))
    for team in teams:
        placed = old_commune_of_hamlet[team.hamlet_id] if team.hamlet_id else team.old_commune_id
        # Not placed on the 2024 map: no old commune recorded, in a commune made of several (or none).
        per_commune[team.commune_id]["teams_unattributed"] += placed is None and made_of[team.commune_id] != 1
    for hamlet in hamlets:
        per_commune[hamlet.commune_id]["hamlets_total"] += 1
        per_commune[hamlet.commune_id]["hamlets_covered"] += hamlet.id in hamlets_with_team
        per_commune[hamlet.commune_id]["hamlets_old_commune_missing"] += hamlet.old_commune_id is None
    for team in teams:
        figures = per_commune[team.commune_id]
        figures["teams_active"] += 1
        figures["teams_hamlet_level" if team.hamlet_id else "teams_commune_level"] += 1
        low, high = policy.get(team.province_id, default)
        count = size[team.id]
        status = SizeStatus.UNDER if count < low else SizeStatus.OVER if count > high else SizeStatus.OK
        figures["teams_by_size_status"][status] += 1
    for member in members:
        figures = per_commune[member.commune_id]
        figures["members_active"] += 1
        figures["members_by_role"][member.role] += 1
        figures["members_by_background"][member.background] += 1
    for activity in Activity.objects.filter(deleted=False):
        figures = per_commune[activity.commune_id]
        spans = [("activities", "people_helped", "activities_by_type")]
        if activity.occurred_on >= quarter_start:
            spans.append(("activities_quarter", "people_helped_quarter", "activities_by_type_quarter"))
        for count_name, people_name, by_type in spans:
            figures[count_name] += 1
            figures[people_name] += activity.people_helped
            figures[by_type][activity.type_id]["activities"] += 1
            figures[by_type][activity.type_id]["people_helped"] += activity.people_helped

    expected: dict[tuple[str, str], dict] = {}
    nation = _zero(types) | {"communes_total": 0, "communes_covered": 0, "communes_fully_covered": 0}
    nation |= {"provinces_total": len(provinces), "provinces_complete": 0}
    for province in provinces:
        total = _zero(types) | {"communes_total": 0, "communes_covered": 0, "communes_fully_covered": 0}
        for commune in communes:
            if commune.province_id != province.id:
                continue
            figures = per_commune[commune.id]
            covered = figures["teams_active"] > 0
            fully = covered and figures["hamlets_covered"] == figures["hamlets_total"]
            expected[("commune", commune.code)] = figures | {
                "covered": covered,
                "fully_covered": fully,
                "hamlet_coverage": _ratio(figures),
                "quarter": label,
            }
            _plus(total, figures)
            total["communes_total"] += 1
            total["communes_covered"] += covered
            total["communes_fully_covered"] += fully
        complete = total["communes_total"] > 0 and total["communes_covered"] == total["communes_total"]
        expected[("province", province.code)] = total | {
            "communes_covered_max": total["communes_covered"],  # nothing is uncertain on the current map
            "complete": complete,
            "hamlet_coverage": _ratio(total),
            "quarter": label,
        }
        _plus(nation, total)
        for name in ("communes_total", "communes_covered", "communes_fully_covered"):
            nation[name] += total[name]
        nation["provinces_complete"] += complete
    expected[("nation", "VN")] = nation | {
        "hamlet_coverage": _ratio(nation),
        "quarter": label,
        "communes_covered_max": nation["communes_covered"],
        "provinces_complete_max": nation["provinces_complete"],
    }
    return expected


def stored_figures(today: dt.date) -> dict[tuple[str, str], dict]:
    """What coverage has stored for every current unit, in the oracle's shape (missing units are absent)."""
    stored: dict[tuple[str, str], dict] = {}
    communes = {c.id: c.code for c in Commune.objects.all() if _valid_on(c, today)}
    provinces = {p.id: p.code for p in Province.objects.all() if _valid_on(p, today)}
    for row in CommuneFigures.objects.filter(commune_id__in=list(communes)).values():
        stored[("commune", communes[row["commune_id"]])] = row
    for row in ProvinceFigures.objects.filter(province_id__in=list(provinces)).values():
        stored[("province", provinces[row["province_id"]])] = row
    for row in NationalFigures.objects.filter(pk=NATION_2025).values():
        stored[("nation", "VN")] = row
    return stored


def differences(today: dt.date) -> list[str]:
    """Every figure where the stored figures differ from the independent computation, as readable lines."""
    expected = expected_figures(today)
    stored = stored_figures(today)
    lines = []
    for key, figures in sorted(expected.items()):
        row = stored.get(key)
        if row is None:
            lines.append(f"{key}: no stored figures")
            continue
        for name, value in figures.items():
            if row[name] == value:
                continue
            if isinstance(value, dict) and isinstance(row[name], dict):
                keys = sorted(k for k in value.keys() | row[name].keys() if row[name].get(k) != value.get(k))
                lines.append(
                    f"{key} {name}: "
                    + ", ".join(f"{k} stored {row[name].get(k)!r}, expected {value.get(k)!r}" for k in keys)
                )
            else:
                lines.append(f"{key} {name}: stored {row[name]!r}, expected {value!r}")
    return lines
