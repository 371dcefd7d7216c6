"""Personal-data masking (Law 91/2025/QH15): who sees a member's CCCD and phone in full."""

from __future__ import annotations

from accounts.scoping import Role
from config.masking import mask_national_id, mask_phone


def sees_national_id(user, member) -> bool:
    """Only a province admin of the member's province reads the CCCD in full."""
    return getattr(user, "role", None) == Role.PROVINCE_ADMIN and user.province_id == member.province_id


def sees_phone(user, member) -> bool:
    """Those who manage the member (in their scope) read the phone; the ministry, which only reads, does not."""
    role = getattr(user, "role", None)
    if member is None:  # a form for a new member: those who may add members type the phone
        return role in {Role.PROVINCE_ADMIN, Role.COMMUNE_OFFICER, Role.TEAM_LEADER}
    if role == Role.PROVINCE_ADMIN:
        return user.province_id is not None and user.province_id == member.province_id
    if role == Role.COMMUNE_OFFICER:
        return user.commune_id is not None and user.commune_id == member.commune_id
    if role == Role.TEAM_LEADER:
        return user.team_id is not None and user.team_id == member.team_id
    return False


def national_id_for(user, member) -> str | None:
    return member.national_id if sees_national_id(user, member) else mask_national_id(member.national_id)


def phone_for(user, member) -> str | None:
    return member.phone if sees_phone(user, member) else mask_phone(member.phone)
