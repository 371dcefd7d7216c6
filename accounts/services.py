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
    province_code: str | None = None,
    commune_code: str | None = None,
    full_name: str = "",
    check_password_strength: bool = True,
) -> tuple[User, bool]:
    """Create the login for a phone, or reset its password, role and scope. Returns (user, created)."""
    try:
        phone = canonical_phone(phone)
    except InvalidPhone as exc:
        raise invalid(phone=exc.args[0]) from None
    if role not in Role.values or role == Role.TEAM_LEADER:
        raise invalid(role=_("Unknown role. Use ministry, province_admin or commune_officer."))
    # The unit models are reached through the scope's foreign keys: accounts sits below areas.
    Province = User._meta.get_field("province").related_model
    Commune = User._meta.get_field("commune").related_model
    province = commune = None
    if role == Role.PROVINCE_ADMIN:
        if not province_code:
            raise invalid(province=_("A province admin needs a province code."))
        province = Province.objects.current().filter(code=province_code).first()
        if province is None:
            raise invalid(province=_("Unknown province code."))
    if role == Role.COMMUNE_OFFICER:
        if not commune_code:
            raise invalid(commune=_("A commune officer needs a commune code."))
        commune = Commune.objects.current().filter(code=commune_code).first()
        if commune is None:
            raise invalid(commune=_("Unknown commune code."))
        province = Province.objects.get(pk=commune.province_id)
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
    user.province = province
    user.commune = commune
    user.team = None
    if full_name:
        user.full_name = full_name
    user.is_active = True
    user.set_password(password)
    user.save()
    return user, created
