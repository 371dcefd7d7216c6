"""THE scoping mechanism: one rule that turns a user into the rows they may see or write.

A user's scope is (role, province, commune, team). Each scoped queryset names,
in `scope_paths`, the ORM path of its province, commune and team columns; the
user's most specific level that the model carries decides the filter. No scope,
nothing: every failure to find a scope denies.

This module imports no app's models, so every app's models can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    MINISTRY = "ministry", "Bộ Khoa học và Công nghệ"
    PROVINCE_ADMIN = "province_admin", "Quản trị cấp tỉnh"
    COMMUNE_OFFICER = "commune_officer", "Cán bộ cấp xã"
    TEAM_LEADER = "team_leader", "Tổ trưởng"


NATION, PROVINCE, COMMUNE, TEAM = "nation", "province", "commune", "team"


@dataclass(frozen=True)
class Scope:
    role: str | None
    level: str | None
    province_id: int | None = None
    commune_id: int | None = None
    team_id: Any = None

    @property
    def is_empty(self) -> bool:
        return self.level is None


NO_SCOPE = Scope(role=None, level=None)


def scope_of(user) -> Scope:
    """The scope a user's role grants, or NO_SCOPE when the role lacks the unit it needs."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return NO_SCOPE
    role = getattr(user, "role", None)
    province_id = getattr(user, "province_id", None)
    commune_id = getattr(user, "commune_id", None)
    team_id = getattr(user, "team_id", None)
    if role == Role.MINISTRY:
        return Scope(role, NATION)
    if role == Role.PROVINCE_ADMIN and province_id:
        return Scope(role, PROVINCE, province_id=province_id)
    if role == Role.COMMUNE_OFFICER and commune_id and province_id:
        return Scope(role, COMMUNE, province_id=province_id, commune_id=commune_id)
    if role == Role.TEAM_LEADER and team_id and commune_id and province_id:
        return Scope(role, TEAM, province_id=province_id, commune_id=commune_id, team_id=team_id)
    return Scope(role, None)


# From the user's level, the levels to try on a model, most specific first.
_FALLBACK = {
    TEAM: (TEAM, COMMUNE, PROVINCE),
    COMMUNE: (COMMUNE, PROVINCE),
    PROVINCE: (PROVINCE,),
}


def scope_q(scope: Scope, paths: dict[str, str | tuple[str, ...]]) -> Q | None:
    """The filter for a model with these scope paths, or None when nothing is visible."""
    if scope.level is None:
        return None
    if scope.level == NATION:
        return Q()
    values = {PROVINCE: scope.province_id, COMMUNE: scope.commune_id, TEAM: scope.team_id}
    for level in _FALLBACK[scope.level]:
        path = paths.get(level)
        if path:
            # Several paths for one level: a row is in scope through any of them (old-map units).
            alternatives = (path,) if isinstance(path, str) else path
            condition = Q()
            for one in alternatives:
                condition |= Q(**{one: values[level]})
            return condition
    return None


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows its scope columns. Subclasses set scope_paths and write_roles."""

    scope_paths: dict[str, str | tuple[str, ...]] = {}
    # Roles that may write rows of this model (inside their scope). Nobody by default.
    write_roles: frozenset[str] = frozenset()

    def visible_to(self, user):
        """Rows the user may read."""
        condition = scope_q(scope_of(user), self.scope_paths)
        return self.none() if condition is None else self.filter(condition)

    def writable_by(self, user):
        """Rows the user may change: their role must write this model, inside their scope."""
        if getattr(user, "role", None) not in self.write_roles:
            return self.none()
        return self.visible_to(user)


def can_write(user, queryset_class: type[ScopedQuerySet]) -> bool:
    return getattr(user, "role", None) in queryset_class.write_roles and not scope_of(user).is_empty
