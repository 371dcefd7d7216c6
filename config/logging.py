"""A logging filter that masks phone numbers and citizen IDs before any handler sees a record."""

from __future__ import annotations

import logging
import re

# Vietnamese mobiles (0xxxxxxxxx, +84xxxxxxxxx, 84xxxxxxxxx, spaced or dotted) and 12-digit CCCD numbers.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){9}(?!\d)")
_CCCD = re.compile(r"(?<!\d)\d{12}(?!\d)")


def redact(text: str) -> str:
    text = _CCCD.sub("[cccd]", text)
    return _PHONE.sub("[phone]", text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        # A traceback quotes exception messages (a database error quotes the row): redact it too.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
