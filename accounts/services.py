"""Writes on accounts: creating and updating logins with their scope."""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.phones import InvalidPhone, canonical_phone
from accounts.scoping import Role
from config.errors import DomainError, invalid


def _locked_out() -> DomainError:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = _("Too many failed logins for this phone number. Try again in %(minutes)d minutes.")
    return DomainError(
        message % {"minutes": seconds // 60},
        code="locked_out",
        status_code=429,
        extra={"retry_after": seconds},  # the whole cool-off: an upper bound
    )


def login_check(request, *, phone: str, password: str) -> User:
    """The user a canonical phone and password log in, under the per-phone lockout (django-axes): the one
    rule for the token login and the dashboard's session login. Raises 429 when locked out, 401 when wrong.

    A failure is counted by axes; the caller signals success (user_logged_in), which resets the count.
    """
    credentials = {"phone": phone}
    if AxesProxyHandler.is_locked(request, credentials):
        raise _locked_out()
    try:
        user = authenticate(request, **credentials, password=password)
    except AxesBackendPermissionDenied:
        raise _locked_out() from None
    if getattr(request, "axes_locked_out", False):
        raise _locked_out()
    if user is None or not user.is_active:
        raise DomainError(_("The phone number or password is wrong."), code="invalid_credentials", status_code=401)
    return user


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
