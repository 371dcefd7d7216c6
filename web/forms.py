"""The dashboard's login form: the phone as the API reads it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.phones import InvalidPhone, canonical_phone


class LoginForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=32)
    password = forms.CharField(label=_("Password"), max_length=128, strip=False, widget=forms.PasswordInput)

    def clean_phone(self) -> str:
        try:
            return canonical_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.args[0]) from None
