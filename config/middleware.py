"""Request guards that apply before any view: no API query parameter may carry a NUL character."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _


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
                return JsonResponse(
                    {name.replace("\x00", ""): [message] for name in bad} | {"code": "invalid"}, status=400
                )
        return self.get_response(request)
