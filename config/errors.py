"""The project's one domain exception and the DRF handler that maps every error to a clear 4xx."""

from __future__ import annotations

import logging
import math

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from config.inputs import JSONRenderer

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
        """The error envelope (config.schema.ErrorOutput): detail, code, field errors under `errors`, extras."""
        detail = self.message
        if not detail and self.fields:
            # A 400 about fields says "invalid input"; another status (a 413 on a file) says its first message.
            first = next(iter(self.fields.values()))
            detail = _("Invalid input.") if self.status_code == 400 or not first else first[0]
        detail = detail or self.code
        return envelope(detail, self.code, errors=field_errors(self.fields), **self.extra)


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


def envelope(detail, code: str, *, errors: dict | None = None, **extra) -> dict:
    """Every error body: {"detail", "code"} always; "errors" (field path -> messages) on a 400 about fields;
    and the keys some errors carry (version, existing_id, updated_at, retry_after)."""
    data: dict = {"detail": str(detail), "code": str(code)}
    if errors:
        data["errors"] = errors
    for key, value in extra.items():
        data[key] = str(value) if key == "existing_id" else value
    return data


def field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail flattened to one level: {"activities.3.minutes": ["..."]}.

    A message that names no field is under "non_field_errors"; a list item's index is a path segment.
    """
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            for path, messages in field_errors(value, f"{prefix}.{name}" if prefix else name).items():
                out.setdefault(path, []).extend(messages)
    elif isinstance(detail, (list, tuple)):
        if all(not isinstance(item, (dict, list, tuple)) for item in detail):
            if detail:
                out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                for path, messages in field_errors(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(path, []).extend(messages)
    elif detail not in (None, ""):
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _api_exception_data(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        return envelope(_("Invalid input."), "invalid", errors=field_errors(exc.detail))
    detail = exc.detail
    if isinstance(detail, dict):
        # simplejwt's InvalidToken: {"detail", "code", "messages": [...]}.
        return envelope(detail.get("detail", exc.default_detail), detail.get("code", exc.default_code))
    if isinstance(detail, list):
        detail = " ".join(str(item) for item in detail)
    data = envelope(detail, getattr(detail, "code", None) or exc.default_code)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        data["retry_after"] = max(1, math.ceil(exc.wait))
    return data


def _answer_in_json(context) -> None:
    """An error is JSON even where the view also renders CSV or XLSX (an export URL, ?format=xlsx)."""
    request = (context or {}).get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def exception_handler(exc, context):
    _answer_in_json(context)
    if isinstance(exc, DomainError):
        data = exc.as_data()
        headers = {"Retry-After": str(data["retry_after"])} if "retry_after" in data else None
        return Response(data, status=exc.status_code, headers=headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(envelope(_("The request body is too large."), "too_large"), status=413)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, IntegrityError):
        # A constraint the services did not foresee: still the client's conflict, never a 500.
        logger.warning("integrity error turned into 409: %s", type(exc).__name__)
        return Response(envelope(_("The request conflicts with existing data."), "conflict"), status=409)
    elif isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        logger.error("database unavailable: %s", type(exc).__name__)
        return Response(
            envelope(_("The database is unavailable. Try again shortly."), "database_unavailable", retry_after=5),
            status=503,
            headers={"Retry-After": "5"},
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = _api_exception_data(exc)
    return response


def _api_request(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    """handler404: JSON under /api/, Django's page elsewhere (the admin)."""
    if _api_request(request):
        return JsonResponse(envelope(_("Not found."), "not_found"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: JSON under /api/ (a 500 is always a bug: it is logged with its traceback)."""
    if _api_request(request):
        return JsonResponse(envelope(_("Internal server error."), "server_error"), status=500)
    return defaults.server_error(request)
