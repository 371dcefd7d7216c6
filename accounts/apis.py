"""Login, token refresh and /me/."""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from accounts.phones import InvalidPhone, canonical_phone
from accounts.tokens import TokenRefreshSerializer, tokens_for
from config.errors import DomainError
from config.throttling import LoginRateThrottle


class LoginInput(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate_phone(self, value: str) -> str:
        try:
            return canonical_phone(value)
        except InvalidPhone as exc:
            raise serializers.ValidationError(exc.args[0]) from None


class TokenPair(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


def _locked_out() -> DomainError:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    message = _("Too many failed logins for this phone number. Try again in %(minutes)d minutes.")
    return DomainError(
        message % {"minutes": seconds // 60},
        code="locked_out",
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        extra={"retry_after": seconds},  # the whole cool-off: an upper bound
    )


class TokenObtainApi(APIView):
    """Log in with phone and password; get an access token (15 minutes) and a rotating refresh token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=LoginInput, responses={200: TokenPair})
    def post(self, request):
        data = LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        credentials = {"phone": data.validated_data["phone"]}
        if AxesProxyHandler.is_locked(request._request, credentials):
            raise _locked_out()
        try:
            user = authenticate(request._request, **credentials, password=data.validated_data["password"])
        except AxesBackendPermissionDenied:
            raise _locked_out() from None
        if getattr(request._request, "axes_locked_out", False):
            raise _locked_out()
        if user is None or not user.is_active:
            raise DomainError(_("The phone number or password is wrong."), code="invalid_credentials", status_code=401)
        # A token login never calls django.contrib.auth.login(): send its signal, so that axes resets the
        # failure count (AXES_RESET_ON_SUCCESS) and last_login is kept.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        refresh = tokens_for(user)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class TokenRefreshApi(TokenRefreshView):
    """Trade a refresh token for a new pair; the old refresh token is blacklisted.

    Refused once the login changed (password, role, scope, active): see accounts.tokens.
    """

    serializer_class = TokenRefreshSerializer


class MeOutput(serializers.Serializer):
    phone = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    province = serializers.CharField(allow_null=True)
    commune = serializers.CharField(allow_null=True)
    team = serializers.CharField(allow_null=True)


class MeApi(APIView):
    """Who am I: phone, role and the codes (or team id) of my scope; null where not scoped."""

    @extend_schema(responses={200: MeOutput})
    def get(self, request):
        user = request.user
        team_id = getattr(user, "team_id", None)
        return Response(
            MeOutput(
                {
                    "phone": user.phone,
                    "role": user.role or None,
                    "province": user.province.code if user.province_id else None,
                    "commune": user.commune.code if user.commune_id else None,
                    "team": str(team_id) if team_id else None,
                }
            ).data
        )
