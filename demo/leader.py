"""The demo logins of `make run` and the demo team leader's team: fixed ids, people and activities.

Every id is fixed (UUID 5 of a name), so a restart finds the rows of the last one instead of adding copies,
and a mobile developer sees the same team id on every machine.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from accounts.scoping import Role
from demo.plan import DEFAULT_PROVINCE, DEMO_COMMUNE
from members.models import Background as B
from members.models import Gender, MemberRole

DEMO_PASSWORD = "demo-cdt-2025"


@dataclass(frozen=True)
class DemoAccount:
    phone: str
    role: str
    province_code: str | None
    commune_code: str | None
    full_name: str


# Hà Nội; Phường Văn Miếu - Quốc Tử Giám (Hà Nội); Thành phố Hồ Chí Minh.
DEMO_ACCOUNTS = (
    DemoAccount("0900000001", Role.MINISTRY, None, None, "Bộ (demo)"),
    DemoAccount("0900000002", Role.PROVINCE_ADMIN, DEFAULT_PROVINCE, None, "Quản trị Hà Nội (demo)"),
    DemoAccount("0900000003", Role.COMMUNE_OFFICER, None, DEMO_COMMUNE, "Cán bộ phường Văn Miếu - Quốc Tử Giám (demo)"),
    DemoAccount("0900000004", Role.PROVINCE_ADMIN, "79", None, "Quản trị TP Hồ Chí Minh (demo)"),
)
# The commune officer registers the leader's team, as the commune does in life.
DEMO_OFFICER = "0900000003"

_NAMESPACE = uuid.UUID("6f0d3c1e-2b7a-5c55-9d4e-0c8a1f3b7e21")


def demo_id(name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, name)


LEADER_TEAM_ID = demo_id("leader-team")
LEADER_TEAM_ESTABLISHED = dt.date(2025, 8, 15)
LEADER_TEAM_DECISION = "86/QĐ-UBND"


@dataclass(frozen=True)
class DemoPerson:
    key: str
    full_name: str
    phone: str
    role: str
    background: str
    gender: str
    birth_year: int

    @property
    def member_id(self) -> uuid.UUID:
        return demo_id(f"member-{self.key}")


# The leader's phone is the leader login's. The others use 0900000101.., outside the generator's networks
# (demo.people leaves 090 out) and apart from the 090000000N logins.
LEADER = DemoPerson("leader", "Trần Minh Tuấn", "0900000005", MemberRole.LEADER, B.HAMLET_HEAD, Gender.MALE, 1982)
LEADER_TEAM_MEMBERS = (
    LEADER,
    DemoPerson("deputy", "Nguyễn Thị Thu Hà", "0900000101", MemberRole.DEPUTY, B.YOUTH_UNION, Gender.FEMALE, 1996),
    DemoPerson("police", "Lê Quang Huy", "0900000102", MemberRole.MEMBER, B.POLICE, Gender.MALE, 1990),
    DemoPerson("women", "Phạm Thị Lan", "0900000103", MemberRole.MEMBER, B.WOMENS_UNION, Gender.FEMALE, 1978),
    DemoPerson("student", "Đỗ Đức Minh", "0900000104", MemberRole.MEMBER, B.STUDENT, Gender.MALE, 2004),
)  # fmt: skip


@dataclass(frozen=True)
class DemoActivity:
    key: str
    days_ago: int
    type_code: str
    people_helped: int
    households_helped: int | None
    duration_minutes: int | None
    note: str

    @property
    def activity_id(self) -> uuid.UUID:
        return demo_id(f"activity-{self.key}")


# Dated from the first start's day, within the sync's age limit; a later start finds them by id.
LEADER_ACTIVITIES = (
    DemoActivity("vneid-1", 12, "vneid", 18, 11, 120, "Kích hoạt VNeID mức độ 2 tại nhà văn hóa tổ dân phố"),
    DemoActivity("dvc-1", 9, "online_public_services", 7, 6, 90, "Nộp hồ sơ cấp đổi giấy phép lái xe trực tuyến"),
    DemoActivity("cashless-1", 6, "cashless_payment", 12, 9, 60, "Mở ví điện tử, thanh toán tiền điện"),
    DemoActivity("scam-1", 4, "online_safety", 35, None, 45, "Tuyên truyền phòng chống lừa đảo qua điện thoại"),
    DemoActivity("vneid-2", 2, "vneid", 9, 7, 75, ""),
    DemoActivity("class-1", 1, "digital_literacy_class", 22, None, 150, "Lớp Bình dân học vụ số cho người cao tuổi"),
)
