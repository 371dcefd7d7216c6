"""Tokens that end when the login changes: each carries the login's token_version, checked on every use.

The database bumps token_version whenever a login's password, role, scope, phone, active or staff flags
change (migration 0006), so a password reset, a role change, leaving the team or a deactivation ends
every access token at its next request and every refresh token at its next refresh.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from config.statements import get_by_pk

VERSION_CLAIM = "ver"

SESSION_ENDED = _("This session has ended: the login was changed. Log in again.")


def tokens_for(user) -> RefreshToken:
    """A new refresh token (and its access token) for the login as it is now in the database."""
    version = get_user_model().objects.filter(pk=user.pk).values_list("token_version", flat=True).get()
    refresh = RefreshToken.for_user(user)
    refresh[VERSION_CLAIM] = version
    return refresh


def _check_version(token, user) -> None:
    if token.get(VERSION_CLAIM) != user.token_version:
        raise AuthenticationFailed(SESSION_ENDED, code="session_ended")


@functools.lru_cache(maxsize=4096)
def verified_token(raw_token: bytes):
    """simplejwt's validated token for these bytes (signature, type, claims), kept per process: a client sends
    the same access token with every request of its lifetime (at most 15 minutes), and checking it took 0.2 ms
    of each. A token that fails is raised, never kept. Its expiry is checked again at each use (see
    VersionedJWTAuthentication), and the login's row on every request, so a kept token ends as soon as one
    checked from scratch would."""
    return JWTAuthentication.get_validated_token(JWTAuthentication(), raw_token)


class VersionedJWTAuthentication(JWTAuthentication):
    """Bearer access tokens, refused once the login's token_version has moved on."""

    def get_validated_token(self, raw_token):
        token = verified_token(bytes(raw_token))
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            return super().get_validated_token(raw_token)  # expired since: refused as simplejwt refuses it
        return token

    def get_user(self, validated_token):
        # simplejwt's get_user, with the login read by a statement compiled once (config.statements): on every
        # API request, the ORM's get() took longer to build its query than PostgreSQL took to answer it.
        if self.user_model._meta.pk.name != api_settings.USER_ID_FIELD or api_settings.CHECK_REVOKE_TOKEN:
            user = super().get_user(validated_token)  # not this project's settings: simplejwt's own path
        else:
            try:
                user_id = validated_token[api_settings.USER_ID_CLAIM]
            except KeyError as exc:
                raise InvalidToken(_("Token contained no recognizable user identification")) from exc
            user = get_by_pk(self.user_model, user_id)
            if user is None:
                raise AuthenticationFailed(_("User not found"), code="user_not_found")
            if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
                raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        _check_version(validated_token, user)
        return user


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """A refresh that also checks the login still exists, is active and has not changed since the token."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(self.error_messages["no_active_account"], code="no_active_account")
        _check_version(refresh, user)
        return super().validate(attrs)


class VersionedJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of VersionedJWTAuthentication: the same bearer JWT as simplejwt's."""

    target_class = "accounts.tokens.VersionedJWTAuthentication"
