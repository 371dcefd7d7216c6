"""Vietnamese mobile numbers: one canonical form (0 + 9 digits) for every way people write them."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

# Mobile numbers after the 2018 renumbering start with 03, 05, 07, 08 or 09; landlines start with 02.
_MOBILE = re.compile(r"^0[35789][0-9]{8}$")
_SEPARATORS = re.compile(r"[\s.\-()]")


class InvalidPhone(ValueError):
    pass


def canonical_phone(raw: str) -> str:
    """0912345678, +84912345678, 84 912 345 678 and 0912.345.678 all give 0912345678.

    Raises InvalidPhone with a translatable message.
    """
    if not isinstance(raw, str):
        raise InvalidPhone(_("Enter a phone number as text."))
    value = _SEPARATORS.sub("", raw.strip())
    if value.startswith("+84"):
        value = "0" + value[3:]
    elif value.startswith("84") and len(value) == 11:
        value = "0" + value[2:]
    if not value.isdigit() or not value.isascii():
        raise InvalidPhone(_("A phone number may contain only digits, spaces, dots, dashes and a leading +84."))
    if value.startswith("02"):
        raise InvalidPhone(_("This is a landline number; enter a Vietnamese mobile number."))
    if not _MOBILE.match(value):
        raise InvalidPhone(_("Enter a valid Vietnamese mobile number of 10 digits, e.g. 0912345678."))
    return value


def axes_username(request, credentials) -> str | None:
    """django-axes counts failures per canonical phone, so spellings of one number share a lockout."""
    raw = (credentials or {}).get("phone") or (credentials or {}).get("username")
    if raw is None:
        data = getattr(request, "data", None) or {}
        raw = data.get("phone") if hasattr(data, "get") else None
    if not raw:
        return None
    try:
        return canonical_phone(str(raw))
    except InvalidPhone:
        return str(raw)[:32]
