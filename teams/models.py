"""Teams (Tổ Công nghệ số cộng đồng) and the per-province team-size policy."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.scoping import Role, ScopedQuerySet


class TeamStatus(models.TextChoices):
    ACTIVE = "active", "Đang hoạt động"
    DISSOLVED = "dissolved", "Đã giải thể"


class SizeStatus(models.TextChoices):
    UNDER = "under", "Dưới mức tối thiểu"
    OK = "ok", "Đạt"
    OVER = "over", "Vượt mức tối đa"


class TeamLevel(models.TextChoices):
    COMMUNE = "commune", "Cấp xã"
    HAMLET = "hamlet", "Cấp thôn"


class SizePolicy(models.Model):
    """How many members a team of this province should have. Teams outside it are flagged, never refused."""

    province = models.OneToOneField("areas.Province", on_delete=models.CASCADE, primary_key=True, related_name="+")
    min_members = models.PositiveSmallIntegerField()
    max_members = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_members__gte=1), name="size_policy_min_positive"),
            models.CheckConstraint(condition=Q(max_members__gte=F("min_members")), name="size_policy_max_ge_min"),
        ]

    def __str__(self) -> str:
        return f"{self.province_id}: {self.min_members}-{self.max_members}"

    @classmethod
    def range_of(cls, province) -> tuple[Coalesce, Coalesce]:
        """SQL for the (min, max) members of `province` (an OuterRef): its policy, else the settings' default."""
        policy = cls.objects.filter(province_id=province)
        return (
            Coalesce(Subquery(policy.values("min_members")[:1]), Value(settings.TEAM_SIZE_MIN_DEFAULT)),
            Coalesce(Subquery(policy.values("max_members")[:1]), Value(settings.TEAM_SIZE_MAX_DEFAULT)),
        )


class TeamQuerySet(ScopedQuerySet):
    scope_paths = {"province": "province_id", "commune": "commune_id", "team": "id"}
    write_roles = frozenset({Role.PROVINCE_ADMIN, Role.COMMUNE_OFFICER})

    def active(self):
        return self.filter(status=TeamStatus.ACTIVE)


class TeamCountQuerySet(ScopedQuerySet):
    # A team leader's scope is one team: their list is counted from the teams (teams.selectors.team_list_count).
    scope_paths = {"province": "province_id", "commune": "commune_id"}


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Denormalized from the commune so that a province scope is one indexed column.
    province = models.ForeignKey("areas.Province", on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("areas.Commune", on_delete=models.PROTECT, related_name="teams")
    hamlet = models.ForeignKey("areas.Hamlet", null=True, blank=True, on_delete=models.PROTECT, related_name="teams")
    # A commune-level team's commune on the 2024 map, when its commune was made of several (a hamlet-level
    # team is where its hamlet was). A predecessor of `commune`: a composite foreign key holds it.
    old_commune = models.ForeignKey("areas.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200)
    name_folded = models.CharField(max_length=200)
    established_on = models.DateField()
    decision_number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=TeamStatus.choices, default=TeamStatus.ACTIVE)
    dissolved_on = models.DateField(null=True, blank=True)
    # Derived from the members (members.services.teams_recount, under the team's row lock): the
    # active leader, the count of active members and its status against the province's size policy.
    leader = models.ForeignKey("members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    member_count = models.PositiveIntegerField(default=0)
    size_status = models.CharField(max_length=5, choices=SizeStatus.choices, default=SizeStatus.UNDER)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["commune_id", "name_key", "id"]
        indexes = [
            models.Index(fields=["province", "commune", "name_key", "id"], name="team_list_order"),
            models.Index(fields=["commune", "name_key"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["hamlet"], condition=Q(status="active", hamlet__isnull=False), name="team_one_active_per_hamlet"
            ),
            models.UniqueConstraint(
                fields=["commune"],
                condition=Q(status="active", hamlet__isnull=True),
                name="team_one_active_per_commune",
            ),
            models.CheckConstraint(
                condition=Q(status="active", dissolved_on__isnull=True)
                | Q(status="dissolved", dissolved_on__isnull=False),
                name="team_dissolved_has_date",
            ),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=F("established_on")),
                name="team_dissolved_after_established",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="team_name_not_blank"),
            models.CheckConstraint(
                condition=Q(hamlet__isnull=True) | Q(old_commune__isnull=True), name="team_old_commune_commune_level"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="team_version_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> str:
        return TeamLevel.HAMLET if self.hamlet_id else TeamLevel.COMMUNE


class TeamCount(models.Model):
    """The number of teams (of any status) per commune and province, kept by triggers on teams_team.

    Every INSERT, UPDATE and DELETE of teams, whatever runs it (a service, an import, the demo's COPY), changes
    these counts in its own statement and transaction (teams/migrations/0005). The team list counts from them
    when nothing but the scope narrows it: a sum over a province's communes instead of a count of every team
    (docs/performance.md). The nightly reconcile checks them against the teams (teams.counts).
    """

    pk = models.CompositePrimaryKey("commune", "province")
    # No foreign keys in the database: the teams counted hold them.
    commune = models.ForeignKey(
        "areas.Commune", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    province = models.ForeignKey("areas.Province", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    # Never negative, but no CHECK: INSERT ... ON CONFLICT checks the proposed row (a -1) before the conflict.
    teams = models.BigIntegerField()

    objects = TeamCountQuerySet.as_manager()

    def __str__(self) -> str:
        return f"TeamCount {self.pk}: {self.teams}"
