"""Admin for teams: registered and edited through teams.services; the figures derived from members are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import ScopedAdminMixin, SearchKeysMixin, ServiceForm
from areas.models import Commune, Hamlet
from areas.names import fold
from teams.models import Team, TeamLevel, TeamStatus
from teams.services import team_create, team_update


class LevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return TeamLevel.choices

    def queryset(self, request, queryset):
        if self.value() == TeamLevel.HAMLET:
            return queryset.filter(hamlet__isnull=False)
        if self.value() == TeamLevel.COMMUNE:
            return queryset.filter(hamlet__isnull=True)
        return queryset


class TeamForm(ServiceForm):
    class Meta:
        model = Team
        fields = ("commune", "hamlet", "name", "established_on", "decision_number", "version")
        # The version the page was loaded at: team_update refuses the save if someone changed the team since.
        widgets = {"version": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hamlet = self.fields.get("hamlet")
        if hamlet is not None:
            if not self.adding:
                hamlet.queryset = hamlet.queryset.filter(commune_id=self.instance.commune_id)
            hamlet.label_from_instance = lambda h: f"{h.name} ({h.commune.name})"
            hamlet.help_text = _("Empty for a commune-level team.")

    def save_through_service(self) -> Team:
        data = self.cleaned_data
        hamlet = data.get("hamlet")
        if self.adding:
            team, _created = team_create(
                actor=self.actor,
                commune_code=data["commune"].code,
                name=data["name"],
                established_on=data["established_on"],
                hamlet_id=hamlet.pk if hamlet else None,
                decision_number=data.get("decision_number") or "",
            )
            return team
        changes = self.changed("name", "established_on", "decision_number")
        if "hamlet" in self.changed_data:
            changes["hamlet_id"] = hamlet.pk if hamlet else None
        return team_update(actor=self.actor, team_id=self.instance.pk, version=data.get("version"), **changes)


# Read-only on the change page, and why:
# - province, commune: a team never moves to another commune (dissolve it and register a new one);
# - status, dissolved_on: dissolving also ends memberships and logins (teams.services.team_dissolve, via the API);
# - leader, member_count, size_status: derived from the members by members.services.teams_recount;
# - version: bumped by every service write; carried in a hidden field for the concurrency check.
TEAM_DERIVED = ("status", "dissolved_on", "leader_name", "member_count", "size_status", "created_at", "updated_at")


@admin.register(Team)
class TeamAdmin(ScopedAdminMixin, SearchKeysMixin, admin.ModelAdmin):
    form = TeamForm
    list_display = ("name", "commune", "hamlet", "status", "member_count", "size_status", "established_on")
    list_filter = (
        "status",
        "size_status",
        LevelFilter,
        ("province", admin.RelatedOnlyFieldListFilter),
        ("commune", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("commune", "hamlet")
    search_fields = ("name", "=commune__code")
    search_help_text = _("Team name (with or without tone marks), or a 5-digit commune code.")
    search_keys = {"name_folded__contains": fold}

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("commune", "hamlet", "name", "established_on", "decision_number")
        return ("name", "province", "commune", "hamlet", "established_on", "decision_number", "version", *TEAM_DERIVED)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("province", "commune", *TEAM_DERIVED)

    def has_change_permission(self, request, obj=None):
        # A dissolved team is history: its page is view-only (the service would refuse the save anyway).
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status == TeamStatus.ACTIVE)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only the units the services will accept; they check again when saving.
        if db_field.name == "commune":
            kwargs["queryset"] = Commune.objects.current().visible_to(request.user)
        elif db_field.name == "hamlet":
            kwargs["queryset"] = (
                Hamlet.objects.current().visible_to(request.user).filter(active=True).select_related("commune")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("leader"))
    def leader_name(self, obj: Team) -> str | None:
        return obj.leader.full_name if obj.leader_id else None
