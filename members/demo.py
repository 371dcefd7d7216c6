"""Demo registry data on the real map: hamlets, teams and members, reproducible from a seed.

The national scale reproduces the ministry's Q1/2024 figures: 81,415 active teams and about
400,000 members, with a share of communes and provinces left without full coverage.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from areas.changes import communes_changed
from areas.models import Commune, CommuneKind, DirtyCommune, Hamlet, HamletKind, Province
from areas.names import fold, name_key
from config.errors import Conflict, DomainError, invalid
from members.models import Background, Gender, Member, MemberRole
from teams.models import SizePolicy, SizeStatus, Team

# The ministry's report for Q1/2024.
NATIONAL_TEAMS = 81_415
NATIONAL_MEMBERS = 400_000

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
NATIONAL_ID_SHARE = 0.6
MALE_SHARE = 0.56

_BATCH = 5000
# Communes written per round of bulk inserts: large enough for big batches, small enough to keep memory flat.
_CHUNK = 60

_ESTABLISHED_FROM = dt.date(2023, 3, 1)
_ESTABLISHED_TO = dt.date(2025, 6, 30)
_LAST_JOIN = dt.date(2025, 12, 31)


class Scale(StrEnum):
    COMMUNE = "commune"
    PROVINCE = "province"
    NATIONAL = "national"


class _Weighted:
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
    "south_east": _Weighted([(K.KHU_PHO, 1)]),
    "mekong": _Weighted([(K.KHOM, 1), (K.KHU_PHO, 1)]),
}
_WARD_DEFAULT = _Weighted([(K.TO_DAN_PHO, 1)])
_RURAL_KINDS = {
    "north_mountain": _Weighted([(K.THON, 5), (K.BAN, 3), (K.XOM, 2)]),
    "red_river": _Weighted([(K.THON, 85), (K.XOM, 15)]),
    "north_central": _Weighted([(K.THON, 55), (K.XOM, 30), (K.BAN, 15)]),
    "central_coast": _Weighted([(K.THON, 1)]),
    "highlands": _Weighted([(K.THON, 60), (K.BUON, 25), (K.LANG, 15)]),
    "south_east": _Weighted([(K.AP, 1)]),
    "mekong": _Weighted([(K.AP, 1)]),
}
# Khmer sóc sit among the ấp of Mekong communes.
_SOC_AMONG_AP = 0.15
_HAMLETS_PER_COMMUNE = {CommuneKind.WARD: (15, 45), CommuneKind.COMMUNE: (12, 41), CommuneKind.SPECIAL_ZONE: (2, 12)}

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


# --- People -----------------------------------------------------------------------------------

_FAMILY = _Weighted(
    [
        ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Phan", 4.5), ("Hoàng", 3), ("Vũ", 2.5),
        ("Huỳnh", 2), ("Đặng", 2), ("Bùi", 2), ("Võ", 1.5), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1),
        ("Đinh", 1), ("Trịnh", 0.8), ("Đoàn", 0.6), ("Lương", 0.6), ("Lý", 0.5), ("Mai", 0.5), ("Hà", 0.5),
        ("Lò", 0.3), ("Tô", 0.3), ("Lưu", 0.3), ("Thạch", 0.2),
    ]
)  # fmt: skip
_MIDDLE = {
    Gender.MALE: ("Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Xuân", "Tiến", "Mạnh", "Trọng"),
    Gender.FEMALE: ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Thùy", "Phương", "Minh", "Hồng", "Kim", "Bích"),
}
_GIVEN = {
    Gender.MALE: (
        "Anh", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Huy", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn",
        "Thắng", "Trung", "Tuấn", "Việt", "Vinh", "Hiếu", "Tùng", "Kiên", "Lâm", "Phúc", "Toàn", "Hưng", "Tiến",
    ),
    Gender.FEMALE: (
        "Anh", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Nhung", "Phương", "Quỳnh", "Thảo",
        "Trang", "Vân", "Yến", "Hằng", "Hiền", "Huyền", "Loan", "Thủy", "Nga", "Dung", "Giang", "Tâm", "Oanh",
    ),
}  # fmt: skip
# A second middle name follows the first, as in Nguyễn Thị Thu Hà; the gender markers Văn and Thị come first.
_SECOND_MIDDLE = {
    gender: tuple(dict.fromkeys(m for m in names if m not in {"Văn", "Thị"})) for gender, names in _MIDDLE.items()
}
_SECOND_MIDDLE_SHARE = 0.15

B = Background
_HAMLET_LEADER = _Weighted(
    [(B.HAMLET_HEAD, 60), (B.PARTY_SECRETARY, 15), (B.YOUTH_UNION, 10), (B.POLICE, 8), (B.VETERANS, 7)]
)
_COMMUNE_LEADER = _Weighted([(B.COMMUNE_OFFICIAL, 60), (B.YOUTH_UNION, 20), (B.POLICE, 10), (B.FATHERLAND_FRONT, 10)])
# A hamlet has one head: when the hamlet head does not lead the team, they usually sit in it.
_HAMLET_HEAD_IN_TEAM = 0.8
_OTHERS = _Weighted(
    [
        (B.POLICE, 19), (B.YOUTH_UNION, 18), (B.ENTERPRISE, 14), (B.WOMENS_UNION, 8), (B.COMMUNE_OFFICIAL, 6),
        (B.FARMERS_UNION, 5), (B.VETERANS, 5), (B.TEACHER, 5), (B.PARTY_SECRETARY, 4), (B.FATHERLAND_FRONT, 4),
        (B.STUDENT, 4), (B.HEALTH_WORKER, 3), (B.VOLUNTEER, 3), (B.OTHER, 2),
    ]
)  # fmt: skip
_BIRTH_YEARS = {B.YOUTH_UNION: (1990, 2005), B.STUDENT: (2000, 2005), B.VETERANS: (1960, 1975)}
_BIRTH_DEFAULT = (1960, 2000)

# Mobile network prefixes after the 2018 renumbering; 090 is left out because the demo logins use it.
_NETWORKS = (
    "32", "33", "34", "35", "36", "37", "38", "39", "52", "56", "58", "59", "70", "76", "77", "78", "79",
    "81", "82", "83", "84", "85", "86", "88", "89", "91", "92", "93", "94", "96", "97", "98", "99",
)  # fmt: skip

_TEAM_SIZES = range(4, 10)
# Commune-level teams draw on the commune's staff and are larger; the exact total is set afterwards.
_HAMLET_TEAM_SIZE = _Weighted(list(zip(_TEAM_SIZES, (47, 35, 10, 4, 2, 2), strict=True)))
_COMMUNE_TEAM_SIZE = _Weighted(list(zip(_TEAM_SIZES, (5, 15, 25, 25, 15, 15), strict=True)))


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


def demo_communes(*, scale: str, province_code: str | None = None):
    """The current communes a scale covers, ordered by code (the order the generator draws them in)."""
    communes = Commune.objects.current().select_related("province").order_by("code")
    if not communes.exists():
        raise DomainError(_("The map is empty: run `manage.py load_areas` first."), code="no_map")
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
        if not Province.objects.current().filter(code=code).exists():
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
) -> DemoPlan:
    """Decide hamlets, coverage and team sizes for a scale and seed, without writing anything."""
    if not 0 <= uncovered_communes < 1:
        raise invalid(uncovered_communes=_("The share of uncovered communes must be at least 0 and below 1."))
    if incomplete_provinces < 0:
        raise invalid(incomplete_provinces=_("The number of incomplete provinces may not be negative."))
    communes = list(demo_communes(scale=scale, province_code=province_code))
    rng = random.Random(seed)
    uncovered = _pick_uncovered(rng, communes, uncovered_communes, incomplete_provinces)
    plans = [_plan_commune(rng, commune, covered=commune.code not in uncovered) for commune in communes]
    _place_hamlet_teams(rng, plans, national=scale == Scale.NATIONAL)
    _size_teams(rng, plans)
    return DemoPlan(scale=str(scale), seed=seed, communes=plans, rng=rng)


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


def _plan_commune(rng: random.Random, commune: Commune, *, covered: bool) -> _CommunePlan:
    region = _REGION_OF.get(commune.province.code, "red_river")
    if commune.kind == CommuneKind.WARD:
        kind = _WARD_KINDS.get(region, _WARD_DEFAULT).pick(rng)
    else:
        kind = _RURAL_KINDS[region].pick(rng)
    low, high = _HAMLETS_PER_COMMUNE.get(commune.kind, _HAMLETS_PER_COMMUNE[CommuneKind.COMMUNE])
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
    has_commune_team = rng.random() < COMMUNE_TEAM_SHARE
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


def _size_teams(rng: random.Random, plans: list[_CommunePlan]) -> None:
    """Draw each team's size, then nudge random teams by one until the total is the national mean times the teams."""
    slots: list[tuple[object, _Weighted]] = []
    for plan in plans:
        if plan.team_size:
            slots.append((plan, _COMMUNE_TEAM_SIZE))
        slots += [(hamlet, _HAMLET_TEAM_SIZE) for hamlet in plan.hamlets if hamlet.team_size]
    sizes = [weights.pick(rng) for _slot, weights in slots]
    diff = round(len(sizes) * NATIONAL_MEMBERS / NATIONAL_TEAMS) - sum(sizes)
    step, bound = (1, _TEAM_SIZES[-1]) if diff > 0 else (-1, _TEAM_SIZES[0])
    while diff:
        i = rng.randrange(len(sizes))
        if sizes[i] != bound:
            sizes[i] += step
            diff -= step
    for (slot, _weights), size in zip(slots, sizes, strict=True):
        slot.team_size = size


