"""Demo people: the members of each team, drawn from name, background and birth-year weights."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import NamedTuple

from accounts.phones import canonical_phone
from areas.names import clean_name
from demo.plan import Weighted
from members.models import Background, Gender, MemberRole
from members.services import member_row

NATIONAL_ID_SHARE = 0.6
MALE_SHARE = 0.56
_LAST_JOIN = dt.date(2025, 12, 31)

_FAMILY = Weighted(
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
_HAMLET_LEADER = Weighted(
    [(B.HAMLET_HEAD, 60), (B.PARTY_SECRETARY, 15), (B.YOUTH_UNION, 10), (B.POLICE, 8), (B.VETERANS, 7)]
)
_COMMUNE_LEADER = Weighted([(B.COMMUNE_OFFICIAL, 60), (B.YOUTH_UNION, 20), (B.POLICE, 10), (B.FATHERLAND_FRONT, 10)])
# A hamlet has one head: when the hamlet head does not lead the team, they usually sit in it.
_HAMLET_HEAD_IN_TEAM = 0.8
_OTHERS = Weighted(
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


class TeamDraft(NamedTuple):
    """What a new team's members take from it before its row is built."""

    id: uuid.UUID
    province_id: int
    commune_id: int
    established_on: dt.date


class People:
    """Draws members; phones and citizen ids come from sequences through a seeded bijection, so they never collide."""

    def __init__(self, rng: random.Random, last_join: dt.date = _LAST_JOIN):
        self.rng = rng
        self.last_join = last_join
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
        # The owner of the phone format decides the stored form.
        return canonical_phone(f"0{network}{number:07d}")

    def national_id(self, province_code: str, gender: str, birth_year: int) -> str:
        if self.national_ids >= 10**6:
            raise RuntimeError("the citizen-id sequence is exhausted")
        # CCCD: birth province (3 digits), sex and century (0/1 for the 1900s, 2/3 for the 2000s), year, serial.
        sex_century = (0 if gender == Gender.MALE else 1) + (2 if birth_year >= 2000 else 0)
        serial = (self.id_step * self.national_ids + self.id_offset) % 10**6
        self.national_ids += 1
        return f"0{province_code}{sex_century}{birth_year % 100:02d}{serial:06d}"

    def member(self, team: TeamDraft, *, role: str, background: str, province_code: str) -> tuple:
        rng = self.rng
        gender = Gender.MALE if rng.random() < MALE_SHARE else Gender.FEMALE
        middle = rng.choice(_MIDDLE[gender])
        if rng.random() < _SECOND_MIDDLE_SHARE:
            middle = f"{middle} {rng.choice([m for m in _SECOND_MIDDLE[gender] if m != middle])}"
        full_name = clean_name(f"{_FAMILY.pick(rng)} {middle} {rng.choice(_GIVEN[gender])}")
        low, high = _BIRTH_YEARS.get(background, _BIRTH_DEFAULT)
        birth_year = rng.randint(low, high)
        founder = role != MemberRole.MEMBER or rng.random() < 0.75
        joined = team.established_on if founder else team.established_on + dt.timedelta(days=rng.randint(1, 400))
        has_id = rng.random() < NATIONAL_ID_SHARE
        return member_row(
            team=team,
            member_id=new_uuid(rng),
            full_name=full_name,
            phone=self.phone(),
            national_id=self.national_id(province_code, gender, birth_year) if has_id else None,
            birth_year=birth_year,
            role=role,
            background=background,
            gender=gender,
            joined_on=min(joined, self.last_join),
        )


def _unit_mod_10(rng: random.Random, modulus: int) -> int:
    """A random multiplier coprime with a power of ten, so that i -> a*i + b is a bijection modulo it."""
    step = rng.randrange(1, modulus)
    while step % 2 == 0 or step % 5 == 0:
        step = (step + 1) % modulus or 1
    return step


def new_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from the seeded generator, so that the same seed gives the same ids."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def team_members(people: People, team: TeamDraft, size: int, *, hamlet_level: bool, province_code: str) -> list[tuple]:
    """The team's members as rows of members.services.MEMBER_ROW, the leader first."""
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
