"""Members of a team: one person in one team at a time; phone and CCCD are personal data."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q

from accounts.scoping import Role, ScopedQuerySet, scope_of


class MemberRole(models.TextChoices):
    LEADER = "leader", "Tổ trưởng"
    DEPUTY = "deputy", "Tổ phó"
    MEMBER = "member", "Thành viên"


class Background(models.TextChoices):
    HAMLET_HEAD = "hamlet_head", "Trưởng thôn, tổ trưởng tổ dân phố"
    PARTY_SECRETARY = "party_secretary", "Bí thư chi bộ"
    COMMUNE_OFFICIAL = "commune_official", "Cán bộ, công chức cấp xã"
    POLICE = "police", "Công an"
    YOUTH_UNION = "youth_union", "Đoàn Thanh niên"
    WOMENS_UNION = "womens_union", "Hội Liên hiệp Phụ nữ"
    FARMERS_UNION = "farmers_union", "Hội Nông dân"
    VETERANS = "veterans", "Hội Cựu chiến binh"
    FATHERLAND_FRONT = "fatherland_front", "Mặt trận Tổ quốc"
    TEACHER = "teacher", "Giáo viên"
    HEALTH_WORKER = "health_worker", "Nhân viên y tế"
    ENTERPRISE = "enterprise", "Doanh nghiệp bưu chính, viễn thông, công nghệ số"
    STUDENT = "student", "Học sinh, sinh viên"
    VOLUNTEER = "volunteer", "Người dân có kỹ năng số (tình nguyện)"
    OTHER = "other", "Khác"


class Gender(models.TextChoices):
    FEMALE = "female", "Nữ"
    MALE = "male", "Nam"
    OTHER = "other", "Khác"


class MemberQuerySet(ScopedQuerySet):
    scope_paths = {"province": "province_id", "commune": "commune_id", "team": "team_id"}
    write_roles = frozenset({Role.PROVINCE_ADMIN, Role.COMMUNE_OFFICER, Role.TEAM_LEADER})

    def active(self):
        return self.filter(active=True)


class Member(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="members")
    # Denormalized from the team so that every scope filter is one indexed column.
    province = models.ForeignKey("areas.Province", on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("areas.Commune", on_delete=models.PROTECT, related_name="+")
    full_name = models.CharField(max_length=150)
    phone = models.CharField(max_length=10)
    national_id = models.CharField(max_length=12, null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    background = models.CharField(max_length=20, choices=Background.choices, default=Background.OTHER)
    gender = models.CharField(max_length=10, choices=Gender.choices, null=True, blank=True)
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    # The login of a team leader, set by members.services.team_leader_account_set.
    user = models.OneToOneField(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="member"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["team_id", "full_name", "id"]
        indexes = [
            models.Index(fields=["province", "commune"]),
            models.Index(fields=["team", "active"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["phone"], condition=Q(active=True), name="member_phone_unique_active"),
            models.UniqueConstraint(
                fields=["national_id"],
                condition=Q(active=True, national_id__isnull=False),
                name="member_national_id_unique_active",
            ),
            models.UniqueConstraint(
                fields=["team"], condition=Q(active=True, role="leader"), name="member_one_leader_per_team"
            ),
            models.CheckConstraint(condition=Q(phone__regex=r"^0[35789][0-9]{8}$"), name="member_phone_canonical"),
            models.CheckConstraint(
                condition=Q(national_id__isnull=True) | Q(national_id__regex=r"^[0-9]{12}$"),
                name="member_national_id_12_digits",
            ),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900, birth_year__lte=2100),
                name="member_birth_year_range",
            ),
            models.CheckConstraint(
                condition=Q(active=True, left_on__isnull=True) | Q(active=False, left_on__isnull=False),
                name="member_left_iff_inactive",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")), name="member_left_after_joined"
            ),
            models.CheckConstraint(condition=~Q(full_name=""), name="member_name_not_blank"),
        ]

    def __str__(self) -> str:
        return f"member {self.pk}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Đang chờ"
    RUNNING = "running", "Đang xử lý"
    SUCCEEDED = "succeeded", "Thành công"
    FAILED = "failed", "Có lỗi, không ghi gì"


class ImportJobQuerySet(ScopedQuerySet):
    scope_paths = {"province": "province_id"}
    write_roles = frozenset({Role.PROVINCE_ADMIN})
    # A job holds a whole uploaded registry (phones of every member) and its errors: only the province's
    # admins and the ministry read it, not the commune officers and team leaders of the province.
    read_roles = frozenset({Role.MINISTRY, Role.PROVINCE_ADMIN})

    def visible_to(self, user):
        """Jobs of the user's province (all for the ministry), for the roles in read_roles only."""
        if scope_of(user).role not in self.read_roles:
            return self.none()
        return super().visible_to(user)


class ImportJob(models.Model):
    """A registry spreadsheet import run by a Celery worker (POST /api/v1/imports/)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    province = models.ForeignKey("areas.Province", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=255)
    # SHA-256 of the file: a retried upload of the same file by the same user returns the same job.
    checksum = models.CharField(max_length=64)
    content = models.BinaryField()
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # Rows placed in the default successor of a divided old commune, when the upload accepted that.
    warnings = models.JSONField(default=list, blank=True)
    accept_default_successor = models.BooleanField(default=False)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["province", "created_at"])]

    def __str__(self) -> str:
        return f"import {self.pk} {self.status}"
