"""Admin for members: written through members.services, with CCCD and phone masked as members.masking rules."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext_lazy as _

from accounts.admin import PhoneFormField, ScopedAdminMixin, ServiceForm, canonical_phone_or_none
from config.masking import mask_national_id, mask_phone
from members.masking import national_id_for, phone_for, sees_national_id, sees_phone
from members.models import Member
from members.services import member_create, member_update
from teams.models import Team

PERSONAL = ("full_name", "phone", "national_id", "birth_year", "gender", "role", "background")


class MemberForm(ServiceForm):
    class Meta:
        model = Member
        fields = ("team", *PERSONAL, "joined_on", "version")
        field_classes = {"phone": PhoneFormField}
        # The version the page was loaded at: member_update refuses the save if someone changed the member since.
        widgets = {"version": forms.HiddenInput}

    def save_through_service(self) -> Member:
        data = self.cleaned_data
        if self.adding:
            member, _created = member_create(
                actor=self.actor,
                team_id=data["team"].pk,
                joined_on=data.get("joined_on"),
                **{name: data[name] for name in PERSONAL if name in data},
            )
            return member
        # Fields missing from the form (a CCCD the user may not read) are absent here, so the service keeps them.
        changes = self.changed(*PERSONAL, "joined_on")
        return member_update(actor=self.actor, member_id=self.instance.pk, version=data.get("version"), **changes)


@admin.register(Member)
class MemberAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = MemberForm
    list_filter = ("role", "background", "active")
    list_select_related = ("team",)
    # Never the CCCD; a phone only whole and exact, in get_search_results, for those who read phones.
    search_fields = ("full_name",)
    search_help_text = _("Member name, or a whole phone number.")

    def get_list_display(self, request):
        user = request.user

        # Built per request, so the admin instance, shared by every thread, holds no user.
        @admin.display(description=_("citizen ID"))
        def national_id(member: Member) -> str | None:
            return national_id_for(user, member)

        @admin.display(description=_("phone"))
        def phone(member: Member) -> str | None:
            return phone_for(user, member)

        return ("full_name", "team", national_id, phone, "role", "background", "active")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("team", *PERSONAL, "joined_on")
        user = request.user
        # The real column appears only to those who may read it; on a view-only page Django would show it in full.
        phone = "phone" if sees_phone(user, obj) else "masked_phone"
        national_id = "national_id" if sees_national_id(user, obj) else "masked_national_id"
        return (
            "full_name",
            "team",
            "commune",
            phone,
            national_id,
            "birth_year",
            "gender",
            "role",
            "background",
            "joined_on",
            "active",
            "left_on",
            "user",
            "version",
            "created_at",
            "updated_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A member never changes team, and leaving is members.services.member_leave (through the API): it also
        # switches off a leader's login and recounts the team.
        return (
            "team",
            "commune",
            "masked_phone",
            "masked_national_id",
            "active",
            "left_on",
            "user",
            "created_at",
            "updated_at",
        )

    def has_change_permission(self, request, obj=None):
        # A member who left is history: the page is view-only (the service would refuse the save anyway).
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.active)

    def lookup_allowed(self, lookup, value, request=None):
        # Django allows any query-string filter on a local field: ?national_id__startswith= would let a user
        # read a masked CCCD digit by digit, and ?phone__startswith= a masked phone.
        parts = lookup.split(LOOKUP_SEP)
        if "national_id" in parts:
            return False
        if "phone" in parts and not sees_phone(request.user if request else None, None):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = canonical_phone_or_none(search_term) if sees_phone(request.user, None) else None
        if phone:
            results |= queryset.filter(phone=phone)
        return results, may_have_duplicates

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team":
            # Only the teams the service will accept; it checks again when saving.
            kwargs["queryset"] = Team.objects.visible_to(request.user).active().select_related("commune")
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = lambda team: f"{team.name} ({team.commune.name})"
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Member) -> str | None:
        return mask_phone(obj.phone)

    @admin.display(description=_("citizen ID"))
    def masked_national_id(self, obj: Member) -> str | None:
        return mask_national_id(obj.national_id)
