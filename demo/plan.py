"""Demo planning: which hamlets, teams and team sizes a scale and seed give, before anything is written.

The national scale reproduces the ministry's Q1/2024 figures: 81,415 active teams and about
400,000 members, with a share of communes and provinces left without full coverage.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import F
from django.utils.translation import gettext as _

from areas import maps
from areas.models import Commune, CommuneKind, CommuneLink, HamletKind, Province
from config.errors import DomainError, invalid

# The ministry's report for Q1/2024.
NATIONAL_TEAMS = 81_415
NATIONAL_MEMBERS = 400_000
# On the 2024 map, the figures as of Q1/2024: "nearly 400,000" members.
NATIONAL_MEMBERS_2024 = 396_000

DEFAULT_PROVINCE = "01"
# The commune of the demo commune officer (seed_demo): never left uncovered, so that login always sees teams.
DEMO_COMMUNE = "00226"
# Central Hà Nội wards around Văn Miếu - Quốc Tử Giám, and two rural communes so that thôn appear too.
COMMUNE_SCALE_CODES = ("00070", "00082", "00190", "00199", "00226", "00229", "00235", "00454", "00541")

DEFAULT_UNCOVERED_COMMUNES = 0.05
# Q1/2024: 55 of 63 provinces had a team in every commune.
DEFAULT_INCOMPLETE_PROVINCES = 8

COMMUNE_TEAM_SHARE = 0.85
# Outside the national scale no team total is prescribed; hamlets of covered communes get a team at this rate,
# which is what the national total comes to.
HAMLET_TEAM_SHARE = 0.92


class Scale(StrEnum):
    COMMUNE = "commune"
    PROVINCE = "province"
    NATIONAL = "national"


class Weighted:
    """A weighted choice with precomputed cumulative weights (random.choices rebuilds them on every call)."""

    def __init__(self, pairs: Sequence[tuple[object, float]]):
        self.values = [value for value, _weight in pairs]
        self.cumulative = list(itertools.accumulate(weight for _value, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random):
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.total)]


# --- Places -----------------------------------------------------------------------------------

_REGIONS = {
    "north_mountain": ("04", "08", "11", "12", "14", "15", "19", "20", "25"),
    "red_river": ("01", "22", "24", "31", "33", "37"),
    "north_central": ("38", "40", "42"),
    "central_coast": ("44", "46", "48", "51", "56"),
    "highlands": ("52", "66", "68"),
    "south_east": ("75", "79", "80"),
    "mekong": ("82", "86", "91", "92", "96"),
}
_REGION_OF = {code: region for region, codes in _REGIONS.items() for code in codes}

K = HamletKind
_WARD_KINDS = {
    "south_east": Weighted([(K.KHU_PHO, 1)]),
    "mekong": Weighted([(K.KHOM, 1), (K.KHU_PHO, 1)]),
}
_WARD_DEFAULT = Weighted([(K.TO_DAN_PHO, 1)])
_RURAL_KINDS = {
    "north_mountain": Weighted([(K.THON, 5), (K.BAN, 3), (K.XOM, 2)]),
    "red_river": Weighted([(K.THON, 85), (K.XOM, 15)]),
    "north_central": Weighted([(K.THON, 55), (K.XOM, 30), (K.BAN, 15)]),
    "central_coast": Weighted([(K.THON, 1)]),
    "highlands": Weighted([(K.THON, 60), (K.BUON, 25), (K.LANG, 15)]),
    "south_east": Weighted([(K.AP, 1)]),
    "mekong": Weighted([(K.AP, 1)]),
}
# Khmer sóc sit among the ấp of Mekong communes.
_SOC_AMONG_AP = 0.15
_HAMLETS_PER_COMMUNE = {CommuneKind.WARD: (15, 45), CommuneKind.COMMUNE: (12, 41), CommuneKind.SPECIAL_ZONE: (2, 12)}
# The 2024 map had three times as many communes, each about a third the size.
_HAMLETS_PER_OLD_COMMUNE = {
    CommuneKind.WARD: (5, 15),
    CommuneKind.TOWNSHIP: (5, 15),
    CommuneKind.COMMUNE: (4, 14),
    CommuneKind.ISLAND_DISTRICT: (2, 6),
}

_THON_WORDS = (
    "Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Đoài", "An Lạc", "Phú Mỹ", "Tân Lập", "Hòa Bình",
    "Thanh Bình", "Yên Phú", "Đồng Tâm", "Quyết Tiến", "Tiến Thành", "Tân Phong", "Bình Minh", "Hợp Nhất",
    "Phúc Lâm", "Đại Đồng", "Lạc Thịnh", "Xuân Hòa", "Kim Sơn", "Cầu Bây", "Chợ", "Đình", "Đồng Xuân", "Vân Nội",
)  # fmt: skip
_AP_WORDS = (
    "Tân Hòa", "Phú Lợi", "Bình Thạnh", "Long Hưng", "Mỹ Phước", "Tân Thuận", "An Bình", "Hòa Lộc", "Phước Hưng",
    "Thạnh Lợi", "Vĩnh Thới", "Tân Thới", "Long Thạnh", "Mỹ Hòa", "Bình An", "Phú Hữu", "Thới Hòa", "Long Khánh",
)  # fmt: skip
_BAN_WORDS = (
    "Nà Sản", "Pá Khôm", "Huổi Một", "Nậm Cứm", "Co Muông", "Phiêng Lằn", "Nà Tấu", "Hua Nà", "Pú Nhi", "Nong Tào",
    "Na Sang", "Huổi Hẹ", "Mường Chanh", "Nà Phặc", "Pắc Ngà", "Lả Mường", "Cang", "Khoang", "Hát Lót", "Sai",
)  # fmt: skip
_BUON_WORDS = (
    "Ko Tam", "Đôn", "Ea Kmat", "Tơng Jú", "Kô Siêr", "Akô Dhông", "Ea Sup", "Cuôr Đăng", "Ky", "Triết",
    "Jun", "Ea Bông", "Kram", "Trấp", "Dliê Ya", "Krông", "Ea Na", "Mđrăk",
)  # fmt: skip
_LANG_WORDS = (
    "Plei Ốp", "Plei Rơ Ngheo", "Kép", "Đê Kjiêng", "Plei Pông", "Plei Thơ Ga", "Kon Sơ Lăl", "Đê Rơn", "Chư Jút",
    "Plei Me", "Ia Nueng", "Kon Tu Rang",
)  # fmt: skip
_SOC_WORDS = (
    "Ven", "Tràm", "Chà", "Xoài", "Som Rong", "Tắc Gồng", "Ô Chum", "Lèo", "Rừng", "Con Cò", "Phnôm", "Ba Xuyên",
)  # fmt: skip

# A kind's label, its place words, and the share of its hamlets that carry a word rather than a number.
_NAMING = {
    K.TO_DAN_PHO: ("Tổ dân phố số", (), 0.0),
    K.KHU_PHO: ("Khu phố", (), 0.0),
    K.KHOM: ("Khóm", (), 0.0),
    K.THON: ("Thôn", _THON_WORDS, 0.4),
    K.XOM: ("Xóm", _THON_WORDS, 0.3),
    K.AP: ("Ấp", _AP_WORDS, 0.5),
    K.BAN: ("Bản", _BAN_WORDS, 0.7),
    K.BUON: ("Buôn", _BUON_WORDS, 0.8),
    K.LANG: ("Làng", _LANG_WORDS, 0.8),
    K.SOC: ("Sóc", _SOC_WORDS, 0.8),
}


# --- Team sizes -------------------------------------------------------------------------------

_TEAM_SIZES = range(4, 10)
# Commune-level teams draw on the commune's staff and are larger; the exact total is set afterwards.
_HAMLET_TEAM_SIZE = Weighted(list(zip(_TEAM_SIZES, (47, 35, 10, 4, 2, 2), strict=True)))
_COMMUNE_TEAM_SIZE = Weighted(list(zip(_TEAM_SIZES, (5, 15, 25, 25, 15, 15), strict=True)))


# --- The plan ---------------------------------------------------------------------------------


@dataclass
class _HamletPlan:
    name: str
    kind: str
    team_size: int = 0  # 0: no team


@dataclass
class _CommunePlan:
    commune: Commune
    hamlets: list[_HamletPlan]
    covered: bool
    team_size: int = 0  # the commune-level team; 0: none

    def team_sizes(self) -> list[int]:
        sizes = [h.team_size for h in self.hamlets if h.team_size]
        return [self.team_size, *sizes] if self.team_size else sizes


@dataclass(frozen=True)
class DemoSummary:
    scale: str
    seed: int
    provinces: int
    complete_provinces: int
    communes: int
    covered_communes: int
    hamlets: int
    teams: int
    commune_teams: int
    members: int
    min_team_size: int
    max_team_size: int

    @property
    def hamlet_teams(self) -> int:
        return self.teams - self.commune_teams


@dataclass
class DemoPlan:
    """Where every hamlet and team goes and how many members each team has; people are drawn when written."""

    scale: str
    seed: int
    communes: list[_CommunePlan]
    rng: random.Random = field(repr=False)
    on_map: maps.Map = maps.CURRENT

    def summary(self) -> DemoSummary:
        sizes = [size for plan in self.communes for size in plan.team_sizes()]
        provinces: dict[str, bool] = {}
        for plan in self.communes:
            code = plan.commune.province.code
            provinces[code] = provinces.get(code, True) and plan.covered
        return DemoSummary(
            scale=self.scale,
            seed=self.seed,
            provinces=len(provinces),
            complete_provinces=sum(provinces.values()),
            communes=len(self.communes),
            covered_communes=sum(plan.covered for plan in self.communes),
            hamlets=sum(len(plan.hamlets) for plan in self.communes),
            teams=len(sizes),
            commune_teams=sum(1 for plan in self.communes if plan.team_size),
            members=sum(sizes),
            min_team_size=min(sizes, default=0),
            max_team_size=max(sizes, default=0),
        )


def demo_communes(*, scale: str, province_code: str | None = None, on_map: maps.Map = maps.CURRENT):
    """The communes of the map a scale covers, ordered by code (the order the generator draws them in)."""
    communes = Commune.objects.current(on_map.day()).select_related("province").order_by("code")
    if not communes.exists():
        raise DomainError(_("The map is empty: run `manage.py load_areas` first."), code="no_map")
    if scale == Scale.COMMUNE and on_map is not maps.CURRENT:
        raise invalid(map=_("The 2024 map has the province and national scales."))
    if scale == Scale.COMMUNE:
        if province_code is not None:
            raise invalid(province=_("--province goes with the province scale."))
        communes = communes.filter(code__in=COMMUNE_SCALE_CODES)
        if not communes.filter(code=DEMO_COMMUNE).exists():
            raise DomainError(
                _("Commune %(code)s is missing: run `manage.py load_areas` first.") % {"code": DEMO_COMMUNE},
                code="no_map",
            )
        return communes
    if scale == Scale.PROVINCE:
        code = province_code or DEFAULT_PROVINCE
        if not Province.objects.current(on_map.day()).filter(code=code).exists():
            raise invalid(province=_("No province with code %(code)s.") % {"code": code})
        return communes.filter(province__code=code)
    if scale == Scale.NATIONAL:
        if province_code is not None:
            raise invalid(province=_("--province goes with the province scale."))
        return communes
    raise invalid(scale=_("Unknown scale %(scale)r.") % {"scale": scale})


def demo_plan(
    *,
    scale: str,
    seed: int,
    province_code: str | None = None,
    uncovered_communes: float = DEFAULT_UNCOVERED_COMMUNES,
    incomplete_provinces: int = DEFAULT_INCOMPLETE_PROVINCES,
    on_map: maps.Map = maps.CURRENT,
) -> DemoPlan:
    """Decide hamlets, coverage and team sizes for a scale and seed on a map, without writing anything.

    On the 2024 map a commune-level team goes only to an old commune whose code its default successor kept
    (at most one per 2025 commune, which has one commune-level team), so that the registry can be carried
    through the crosswalk; the members come to NATIONAL_MEMBERS_2024 at the national scale.
    """
    if not 0 <= uncovered_communes < 1:
        raise invalid(uncovered_communes=_("The share of uncovered communes must be at least 0 and below 1."))
    if incomplete_provinces < 0:
        raise invalid(incomplete_provinces=_("The number of incomplete provinces may not be negative."))
    communes = list(demo_communes(scale=scale, province_code=province_code, on_map=on_map))
    rng = random.Random(seed)
    uncovered = _pick_uncovered(rng, communes, uncovered_communes, incomplete_provinces)
    kept_code = _codes_kept(communes) if on_map is maps.OLD else None
    plans = [
        _plan_commune(rng, commune, covered=commune.code not in uncovered, kept_code=kept_code) for commune in communes
    ]
    _place_hamlet_teams(rng, plans, national=scale == Scale.NATIONAL)
    members = NATIONAL_MEMBERS_2024 if on_map is maps.OLD else NATIONAL_MEMBERS
    _size_teams(rng, plans, members)
    return DemoPlan(scale=str(scale), seed=seed, communes=plans, rng=rng, on_map=on_map)


def _codes_kept(communes: list[Commune]) -> set[int]:
    """The old communes whose default successor kept their code (one per 2025 commune, but the islands)."""
    return set(
        CommuneLink.objects.filter(
            old_commune__in=[c.pk for c in communes], is_default=True, new_commune__code=F("old_commune__code")
        ).values_list("old_commune_id", flat=True)
    )


def _pick_uncovered(rng: random.Random, communes: list[Commune], share: float, incomplete: int) -> set[str]:
    """Communes left without a team: all inside `incomplete` provinces, each of which gets at least one."""
    if share == 0:
        return set()
    if incomplete == 0:
        raise invalid(incomplete_provinces=_("Uncovered communes need at least one incomplete province."))
    candidates: dict[str, list[str]] = {}
    for commune in communes:
        if commune.code != DEMO_COMMUNE:
            candidates.setdefault(commune.province.code, []).append(commune.code)
    provinces = rng.sample(sorted(candidates), min(incomplete, len(candidates)))
    wanted = max(round(share * len(communes)), len(provinces))
    first = {rng.choice(candidates[code]) for code in provinces}
    rest = [code for province in sorted(provinces) for code in candidates[province] if code not in first]
    if wanted - len(first) > len(rest):
        raise invalid(
            uncovered_communes=_("Too many uncovered communes for %(n)d incomplete provinces.") % {"n": len(provinces)}
        )
    return first | set(rng.sample(rest, wanted - len(first)))


def _plan_commune(rng: random.Random, commune: Commune, *, covered: bool, kept_code: set[int] | None) -> _CommunePlan:
    region = _REGION_OF.get(commune.province.code, "red_river")
    if commune.kind == CommuneKind.WARD:
        kind = _WARD_KINDS.get(region, _WARD_DEFAULT).pick(rng)
    else:
        kind = _RURAL_KINDS[region].pick(rng)
    per_commune = _HAMLETS_PER_COMMUNE if kept_code is None else _HAMLETS_PER_OLD_COMMUNE
    low, high = per_commune.get(commune.kind, per_commune[CommuneKind.COMMUNE])
    count = rng.randint(low, high)
    numbers: dict[str, itertools.count] = {}
    words: dict[str, list[str]] = {}
    hamlets = []
    for _i in range(count):
        hamlet_kind = K.SOC if kind == K.AP and region == "mekong" and rng.random() < _SOC_AMONG_AP else kind
        label, pool, named_share = _NAMING[hamlet_kind]
        if hamlet_kind not in words:
            words[hamlet_kind] = rng.sample(pool, len(pool))
        if words[hamlet_kind] and rng.random() < named_share:
            name = f"{label} {words[hamlet_kind].pop()}"
        else:
            name = f"{label} {next(numbers.setdefault(hamlet_kind, itertools.count(1)))}"
        hamlets.append(_HamletPlan(name=name, kind=hamlet_kind))
    has_commune_team = rng.random() < COMMUNE_TEAM_SHARE and (kept_code is None or commune.pk in kept_code)
    # A covered commune needs a team somewhere; with no hamlets it can only be at commune level.
    commune_team = covered and (has_commune_team or not hamlets)
    return _CommunePlan(commune=commune, hamlets=hamlets, covered=covered, team_size=-1 if commune_team else 0)


def _place_hamlet_teams(rng: random.Random, plans: list[_CommunePlan], *, national: bool) -> None:
    """Choose the hamlets with a team, so that every covered commune has one and the national total is exact."""
    mandatory: list[_HamletPlan] = []
    pool: list[_HamletPlan] = []
    for plan in plans:
        if not plan.covered:
            continue
        if plan.team_size or not plan.hamlets:
            pool += plan.hamlets
        else:
            chosen = rng.choice(plan.hamlets)
            mandatory.append(chosen)
            pool += [h for h in plan.hamlets if h is not chosen]
    commune_teams = sum(1 for plan in plans if plan.team_size)
    if national:
        wanted = NATIONAL_TEAMS - commune_teams - len(mandatory)
        if not 0 <= wanted <= len(pool):
            raise invalid(
                uncovered_communes=_("These coverage gaps leave no room for exactly %(n)s teams.")
                % {"n": f"{NATIONAL_TEAMS:,}"}
            )
    else:
        wanted = max(0, round(HAMLET_TEAM_SHARE * (len(pool) + len(mandatory))) - len(mandatory))
    for hamlet in itertools.chain(mandatory, rng.sample(pool, wanted)):
        hamlet.team_size = -1


def _size_teams(rng: random.Random, plans: list[_CommunePlan], national_members: int = NATIONAL_MEMBERS) -> None:
    """Draw each team's size, then nudge random teams by one until the total is the national mean times the teams."""
    slots: list[tuple[object, Weighted]] = []
    for plan in plans:
        if plan.team_size:
            slots.append((plan, _COMMUNE_TEAM_SIZE))
        slots += [(hamlet, _HAMLET_TEAM_SIZE) for hamlet in plan.hamlets if hamlet.team_size]
    sizes = [weights.pick(rng) for _slot, weights in slots]
    diff = round(len(sizes) * national_members / NATIONAL_TEAMS) - sum(sizes)
    step, bound = (1, _TEAM_SIZES[-1]) if diff > 0 else (-1, _TEAM_SIZES[0])
    while diff:
        i = rng.randrange(len(sizes))
        if sizes[i] != bound:
            sizes[i] += step
            diff -= step
    for (slot, _weights), size in zip(slots, sizes, strict=True):
        slot.team_size = size
