"""Masking of personal data (Law 91/2025/QH15): the one place that says how a phone or a CCCD is shown masked."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """0912345678 -> 091****678: enough to recognise, not enough to call."""
    if not phone:
        return phone
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]


def mask_national_id(value: str | None) -> str | None:
    """079012345678 -> ********5678."""
    if not value:
        return value
    return "*" * (len(value) - 4) + value[-4:]
