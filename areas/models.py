"""Administrative units: Province, Commune, Hamlet, their source records and the changed-commune outbox."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.scoping import Role, ScopedQuerySet

MAP_2025 = dt.date(2025, 7, 1)
# The 63-province map has had its 63 provinces since Hà Tây joined Hà Nội on 2008-08-01. The dataset ships
# one edition of its districts and communes, undated (the last before the reorganization); its units are
# dated from that day up to 2025-06-30, so a date on the old map always finds that edition (docs/decisions.md).
MAP_2024 = dt.date(2008, 8, 1)


class ProvinceKind(models.TextChoices):
    PROVINCE = "tinh", "Tỉnh"
    CITY = "thanh_pho", "Thành phố"


class DistrictKind(models.TextChoices):
    URBAN_DISTRICT = "quan", "Quận"
    RURAL_DISTRICT = "huyen", "Huyện"
    TOWN = "thi_xa", "Thị xã"
    CITY = "thanh_pho", "Thành phố"


class CommuneKind(models.TextChoices):
    COMMUNE = "xa", "Xã"
    WARD = "phuong", "Phường"
    SPECIAL_ZONE = "dac_khu", "Đặc khu"
    # Old map only.
    TOWNSHIP = "thi_tran", "Thị trấn"
    # Old map only: an island district with no communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo),
    # which was the commune-level unit of its islands. It keeps its official 3-digit district code.
    ISLAND_DISTRICT = "huyen_dao", "Huyện đảo"


class HamletKind(models.TextChoices):
    THON = "thon", "Thôn"
    TO_DAN_PHO = "to_dan_pho", "Tổ dân phố"
    KHU_DAN_CU = "khu_dan_cu", "Khu dân cư"
    KHU_PHO = "khu_pho", "Khu phố"
    KHOM = "khom", "Khóm"
    AP = "ap", "Ấp"
    BAN = "ban", "Bản"
    BUON = "buon", "Buôn"
    LANG = "lang", "Làng"
    XOM = "xom", "Xóm"
    SOC = "soc", "Sóc"
    OTHER = "other", "Khác"


def valid_on(day: dt.date, path: str = "") -> Q:
    """The filter "valid on this day" for units, or for the units at `path` (e.g. "communes__")."""
    return Q(**{f"{path}valid_from__lte": day}) & (
        Q(**{f"{path}valid_to__isnull": True}) | Q(**{f"{path}valid_to__gt": day})
    )


class UnitQuerySet(ScopedQuerySet):
    def current(self, on: dt.date | None = None):
        """Units valid on a day (today by default)."""
        return self.filter(valid_on(on or timezone.localdate()))


class ValidityMixin(models.Model):
    """A unit is valid from valid_from (inclusive) to valid_to (exclusive); null valid_to means still valid."""

    valid_from = models.DateField(default=MAP_2025)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True


class ProvinceQuerySet(UnitQuerySet):
    # An old-map province is in the scope of the new province it became.
    scope_paths = {"province": ("id", "successor_id")}


class Province(ValidityMixin):
    code = models.CharField(max_length=2)
    name = models.CharField(max_length=100)
    short_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ProvinceKind.choices)
    name_key = models.CharField(max_length=100, db_index=True)
    # Old map: the province of the 2025 map that this one became part of (each went whole into one).
    successor = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="predecessors")

    objects = ProvinceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(valid_to__isnull=True), name="province_code_current"),
            models.UniqueConstraint(fields=["code", "valid_from"], name="province_code_valid_from"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{2}$"), name="province_code_2_digits"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="province_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DistrictQuerySet(UnitQuerySet):
    scope_paths = {"province": "province__successor_id"}


class District(ValidityMixin):
    """A district of the old map (there are none since 2025-07-01)."""

    code = models.CharField(max_length=3)
    name = models.CharField(max_length=100)
    short_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=DistrictKind.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="districts")
    name_key = models.CharField(max_length=100, db_index=True)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="district_code_valid_from"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{3}$"), name="district_code_3_digits"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="district_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CommuneQuerySet(UnitQuerySet):
    # An old-map commune is in the scope of the new province its province became, and of the new
    # communes it went into (a commune officer sees what their commune was made of).
    scope_paths = {
        "province": ("province_id", "province__successor_id"),
        "commune": ("id", "successor_links__new_commune_id"),
    }


class Commune(ValidityMixin):
    code = models.CharField(max_length=5)
    name = models.CharField(max_length=150)
    short_name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=CommuneKind.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="communes")
    # Old map only.
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, related_name="communes")
    name_key = models.CharField(max_length=150, db_index=True)
    name_folded = models.CharField(max_length=150, db_index=True)
    # Its centre as the dataset ships it (2025 map), for the dashboard's maps: WGS 84 degrees.
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(valid_to__isnull=True), name="commune_code_current"),
            models.UniqueConstraint(fields=["code", "valid_from"], name="commune_code_valid_from"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{5}$") | Q(kind=CommuneKind.ISLAND_DISTRICT, code__regex=r"^[0-9]{3}$"),
                name="commune_code_digits",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="commune_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CommuneLink(models.Model):
    """The 2025 crosswalk: an old-map commune went, whole or in part, into a new-map commune.

    A commune that went whole has one link, whole and default. A divided one has a partial link per
    new commune its land went to, exactly one of them the default successor.
    """

    old_commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="successor_links")
    new_commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="predecessor_links")
    whole = models.BooleanField()
    is_default = models.BooleanField()

    class Meta:
        ordering = ["old_commune_id", "new_commune_id"]
        constraints = [
            models.UniqueConstraint(fields=["old_commune", "new_commune"], name="commune_link_once"),
            models.UniqueConstraint(
                fields=["old_commune"], condition=Q(is_default=True), name="commune_link_one_default"
            ),
            models.UniqueConstraint(fields=["old_commune"], condition=Q(whole=True), name="commune_link_one_whole"),
            models.CheckConstraint(condition=Q(whole=False) | Q(is_default=True), name="commune_link_whole_is_default"),
            models.CheckConstraint(condition=~Q(old_commune=F("new_commune")), name="commune_link_not_itself"),
        ]
        indexes = [models.Index(fields=["new_commune", "old_commune"])]

    def __str__(self) -> str:
        return f"{self.old_commune_id} -> {self.new_commune_id}"


class OldCommuneSource(models.TextChoices):
    CROSSWALK = "crosswalk", "Suy ra từ bảng chuyển đổi"
    IMPORT = "import", "Từ tệp nhập"
    OFFICER = "officer", "Cán bộ xác nhận"


class HamletQuerySet(UnitQuerySet):
    scope_paths = {"province": "province_id", "commune": "commune_id"}
    write_roles = frozenset({Role.PROVINCE_ADMIN, Role.COMMUNE_OFFICER})


class Hamlet(ValidityMixin):
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="hamlets")
    # Denormalized from the commune so that a province scope is one indexed column.
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=HamletKind.choices)
    active = models.BooleanField(default=True)
    # The old-map commune the hamlet was in before 2025-07-01: one of its commune's predecessors
    # (a composite foreign key to the crosswalk holds it; see the migration), and who said so.
    old_commune = models.ForeignKey(Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    old_commune_source = models.CharField(max_length=16, choices=OldCommuneSource.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HamletQuerySet.as_manager()

    class Meta:
        ordering = ["commune_id", "name_key", "id"]
        indexes = [models.Index(fields=["province", "commune"])]
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "name_key"], condition=Q(active=True), name="hamlet_name_unique_in_commune"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="hamlet_name_not_blank"),
            # Target of the composite foreign keys (hamlet, commune) that keep a team's or an
            # activity's hamlet inside its commune (see teams' migrations).
            models.UniqueConstraint(fields=["id", "commune"], name="hamlet_id_commune"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="hamlet_valid_range"
            ),
            models.CheckConstraint(
                condition=Q(old_commune__isnull=True, old_commune_source="")
                | Q(old_commune__isnull=False) & ~Q(old_commune_source=""),
                name="hamlet_old_commune_has_source",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def old_commune_recorded_by(self) -> str | None:
        """Who recorded the old commune; None while it is not known."""
        return self.old_commune_source or None


class AreaSource(models.Model):
    """Which dataset (and version) a load_areas run loaded, with what it changed."""

    source = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    valid_from = models.DateField()
    provinces = models.PositiveIntegerField()
    districts = models.PositiveIntegerField(default=0)
    communes = models.PositiveIntegerField()
    links = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.version}"


class DirtyCommune(models.Model):
    """The changed-commune outbox: a row means "recompute this commune's figures".

    Writers append a row in their own transaction (areas.changes.communes_changed). It is
    append-only, so concurrent writers in one commune never wait on each other's row locks.
    Coverage reads the rows up to some id, recomputes their communes, and deletes only the rows
    it read, so a mark made during a recompute survives it.
    """

    id = models.BigAutoField(primary_key=True)
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()
    # Only activities changed (the sync, an edit, a deletion): the round re-reads the commune's activity
    # figures and keeps the rest of its stored ones. Any other mark of the commune makes it a whole recompute.
    activities_only = models.BooleanField(db_default=False)

    class Meta:
        indexes = [models.Index(fields=["commune", "id"])]

    def __str__(self) -> str:
        return f"dirty {self.commune_id}#{self.pk}"
