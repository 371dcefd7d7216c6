"""Guards around every API request: no NUL in a query parameter; a URL that matches nothing is a JSON 404."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

from config.errors import envelope


class RejectNulInQuery:
    """A NUL in a query parameter is never a value this service stores or filters by: 400, before any query.

    (PostgreSQL refuses NUL in text, SQLite truncates at it; body fields are checked by DRF's fields.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            bad = sorted({key for key, values in request.GET.lists() for v in [key, *values] if "\x00" in v})
            if bad:
                message = _("Query parameters may not contain NUL characters.")
                errors = {name.replace("\x00", ""): [message] for name in bad}
                return JsonResponse(envelope(_("Invalid input."), "invalid", errors=errors), status=400)
        return self.get_response(request)


class JsonNotFoundUnderApi:
    """A URL under /api/ that matches no route answers the API's JSON 404, in every mode.

    handler404 does this when DEBUG is off; with DEBUG on (the embedded `make run`), Django would answer its
    HTML page listing every route.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse(envelope(_("Not found."), "not_found"), status=404)
        return response
