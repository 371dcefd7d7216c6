"""Writes on accounts: creating and updating logins with their scope."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.phones import InvalidPhone, canonical_phone
from accounts.scoping import Role
from config.errors import DomainError, invalid


def leader_logins_deactivate(user_ids) -> None:
    """Switch off the team-leader logins among these users (a leader who left, was demoted or whose team ended)."""
    ids = [i for i in user_ids if i]
    if ids:
        User.objects.filter(pk__in=ids, role=Role.TEAM_LEADER).update(is_active=False)


@transaction.atomic
def account_upsert(
    *,
    phone: str,
    password: str,
    role: str,
    province=None,
    commune=None,
    full_name: str = "",
    check_password_strength: bool = True,
) -> tuple[User, bool]:
    """Create the login for a phone, or reset its password, role and scope. Returns (user, created).

    `province` and `commune` are unit rows the caller looked up (areas.selectors.units_by_code): a province
    admin's login takes the province, a commune officer's the commune and its province, a ministry's neither.
    """
    try:
        phone = canonical_phone(phone)
    except InvalidPhone as exc:
        raise invalid(phone=exc.args[0]) from None
    if role not in Role.values or role == Role.TEAM_LEADER:
        raise invalid(role=_("Unknown role. Use ministry, province_admin or commune_officer."))
    if role == Role.PROVINCE_ADMIN and province is None:
        raise invalid(province=_("A province admin needs a province code."))
    if role == Role.COMMUNE_OFFICER and commune is None:
        raise invalid(commune=_("A commune officer needs a commune code."))
    province_id = {
        Role.PROVINCE_ADMIN: getattr(province, "pk", None),
        Role.COMMUNE_OFFICER: getattr(commune, "province_id", None),
    }
    commune_id = commune.pk if role == Role.COMMUNE_OFFICER else None
    if check_password_strength:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise DomainError(fields={"password": exc.messages}) from None
    user = User.objects.select_for_update().filter(phone=phone).first()
    created = user is None
    if created:
        user = User(phone=phone)
    user.role = role
    user.province_id = province_id.get(role)
    user.commune_id = commune_id
    user.team = None
    if full_name:
        user.full_name = full_name
    user.is_active = True
    user.set_password(password)
    user.save()
    return user, created
