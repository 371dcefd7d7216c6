"""Conditional GET: the reads a mobile client polls carry an ETag, and If-None-Match answers 304 with no body.

A view decides a 304 from a cheap validator before it runs its full query or serializes anything: an
aggregate over the rows its answer reads (a list's count with the latest change, which also serves as the
paginator's count), the row's own columns (a detail), or a freshness state (coverage). The ETag digests
the validator with everything else that shapes the body:
- the URL with its query string (filters, page, page_size, ordering, as_of; the host is in the next/previous links);
- the response language (LocaleMiddleware's, from Accept-Language; it adds `Vary: Accept-Language`);
- who asks: the user and their role's scope, since scoping and masking make bodies differ per user;
- REVISION, for a release that changes a representation while its rows stay the same.

Authentication, permissions and scope come first: a row out of scope is a 404, never a 304. If-None-Match
follows RFC 9110: a list of tags, weak comparison (`W/` ignored), and `*` for "any current representation".
Only JSON answers are conditional; a CSV or XLSX export is not. A view that serves this sets
`conditional_get = True`, which the schema (config.schema) reads to document If-None-Match, the ETag
header and the 304.

A view whose body depends only on the validator, the URL, the language and the requester's scope (not on
who they are) sets `body_cache = True`: its rendered JSON is kept in the cache under a key made of those, so
that a full answer to anyone with the same scope is the validator's query and one cache read. Each process
also keeps the bodies it used last (KeptBodies), so that the answer asked again of the same process is the
validator's query alone. A changed validator is a new key, so a body is never served after what it depends
on changed; the old one expires (settings.BODY_CACHE_SECONDS) or is pushed out of the process's 8 MB.
Without the cache (Redis down) the body is computed, as without the option.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import InvalidPage
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.db.models import Count, QuerySet, Value
from django.http import Http404, HttpResponseNotModified
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language
from rest_framework.response import Response

from config.pagination import CountedApart
from config.replica import read_alias
from config.statements import prepared_cursor

# Bump when a response's shape or format changes while its rows do not (a new field, another timestamp form):
# every client then fetches each body once more.
REVISION = 1

logger = logging.getLogger(__name__)

# Who asks, as far as a body can depend on it: the login and the scope its role grants (accounts.scoping).
REQUESTER = ("pk", "role", "province_id", "commune_id", "team_id")
# What a scoped body without personal data depends on: the scope, not the login (body_cache).
SCOPE = REQUESTER[1:]

STAR = "*"


def etag_matches(header: str | None, tag: str) -> bool | None:
    """Whether an If-None-Match value holds `tag` by weak comparison: True, False, or None for `*` (any)."""
    if not header:
        return False
    tags = parse_etags(header)
    if tags == [STAR]:
        return None
    opaque = tag.removeprefix("W/")
    return any(candidate.removeprefix("W/") == opaque for candidate in tags)


def scalar(queryset: QuerySet, expression) -> QuerySet:
    """`expression` (an aggregate) over `queryset` as a one-row, one-column queryset: usable as a Subquery,
    so that one SELECT can read several tables' aggregates (SELECT COUNT(...) FROM ... with no GROUP BY)."""
    return queryset.order_by().annotate(_one=Value(1)).values("_one").annotate(value=expression).values("value")


def scalars(**querysets: QuerySet) -> dict:
    """The one value of each one-row, one-column queryset (see `scalar`), read in a single SELECT."""
    return _read(*_statement(querysets))


# Statements of `scalars_once`, by key: compiled once per process.
_STATEMENTS: dict[tuple, tuple[list[str], str, list]] = {}


def scalars_once(key: tuple, build: Callable[[], dict[str, QuerySet]]) -> dict:
    """`scalars(**build())` for querysets whose SQL and parameters depend on `key` alone (not on the user, the
    day or the data): they are built and compiled on the first call only. Django takes a few milliseconds to
    build and compile a statement of several sub-queries, more than PostgreSQL takes to run it; and PostgreSQL
    takes longer to plan it than to run it, so it is prepared (config.statements.prepared_cursor)."""
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _statement(build())
    return _read(*statement, prepared=True)


