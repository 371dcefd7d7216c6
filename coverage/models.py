"""Coverage figures per commune, per province and for the nation, their daily snapshots and reconcile runs.

Every figure is recomputed from the source rows (coverage.compute); nothing here is ever
incremented, so a duplicate or repeated task cannot double-count.
"""

from __future__ import annotations

from django.db import models

from accounts.scoping import ScopedQuerySet


class Figures(models.Model):
    """The figures every unit has."""

    hamlets_total = models.PositiveIntegerField(default=0)
    hamlets_covered = models.PositiveIntegerField(default=0)
    # hamlets_covered / hamlets_total (0 when a unit has no hamlets on record), for sorting.
    hamlet_coverage = models.FloatField(default=0)
    # Active hamlets whose old-map commune is not recorded (areas.Hamlet.old_commune).
    hamlets_old_commune_missing = models.PositiveIntegerField(default=0)
    # Active teams that cannot be placed on the 2024 map (docs/coverage.md): on a 2025 unit, its own; on a
    # 2024 unit, those in the 2025 communes it went into, which may belong to it.
    teams_unattributed = models.PositiveIntegerField(default=0)
    teams_active = models.PositiveIntegerField(default=0)
    teams_commune_level = models.PositiveIntegerField(default=0)
    teams_hamlet_level = models.PositiveIntegerField(default=0)
    teams_by_size_status = models.JSONField(default=dict)
    members_active = models.PositiveIntegerField(default=0)
    members_by_role = models.JSONField(default=dict)
    members_by_background = models.JSONField(default=dict)
    activities = models.PositiveBigIntegerField(default=0)
    people_helped = models.PositiveBigIntegerField(default=0)
    activities_by_type = models.JSONField(default=dict)
    quarter = models.CharField(max_length=7, default="")
    activities_quarter = models.PositiveBigIntegerField(default=0)
    people_helped_quarter = models.PositiveBigIntegerField(default=0)
    activities_by_type_quarter = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


class CommuneFiguresQuerySet(ScopedQuerySet):
    # As areas.Commune's: a 2024-map commune's figures are in the scope of what it became.
    scope_paths = {
        "province": ("province_id", "province__successor_id"),
        "commune": ("commune_id", "commune__successor_links__new_commune_id"),
    }


class CommuneFigures(Figures):
    commune = models.OneToOneField("areas.Commune", on_delete=models.CASCADE, primary_key=True, related_name="+")
    province = models.ForeignKey("areas.Province", on_delete=models.CASCADE, related_name="+")
    covered = models.BooleanField(default=False)
    fully_covered = models.BooleanField(default=False)

    objects = CommuneFiguresQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["province", "covered", "fully_covered"])]

    def __str__(self) -> str:
        return f"figures commune {self.commune_id}"


class ProvinceFiguresQuerySet(ScopedQuerySet):
    scope_paths = {"province": ("province_id", "province__successor_id")}


class ProvinceFigures(Figures):
    province = models.OneToOneField("areas.Province", on_delete=models.CASCADE, primary_key=True, related_name="+")
    communes_total = models.PositiveIntegerField(default=0)
    communes_covered = models.PositiveIntegerField(default=0)
    # The communes that are covered or may be (teams not placed on the 2024 map could be theirs); equal to
    # communes_covered on the 2025 map.
    communes_covered_max = models.PositiveIntegerField(default=0)
    communes_fully_covered = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False)

    objects = ProvinceFiguresQuerySet.as_manager()

    def __str__(self) -> str:
        return f"figures province {self.province_id}"


class NationalFiguresQuerySet(ScopedQuerySet):
    scope_paths = {}


NATION_2025 = 1
NATION_2024 = 2


class NationalFigures(Figures):
    """One row per map: id 1 on the 2025 map, id 2 on the 2024 map (NATION_2025, NATION_2024)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=NATION_2025)
    communes_total = models.PositiveIntegerField(default=0)
    communes_covered = models.PositiveIntegerField(default=0)
    communes_covered_max = models.PositiveIntegerField(default=0)
    communes_fully_covered = models.PositiveIntegerField(default=0)
    provinces_total = models.PositiveIntegerField(default=0)
    provinces_complete = models.PositiveIntegerField(default=0)
    provinces_complete_max = models.PositiveIntegerField(default=0)
    # The first day on which these figures stop holding without any write (a new quarter, a unit valid
    # from or retired on that day): from then on the next recompute is a full one. Null: recompute fully.
    valid_until = models.DateField(null=True)

    objects = NationalFiguresQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id__in=[NATION_2025, NATION_2024]), name="national_figures_per_map"
            )
        ]

    def __str__(self) -> str:
        return "figures nation"


class Level(models.TextChoices):
    COMMUNE = "commune", "Xã"
    PROVINCE = "province", "Tỉnh"
    NATION = "nation", "Toàn quốc"


class SnapshotQuerySet(ScopedQuerySet):
    scope_paths = {
        "province": ("province_id", "province__successor_id"),
        "commune": ("commune_id", "commune__successor_links__new_commune_id"),
    }


class Snapshot(models.Model):
    """One unit's figures at the end of a day (history, ?as_of=)."""

    day = models.DateField()
    # The map the unit is on (areas.maps): codes collide between maps.
    map = models.CharField(max_length=4, default="2025")
    level = models.CharField(max_length=8, choices=Level.choices)
    code = models.CharField(max_length=5)
    province = models.ForeignKey("areas.Province", null=True, on_delete=models.CASCADE, related_name="+")
    commune = models.ForeignKey("areas.Commune", null=True, on_delete=models.CASCADE, related_name="+")
    figures = models.JSONField()
    taken_at = models.DateTimeField()

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "map", "level", "code"], name="snapshot_one_per_unit_day")
        ]
        indexes = [models.Index(fields=["level", "day", "province"])]

    def __str__(self) -> str:
        return f"{self.level} {self.code} {self.day}"


class ReconcileRun(models.Model):
    """A nightly full recompute compared with the incremental figures it replaced."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    communes = models.PositiveIntegerField()
    differences = models.PositiveIntegerField()
    # Keys of the kept counts that differed from their rows and were counted again: the activity tallies against
    # the activities (activities.tallies), the team counts against the teams (teams.counts).
    tally_differences = models.PositiveIntegerField(default=0)
    # Up to 50 examples: {"commune": code, "field": name, "stored": x, "recomputed": y}.
    examples = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"reconcile {self.started_at:%Y-%m-%d}: {self.differences}"
