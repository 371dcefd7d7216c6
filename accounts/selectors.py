"""Reads of accounts' own rows (the audit log), scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.filters import AuditFilter
from accounts.models import AuditEntry
from config.filtering import filtered


def audit_list(*, user, filters: dict | None = None) -> QuerySet[AuditEntry]:
    """Audit entries the user may see, newest first, with the province and commune the API prints."""
    qs = AuditEntry.objects.visible_to(user).select_related("province", "commune").order_by("-at", "-id")
    return filtered(AuditFilter, filters or {}, qs)