# --- Writing ----------------------------------------------------------------------------------


class _People:
    """Draws members; phones and citizen ids come from sequences through a seeded bijection, so they never collide."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.phones = 0
        self.national_ids = 0
        self.phone_step = _unit_mod_10(rng, 10**7)
        self.phone_offset = rng.randrange(10**7)
        self.id_step = _unit_mod_10(rng, 10**6)
        self.id_offset = rng.randrange(10**6)

    def phone(self) -> str:
        network = _NETWORKS[self.phones % len(_NETWORKS)]
        number = (self.phone_step * (self.phones // len(_NETWORKS)) + self.phone_offset) % 10**7
        self.phones += 1
        return f"0{network}{number:07d}"

    def national_id(self, province_code: str, gender: str, birth_year: int) -> str:
        if self.national_ids >= 10**6:
            raise RuntimeError("the citizen-id sequence is exhausted")
        # CCCD: birth province (3 digits), sex and century (0/1 for the 1900s, 2/3 for the 2000s), year, serial.
        sex_century = (0 if gender == Gender.MALE else 1) + (2 if birth_year >= 2000 else 0)
        serial = (self.id_step * self.national_ids + self.id_offset) % 10**6
        self.national_ids += 1
        return f"0{province_code}{sex_century}{birth_year % 100:02d}{serial:06d}"

    def member(self, team: Team, *, role: str, background: str, province_code: str) -> Member:
        rng = self.rng
        gender = Gender.MALE if rng.random() < MALE_SHARE else Gender.FEMALE
        middle = rng.choice(_MIDDLE[gender])
        if rng.random() < _SECOND_MIDDLE_SHARE:
            middle = f"{middle} {rng.choice([m for m in _SECOND_MIDDLE[gender] if m != middle])}"
        full_name = f"{_FAMILY.pick(rng)} {middle} {rng.choice(_GIVEN[gender])}"
        low, high = _BIRTH_YEARS.get(background, _BIRTH_DEFAULT)
        birth_year = rng.randint(low, high)
        founder = role != MemberRole.MEMBER or rng.random() < 0.75
        joined = team.established_on if founder else team.established_on + dt.timedelta(days=rng.randint(1, 400))
        has_id = rng.random() < NATIONAL_ID_SHARE
        return Member(
            id=_uuid(rng),
            team_id=team.pk,
            province_id=team.province_id,
            commune_id=team.commune_id,
            full_name=full_name,
            phone=self.phone(),
            national_id=self.national_id(province_code, gender, birth_year) if has_id else None,
            birth_year=birth_year,
            role=role,
            background=background,
            gender=gender,
            joined_on=min(joined, _LAST_JOIN),
        )


def _unit_mod_10(rng: random.Random, modulus: int) -> int:
    """A random multiplier coprime with a power of ten, so that i -> a*i + b is a bijection modulo it."""
    step = rng.randrange(1, modulus)
    while step % 2 == 0 or step % 5 == 0:
        step = (step + 1) % modulus or 1
    return step


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _size_status(size: int, size_range: tuple[int, int]) -> str:
    low, high = size_range
    if size < low:
        return SizeStatus.UNDER
    if size > high:
        return SizeStatus.OVER
    return SizeStatus.OK


def _team_members(people: _People, team: Team, size: int, *, hamlet_level: bool, province_code: str) -> list[Member]:
    rng = people.rng
    leader_background = (_HAMLET_LEADER if hamlet_level else _COMMUNE_LEADER).pick(rng)
    roles = [MemberRole.LEADER] + [MemberRole.MEMBER] * (size - 1)
    if size >= 5 and rng.random() < 0.75:
        roles[1] = MemberRole.DEPUTY
    if size >= 7 and rng.random() < 0.35:
        roles[2] = MemberRole.DEPUTY
    backgrounds = [leader_background] + [_OTHERS.pick(rng) for _i in range(size - 1)]
    if hamlet_level and leader_background != B.HAMLET_HEAD and rng.random() < _HAMLET_HEAD_IN_TEAM:
        backgrounds[-1] = B.HAMLET_HEAD
    return [
        people.member(team, role=role, background=background, province_code=province_code)
        for role, background in zip(roles, backgrounds, strict=True)
    ]


def _write(plan: DemoPlan, progress: Callable[[int], None] | None) -> None:
    rng = plan.rng
    people = _People(rng)
    policies = {p.province_id: (p.min_members, p.max_members) for p in SizePolicy.objects.all()}
    default_range = (settings.TEAM_SIZE_MIN_DEFAULT, settings.TEAM_SIZE_MAX_DEFAULT)
    days = (_ESTABLISHED_TO - _ESTABLISHED_FROM).days
    for start in range(0, len(plan.communes), _CHUNK):
        chunk = plan.communes[start : start + _CHUNK]
        hamlets = {
            id(h): Hamlet(
                commune_id=p.commune.pk,
                province_id=p.commune.province_id,
                name=h.name,
                name_key=name_key(h.name),
                kind=h.kind,
            )
            for p in chunk
            for h in p.hamlets
        }
        Hamlet.objects.bulk_create(hamlets.values(), batch_size=_BATCH)
        teams: list[Team] = []
        members: list[Member] = []
        for commune_plan in chunk:
            commune = commune_plan.commune
            slots = [(None, commune_plan.team_size)] if commune_plan.team_size else []
            slots += [(h, h.team_size) for h in commune_plan.hamlets if h.team_size]
            for hamlet_plan, size in slots:
                name = f"Tổ Công nghệ số cộng đồng {hamlet_plan.name if hamlet_plan else commune.name}"
                team = Team(
                    id=_uuid(rng),
                    province_id=commune.province_id,
                    commune_id=commune.pk,
                    hamlet_id=hamlets[id(hamlet_plan)].pk if hamlet_plan else None,
                    name=name,
                    name_key=name_key(name),
                    name_folded=fold(name),
                    established_on=_ESTABLISHED_FROM + dt.timedelta(days=rng.randint(0, days)),
                    decision_number=f"{rng.randint(1, 999)}/QĐ-UBND",
                    member_count=size,
                    size_status=_size_status(size, policies.get(commune.province_id, default_range)),
                )
                team_members = _team_members(
                    people, team, size, hamlet_level=hamlet_plan is not None, province_code=commune.province.code
                )
                # Foreign keys are deferred to commit, so the team may name its leader before the row exists.
                team.leader_id = team_members[0].pk
                teams.append(team)
                members += team_members
        Team.objects.bulk_create(teams, batch_size=_BATCH)
        Member.objects.bulk_create(members, batch_size=_BATCH)
        if progress:
            progress(len(chunk))


def _existing_commune_ids() -> set[int]:
    return set(Hamlet.objects.values_list("commune_id", flat=True).distinct()) | set(
        Team.objects.values_list("commune_id", flat=True).distinct()
    )


def _delete_registry() -> None:
    """Delete every member, team, hamlet and dirty mark, and what hangs on them.

    Rows of other apps that point at the registry are found through the model graph, so that members
    need not import the apps above it: team-leader logins are deleted with their teams, nullable
    SET_NULL references are cleared, and anything else (activities) is deleted with the teams.
    """
    registry = (Member, Team, Hamlet)
    for model in registry:
        # include_hidden: the logins' foreign key to the team has no reverse accessor (related_name="+").
        relations = [f for f in model._meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete]
        for relation in relations:
            dependent = relation.related_model
            if dependent in registry:
                continue
            name = relation.field.name
            rows = dependent._base_manager.filter(**{f"{name}__isnull": False})
            if dependent is User:
                # A team leader's login cannot exist without its team (a database rule): the demo's go too.
                rows.delete()
            elif relation.on_delete is models.SET_NULL:
                rows.update(**{name: None})
            else:
                rows.delete()
    # Plain DELETEs: the ORM would first load 400,000 members to null Team.leader, and the teams go too.
    with connection.cursor() as cursor:
        for model in (Member, Team, Hamlet, DirtyCommune):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


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
) -> DemoSummary:
    """Create demo hamlets, teams and members on the real communes; reset replaces the registry first."""
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
    )
    touched = {p.commune.pk for p in plan.communes}
    if reset:
        touched |= _existing_commune_ids()
        _delete_registry()
    _write(plan, progress)
    communes_changed(touched)
    return plan.summary()
