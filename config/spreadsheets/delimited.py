"""CSV: rows of an uploaded comma-separated file, within the limits."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator

from django.utils.translation import gettext as _

from config.spreadsheets.limits import SheetError, SheetLimits, _cell_too_long, _damaged, _too_many_columns

logger = logging.getLogger(__name__)

# --- CSV ----------------------------------------------------------------------------------------


def _csv_rows(content: bytes, limits: SheetLimits) -> Iterator[tuple[int, dict[int, str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SheetError(_("The CSV file must be encoded in UTF-8.")) from None
    reader = csv.reader(io.StringIO(text))
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                size = min(limits.cell_chars, csv.field_size_limit())
                raise _cell_too_long(limits, number + 1, "file", size) from None
            raise _damaged(".csv", number + 1) from None
        number += 1
        cells = {}
        for column, raw in enumerate(record, start=1):
            value = raw.strip()
            if value:
                if column > limits.columns:
                    raise _too_many_columns(limits, number, column)
                cells[column] = value
        yield number, cells
