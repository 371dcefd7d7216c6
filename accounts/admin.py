"""Admin for logins, and the scoped, service-backed base that every app's admin builds on."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.phones import InvalidPhone, canonical_phone
from accounts.scoping import Role, ScopedQuerySet, can_write, scope_of
from config.errors import DomainError

admin.site.site_header = _("Community Digital Technology Teams")
admin.site.site_title = _("CDT administration")


def canonical_phone_or_none(term: str) -> str | None:
    """The canonical form of a search term that is a whole mobile number, else None."""
    try:
        return canonical_phone(term)
    except InvalidPhone:
        return None


class PhoneFormField(forms.CharField):
    """A phone input that accepts every common spelling (+84, spaces, dots) and cleans to the canonical 10 digits."""

    def __init__(self, *, max_length=None, **kwargs):
        # The model's max_length is that of the canonical form; people type +84 and spaces before cleaning.
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return canonical_phone(value)
        except InvalidPhone as exc:
            raise ValidationError(exc.args[0], code="invalid") from None


class ServiceForm(forms.ModelForm):
    """A model form that saves through its app's service, at the very end of validation.

    The service is the only writer and the judge of its own rules (scope, uniqueness under row locks,
    versions, the coverage outbox). Calling it while validating, inside the admin's transaction, turns its
    DomainError into form errors instead of a 500; the admin's save_model then has nothing left to do.
    """

    # Set per request by ScopedAdminMixin.get_form.
    actor = None

    def save_through_service(self) -> Model:
        """Write the cleaned data through the service and return the saved row."""
        raise NotImplementedError

    @property
    def adding(self) -> bool:
        return self.instance._state.adding

    def validate_unique(self):
        # The service checks uniqueness and constraints itself, under its row locks and with its own messages.
        return None

    def _post_clean(self):
        super()._post_clean()
        if self.errors or (not self.adding and not self.has_changed()):
            return
        try:
            self.instance = self.save_through_service()
        except DomainError as exc:
            self.add_domain_error(exc)

    def changed(self, *names: str) -> dict:
        """The cleaned values of these fields that the user changed: services get only what was edited."""
        return {name: self.cleaned_data[name] for name in names if name in self.changed_data}

    def add_domain_error(self, exc: DomainError) -> None:
        if not exc.fields:
            self.add_error(None, str(exc.message or exc.code))
        for name, messages in exc.fields.items():
            for message in messages:
                if name in self.fields:
                    self.add_error(name, str(message))
                else:
                    self.add_error(None, f"{name}: {message}")


class ScopedAdminMixin:
    """A ModelAdmin whose rows and rights come from the scoping mechanism, not from Django's model permissions.

    Reads: a superuser sees every row; anyone else sees Model.objects.visible_to(user), so a staff user with
    no scope sees nothing. Writes: the role must be in the queryset's write_roles and the row in
    writable_by(user), for superusers too, because every write goes through a service that applies the same
    rule with the user as actor. Nothing is deleted here: rows are retired, dissolved or left through
    services, and history and coverage depend on them.
    """

    @property
    def scoped_queryset_class(self) -> type[ScopedQuerySet]:
        return type(self.model._default_manager.all())

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.visible_to(request.user)

    def has_module_permission(self, request):
        user = request.user
        return user.is_active and (user.is_superuser or not scope_of(user).is_empty)

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return can_write(request.user, self.scoped_queryset_class)

    def has_change_permission(self, request, obj=None):
        if not can_write(request.user, self.scoped_queryset_class):
            return False
        return obj is None or self.model._default_manager.writable_by(request.user).filter(pk=obj.pk).exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # A subclass per request carries the actor, so the admin instance, shared by every thread, holds no user.
        return type(form)(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        # ServiceForm already saved obj through the service while validating; obj.save() would bypass it.
        return None


class SearchKeysMixin:
    """Adds normalized-key matches to the admin search, e.g. tone-less "thanh hoa" for "Thanh Hóa".

    search_keys maps a lookup to the function that turns the search term into that column's form.
    """

    search_keys: dict = {}

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        for lookup, transform in self.search_keys.items():
            key = transform(term)
            if key:
                results |= queryset.filter(**{lookup: key})
        return results, may_have_duplicates


# --- Users ------------------------------------------------------------------------------------


class UserScopeFormMixin:
    """Checks that the role and its units fit together, with messages instead of a constraint name.

    Team-leader logins are made from the team's leader member (members.services.team_leader_account_set),
    which links the login to the member; the admin shows their scope read-only and never grants that role.
    """

    def clean(self):
        cleaned = super().clean()
        if "role" in self.fields:
            self._clean_scope(cleaned)
        return cleaned

    def _clean_scope(self, cleaned: dict) -> None:
        role = cleaned.get("role") or ""
        province, commune = cleaned.get("province"), cleaned.get("commune")
        if role == Role.TEAM_LEADER:
            self.add_error("role", _("Team-leader logins are created from the team's leader member."))
        elif role == Role.MINISTRY:
            for name in ("province", "commune"):
                if cleaned.get(name):
                    self.add_error(name, _("This role is not tied to a unit; leave it empty."))
        elif role == Role.PROVINCE_ADMIN:
            if province is None:
                self.add_error("province", _("A province admin needs a province."))
            if commune is not None:
                self.add_error("commune", _("A province admin has no commune; leave it empty."))
        elif role == Role.COMMUNE_OFFICER:
            if commune is None:
                self.add_error("commune", _("A commune officer needs a commune."))
            elif province is not None and province.pk != commune.province_id:
                self.add_error("commune", _("This commune is not in the chosen province."))
            else:
                cleaned["province"] = commune.province


class UserAddForm(UserScopeFormMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("phone", "full_name", "role", "province", "commune")
        field_classes = {"phone": PhoneFormField}


class UserEditForm(UserScopeFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("phone", "password", "full_name", "role", "province", "commune", "is_active", "is_staff")
        field_classes = {"phone": PhoneFormField}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Logins: superusers only.

    A login's role and staff flags are what every scope and admin right derives from, so handing them out
    stays with superusers. Django's groups and model permissions are not used (roles decide), so they are
    not offered. Logins are deactivated, never deleted: tokens, admin history and members point to them.
    """

    form = UserEditForm
    add_form = UserAddForm
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        (_("Personal info"), {"fields": ("full_name",)}),
        (_("Role and scope"), {"fields": ("role", "province", "commune", "team")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "phone",
                    "full_name",
                    "role",
                    "province",
                    "commune",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = ("phone", "full_name", "role", "province", "commune", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active")
    list_select_related = ("province", "commune")
    search_fields = ("full_name",)
    search_help_text = _("Name, or a whole phone number in any spelling.")
    ordering = ("phone",)
    filter_horizontal = ()
    autocomplete_fields = ("commune",)

    def get_readonly_fields(self, request, obj=None):
        fields = ("is_superuser", "team", "last_login", "date_joined")
        if obj is not None and obj.role == Role.TEAM_LEADER:
            return ("role", "province", "commune", *fields)
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "province" or db_field.name == "commune":
            kwargs["queryset"] = db_field.related_model.objects.current()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = canonical_phone_or_none(search_term)
        if phone:
            results |= queryset.filter(phone=phone)
        return results, may_have_duplicates

    def _superuser(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return False
