"""The user model: login by canonical mobile number, one role, and the unit that role is scoped to."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.phones import canonical_phone
from accounts.scoping import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **fields):
        user = self.model(phone=canonical_phone(phone), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", Role.MINISTRY)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    phone = models.CharField(max_length=10, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    province = models.ForeignKey("areas.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("areas.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Every token carries the version it was issued under (accounts.tokens). The database bumps it whenever
    # the password, role, scope or active flag changes (trigger user_token_version, migration 0005), so every
    # path that changes a login ends its sessions: services, the admin, commands and bulk updates alike.
    token_version = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(phone__regex=r"^0[35789][0-9]{8}$"), name="user_phone_canonical"),
            # Every login has a role: a blank role was a login that nothing guarded (issue 11).
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_known"),
            # A scope never reaches below the role's level: a province admin has no commune, the ministry neither.
            models.CheckConstraint(
                condition=~Q(role=Role.MINISTRY) | Q(province__isnull=True, commune__isnull=True, team__isnull=True),
                name="user_scope_nation",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.PROVINCE_ADMIN) | Q(commune__isnull=True, team__isnull=True),
                name="user_scope_province",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.COMMUNE_OFFICER)
                | Q(team__isnull=True, commune__isnull=False, province__isnull=False),
                name="user_scope_commune",
            ),
            # A team leader's login always names its team, with that team's commune and province; the
            # units' agreement across tables is held by the user_scope_units trigger (migration 0005).
            models.CheckConstraint(
                condition=~Q(role=Role.TEAM_LEADER)
                | Q(team__isnull=False, commune__isnull=False, province__isnull=False),
                name="user_scope_team",
            ),
            # A team leader's login is made from a member's phone by a commune officer: it never carries
            # superuser rights, so such a login can never be the way to unscoped power.
            models.CheckConstraint(
                condition=~Q(role=Role.TEAM_LEADER) | Q(is_superuser=False),
                name="user_team_leader_not_superuser",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}:{self.pk}"


class AuditQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The ministry reads the whole log; a province admin reads their province's entries; nobody else."""
        from accounts.scoping import NATION, PROVINCE, scope_of

        scope = scope_of(user)
        if scope.level == NATION:
            return self.all()
        if scope.level == PROVINCE:
            return self.filter(province_id=scope.province_id)
        return self.none()


class AuditEntry(models.Model):
    """One registry write: who did what to which record, when, with the record before and after.

    Phone numbers and citizen IDs are stored masked (accounts.audit), so the log is not a second
    copy of personal data.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=40)
    entity = models.CharField(max_length=40)
    entity_id = models.CharField(max_length=64)
    province = models.ForeignKey("areas.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("areas.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["province", "at"]),
            models.Index(fields=["entity", "entity_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.entity_id}"
