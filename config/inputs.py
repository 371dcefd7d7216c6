"""The project's input fields and JSON parsing: what every API accepts as a number, a date, a time or a body.

DRF's own fields accept more than this service can store: digits of any script ("٥" is 5 to int()),
any integer (SQLite stops at 2**63), any year from 1 to 9999 (making year 1 aware overflows), and JSON
nested deeper than Python's recursion limit. Each rule here says no with a 400 and a message instead.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers, renderers, serializers
from rest_framework.exceptions import ParseError

from config.timestamps import JSONEncoder

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Dates outside these years are typing mistakes in this registry (teams date from 2021, people from 1900).
FIRST_YEAR = 1900
LAST_YEAR = 2100
MAX_JSON_DEPTH = 32


def ascii_text(value) -> bool:
    """Not a string, or a string of printable ASCII: digits of other scripts and NUL are not numbers."""
    return not isinstance(value, str) or (value.isascii() and "\x00" not in value)


def storable_text(value: str) -> bool:
    """No NUL and no lone surrogate: what PostgreSQL and UTF-8 can store (DRF's CharField checks the same)."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class IntegerField(serializers.IntegerField):
    """An integer in ASCII digits, within a 64-bit signed integer unless the field is narrower."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", INT64_MIN)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not ascii_text(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateField(serializers.DateField):
    """A date in ASCII digits between the years 1900 and 2100."""

    # DRF fills these with str.format: {first}, not %(first)d.
    default_error_messages = {"out_of_range": _("Enter a date between the years {first} and {last}.")}

    def to_internal_value(self, value):
        if not ascii_text(value):
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.fail("out_of_range", first=FIRST_YEAR, last=LAST_YEAR)
        return day


class DateTimeField(serializers.DateTimeField):
    """A date and time in ASCII digits between the years 1900 and 2100; without an offset, it is Vietnam time."""

    default_error_messages = {"out_of_range": _("Enter a time between the years {first} and {last}.")}

    def to_internal_value(self, value):
        if not ascii_text(value):
            self.fail("invalid", format="YYYY-MM-DDThh:mm:ss±hh:mm")
        if isinstance(value, str):
            # Check the year before DRF makes the value aware: year 1 or 9999 overflows there.
            try:
                parsed = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and not FIRST_YEAR <= parsed.year <= LAST_YEAR:
                self.fail("out_of_range", first=FIRST_YEAR, last=LAST_YEAR)
        try:
            moment = super().to_internal_value(value)
        except OverflowError:
            self.fail("out_of_range", first=FIRST_YEAR, last=LAST_YEAR)
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            self.fail("out_of_range", first=FIRST_YEAR, last=LAST_YEAR)
        return moment


def too_deep(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests lists and objects more than `limit` levels deep (no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested more than MAX_JSON_DEPTH levels (a 400, never a RecursionError)."""

    def parse(self, stream, media_type=None, parser_context=None):
        message = _("The JSON is nested too deeply: at most %(max)d levels.") % {"max": MAX_JSON_DEPTH}
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        except ParseError as exc:
            # DRF's message is the decoder's, in English: say it in the request's language, with where.
            where = exc.__context__
            raise ParseError(
                _("The request body is not valid JSON (line %(line)s, column %(column)s).")
                % {"line": getattr(where, "lineno", "?"), "column": getattr(where, "colno", "?")}
            ) from None
        if too_deep(data):
            raise ParseError(message)
        return data


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer; text that UTF-8 cannot carry (a lone surrogate echoed in a message) is escaped.

    A datetime object in a body is written as config.timestamps.format_timestamp, like a serializer's.
    """

    encoder_class = JSONEncoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
