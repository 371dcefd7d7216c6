"""Admin for provinces and communes (read-only: load_areas owns them) and hamlets (written through areas.services)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import ScopedAdminMixin, SearchKeysMixin, ServiceForm
from areas.models import Commune, Hamlet, Province
from areas.names import fold, name_key
from areas.services import hamlet_create, hamlet_update

UNIT_FIELDS = ("code", "name", "short_name", "kind", "valid_from", "valid_to")


# Provinces and communes have no write_roles, so ScopedAdminMixin makes them read-only for everyone:
# they change only when load_areas loads a new edition of the official list.
@admin.register(Province)
class ProvinceAdmin(ScopedAdminMixin, SearchKeysMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "valid_from", "valid_to")
    list_filter = ("kind",)
    search_fields = ("=code", "name")
    search_keys = {"name_key__contains": name_key}
    fields = UNIT_FIELDS


@admin.register(Commune)
class CommuneAdmin(ScopedAdminMixin, SearchKeysMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "province", "valid_from", "valid_to")
    list_filter = ("kind", ("province", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("province",)
    search_fields = ("=code", "name")
    search_keys = {"name_folded__contains": fold}
    fields = ("province", *UNIT_FIELDS)


class HamletForm(ServiceForm):
    class Meta:
        model = Hamlet
        fields = ("commune", "name", "kind", "active")

    def save_through_service(self) -> Hamlet:
        data = self.cleaned_data
        if self.adding:
            return hamlet_create(
                actor=self.actor, commune_code=data["commune"].code, name=data["name"], kind=data["kind"]
            )
        # Unticking "active" retires the hamlet; the service refuses while an active team serves it.
        return hamlet_update(actor=self.actor, hamlet_id=self.instance.pk, **self.changed("name", "kind", "active"))


@admin.register(Hamlet)
class HamletAdmin(ScopedAdminMixin, SearchKeysMixin, admin.ModelAdmin):
    form = HamletForm
    list_display = ("name", "kind", "commune", "active", "valid_to")
    list_filter = ("kind", "active", ("commune", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("commune",)
    search_fields = ("name", "=commune__code")
    search_help_text = _("Hamlet name, or a 5-digit commune code.")
    search_keys = {"name_key__contains": name_key}

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("commune", "name", "kind")
        return ("commune", "province", "name", "kind", "active", "valid_from", "valid_to", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A hamlet never moves: teams and activities point to it together with its commune.
        return ("commune", "province", "valid_from", "valid_to", "created_at", "updated_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "commune":
            # Only the communes the service will accept; it checks again when saving.
            kwargs["queryset"] = Commune.objects.current().visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