def _statement(querysets: dict[str, QuerySet]) -> tuple[list[str], str, list]:
    compiled = [_compiled(queryset) for queryset in querysets.values()]
    sql = "SELECT " + ", ".join(f"({part})" for part, _params in compiled)
    return list(querysets), sql, [param for _part, params in compiled for param in params]


def _read(names: list[str], sql: str, params: list, *, prepared: bool = False) -> dict:
    connection = connections[read_alias()]
    with prepared_cursor(connection) if prepared else connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(zip(names, cursor.fetchone(), strict=True))


def _compiled(queryset: QuerySet) -> tuple[str, tuple]:
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:  # nothing in scope (visible_to gave none()): no value
        return "NULL", ()


def _resolve(obj, path: str):
    """An ORM path (`leader__full_name`, `leader_id`) read on an instance, None past a missing relation."""
    for name in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


class KeptBodies:
    """The bodies this process rendered or fetched last, in front of the shared cache: the most read answers
    (the national figures) cost no Redis round trip. A key holds everything its body depends on (see
    cached_body), so an entry is never stale, only old; the least recently used go first past `max_bytes`."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._bodies.pop(key, None)
            self._bytes += len(body) - (len(old) if old is not None else 0)
            self._bodies[key] = body
            while self._bytes > self.max_bytes:
                _key, dropped = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._bytes = 0


# 8 MB a process: the national and province bodies of both maps and every scope many times over.
KEPT_BODIES = KeptBodies(max_bytes=8 * 1024 * 1024)


class Rendered(Response):
    """A 200 whose body is already rendered (by the same renderer DRF would use): DRF sets its headers as for
    any Response, and sends the bytes as they are. `data` decodes them, for a caller that reads it."""

    def __init__(self, body: bytes):
        super().__init__()
        self.body_bytes = body

    data = property(lambda self: json.loads(self.body_bytes), lambda self, _value: None)

    @property
    def rendered_content(self) -> bytes:
        charset = self.accepted_renderer.charset
        media_type = self.accepted_media_type
        self["Content-Type"] = self.content_type or (f"{media_type}; charset={charset}" if charset else media_type)
        return self.body_bytes


class ConditionalGetMixin:
    """For a GenericAPIView whose GET calls one of conditional, conditional_page or conditional_object."""

    conditional_get = True
    body_cache = False

    def conditional_active(self, request) -> bool:
        renderer = getattr(request, "accepted_renderer", None)
        return (
            self.conditional_get
            and request.method in ("GET", "HEAD")
            and renderer is not None
            and renderer.format == "json"
        )

    def etag(self, request, state: Any, *, version: int | None = None) -> str:
        """The ETag of the body that `state` (the validator's values) and this request give.

        With `version`, the tag reads "<version>.<digest>", so that it also works as the If-Match of a PATCH
        (config.versioning reads the version before the dot).
        """
        user = getattr(request, "user", None)
        parts = (
            REVISION,
            request.build_absolute_uri(),
            get_language(),
            tuple(getattr(user, name, None) for name in REQUESTER),
            state,
        )
        digest = hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()
        return f'"{version}.{digest}"' if version is not None else f'"{digest}"'

    def conditional(
        self,
        request,
        validator: Callable[[], Any],
        respond: Callable[[], Response],
        *,
        exists: Callable[[], bool] | None = None,
    ) -> Response:
        """304 when If-None-Match holds the ETag of `validator()`, else `respond()` with that ETag.

        `validator` runs first and must be cheap; it raises Http404 (or NotFound) when the resource is not
        there for this user. `exists` tells whether `*` may match (a list page past the end does not);
        without it `*` is answered in full, which a client always accepts.
        """
        if not self.conditional_active(request):
            return respond()
        state = validator()
        tag = self.etag(request, state)
        match = etag_matches(request.headers.get("If-None-Match"), tag)
        if match or (match is None and exists is not None and exists()):
            return self.not_modified(tag)
        if self.body_cache:
            return self.tagged(self.cached_body(request, state, respond), tag)
        return self.tagged(respond(), tag)

    def cached_body(self, request, state: Any, respond: Callable[[], Response]) -> Response:
        """The rendered JSON of `respond()` from the cache, or rendered now and kept (a 200 only)."""
        user = getattr(request, "user", None)
        parts = (REVISION, request.build_absolute_uri(), get_language(), tuple(getattr(user, n, None) for n in SCOPE))
        key = "body:" + hashlib.blake2b(repr((parts, state)).encode(), digest_size=16).hexdigest()
        body = KEPT_BODIES.get(key)
        if body is not None:
            return Rendered(body)
        try:
            body = cache.get(key)
        except Exception as exc:  # the cache is down: answer without it
            logger.warning("body cache unavailable: %s", type(exc).__name__)
            return respond()
        if body is not None:
            KEPT_BODIES.put(key, body)
            return Rendered(body)
        response = respond()
        if response.status_code != 200:
            return response
        body = request.accepted_renderer.render(response.data, request.accepted_media_type, self.get_renderer_context())
        KEPT_BODIES.put(key, body)
        try:
            cache.set(key, body, timeout=settings.BODY_CACHE_SECONDS)
        except Exception as exc:
            logger.warning("body cache unavailable: %s", type(exc).__name__)
        return Rendered(body)

    def conditional_page(self, request, queryset: QuerySet, output, *, context=None, **aggregates) -> Response:
        """A page of `queryset` as `output` (a serializer class), decided by one aggregate: the count (which
        the paginator then uses) and `aggregates`, e.g. latest=Max("updated_at"). A 304 reads nothing else."""
        state = queryset.aggregate(count=Count("pk"), **aggregates)
        rows = CountedApart(queryset, lambda: state["count"])  # the validator read the count: no COUNT(*)

        def respond() -> Response:
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(output(page, many=True, context=context).data)

        return self.conditional(request, lambda: state, respond, exists=lambda: self._page_exists(request, rows))

    def conditional_object(
        self,
        request,
        queryset: QuerySet,
        fields: Sequence[str],
        respond: Callable[[Any], Response],
        *,
        version_field: str | None = None,
    ) -> Response:
        """One row of `queryset` (404 when there is none), answered by `respond(row)`.

        `fields` are the ORM paths of every value the body shows that may change: with If-None-Match they are
        read alone (one narrow query) to decide a 304; otherwise the ETag is read off the fetched row, so an
        unconditional GET costs no extra query. `version_field` puts the row's version in front of the tag.
        """
        if not self.conditional_active(request):
            return respond(get_object_or_404(queryset))

        def etag_of(values: tuple) -> str:
            version = values[list(fields).index(version_field)] if version_field else None
            return self.etag(request, tuple(values), version=version)

        header = request.headers.get("If-None-Match")
        if header:
            values = queryset.values_list(*fields).first()
            if values is None:
                raise Http404
            tag = etag_of(values)
            if etag_matches(header, tag) is not False:  # the tag, or `*`: the row is there
                return self.not_modified(tag)
        row = get_object_or_404(queryset)
        return self.tagged(respond(row), etag_of(tuple(_resolve(row, path) for path in fields)))

    def _page_exists(self, request, rows: CountedApart) -> bool:
        pagination = self.paginator
        if pagination is None:
            return True
        page_size = pagination.get_page_size(request)
        if not page_size:
            return True
        paginator = DjangoPaginator(rows, page_size)
        try:
            paginator.validate_number(pagination.get_page_number(request, paginator))
        except InvalidPage:
            return False
        return True

    def tagged(self, response: Response, tag: str) -> Response:
        if response.status_code == 200:
            response["ETag"] = tag
            _cache_headers(response)
        return response

    def not_modified(self, tag: str) -> HttpResponseNotModified:
        response = HttpResponseNotModified()
        response["ETag"] = tag
        _cache_headers(response)
        return response


def _cache_headers(response) -> None:
    # Kept by the client, checked with the server before each use; never by a shared cache (per-user bodies).
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Authorization",))
