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
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    province = models.ForeignKey("areas.Province", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("areas.Commune", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(phone__regex=r"^0[35789][0-9]{8}$"), name="user_phone_canonical"),
            # A scope never reaches below the role's level: a province admin has no commune, the ministry neither.
            models.CheckConstraint(
                condition=~Q(role__in=[Role.MINISTRY, ""])
                | Q(province__isnull=True, commune__isnull=True, team__isnull=True),
                name="user_scope_nation",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.PROVINCE_ADMIN) | Q(commune__isnull=True, team__isnull=True),
                name="user_scope_province",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.COMMUNE_OFFICER) | Q(team__isnull=True), name="user_scope_commune"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role or 'user'}:{self.pk}"
