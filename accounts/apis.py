"""Login, token refresh and /me/."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenRefreshView

from accounts.phones import InvalidPhone, canonical_phone
from accounts.services import login_check
from accounts.tokens import TokenRefreshSerializer, tokens_for
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
        phone, password = data.validated_data["phone"], data.validated_data["password"]
        user = login_check(request._request, phone=phone, password=password)
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
