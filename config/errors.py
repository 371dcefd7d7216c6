"""The project's one domain exception and the DRF handler that maps every error to a clear 4xx."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule said no. Services raise it; the API turns it into a 4xx.

    `fields` maps a field name to its messages, like a DRF ValidationError.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(
        self,
        message=None,
        *,
        code: str | None = None,
        fields: dict[str, list] | None = None,
        status_code: int | None = None,
        extra: dict | None = None,
    ):
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code
        super().__init__(str(message) if message else self.code)

    def as_data(self) -> dict:
        data: dict = {}
        if self.message:
            data["detail"] = str(self.message)
        data["code"] = self.code
        for name, messages in self.fields.items():
            data[name] = [str(m) for m in messages]
        data.update(self.extra)
        return data


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class PreconditionFailed(DomainError):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"


class ServiceUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"


class PreconditionRequired(DomainError):
    status_code = 428
    default_code = "version_required"


def constraint_name(exc: Exception) -> str | None:
    """The name of the database constraint an IntegrityError broke (PostgreSQL), if known."""
    cause = getattr(exc, "__cause__", None)
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    text = str(exc)
    return text if text else None


def invalid(**fields) -> DomainError:
    """A 400 with one message per named field: invalid(phone=_("...")) ."""
    return DomainError(fields={name: [msg] for name, msg in fields.items()})


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_data(), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": str(_("The request body is too large.")), "code": "too_large"}, status=413)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, IntegrityError):
        # A constraint the services did not foresee: still the client's conflict, never a 500.
        logger.warning("integrity error turned into 409: %s", type(exc).__name__)
        return Response({"detail": str(_("The request conflicts with existing data.")), "code": "conflict"}, status=409)
    elif isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        logger.error("database unavailable: %s", type(exc).__name__)
        return Response(
            {"detail": str(_("The database is unavailable. Try again shortly.")), "code": "database_unavailable"},
            status=503,
            headers={"Retry-After": "5"},
        )
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and isinstance(exc, exceptions.APIException)
        and isinstance(response.data, dict)
        and "detail" in response.data
        and "code" not in response.data
    ):
        response.data["code"] = getattr(exc.detail, "code", exc.default_code)
    return response


def _api_request(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    """handler404: JSON under /api/, Django's page elsewhere (the admin)."""
    if _api_request(request):
        return JsonResponse({"detail": str(_("Not found.")), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: JSON under /api/ (a 500 is always a bug: it is logged with its traceback)."""
    if _api_request(request):
        return JsonResponse({"detail": str(_("Internal server error.")), "code": "server_error"}, status=500)
    return defaults.server_error(request)
