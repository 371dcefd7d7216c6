"""CSV and XLSX renderers for coverage lists, with Vietnamese column headers.

The renderers run no query: the API hands them export_rows(), built from what the selectors read.

Every cell goes through config.spreadsheets.safe_cell: a hamlet named "=HYPERLINK(...)" is shown, never run.

A time (computed_at) is the API's timestamp text in CSV (config.timestamps.format_timestamp), and a real
date-time cell in XLSX, in Vietnam time (Excel cells have no zone), so that a spreadsheet can sort and filter it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.utils import timezone
from rest_framework.renderers import BaseRenderer

from areas.models import CommuneKind, HamletKind
from config.spreadsheets import safe_cell, safe_row
from config.timestamps import format_timestamp
from members.models import Background, MemberRole
from teams.models import SizeStatus

HEADERS = {
    "code": "Mã",
    "name": "Tên",
    "province": "Mã tỉnh",
    "hamlets_total": "Tổng số thôn, tổ dân phố",
    "hamlets_covered": "Số thôn, tổ dân phố có Tổ",
    "hamlet_coverage": "Tỷ lệ thôn, tổ dân phố có Tổ",
    "hamlets_old_commune_missing": "Số thôn, tổ dân phố chưa xác định xã cũ",
    "teams_unattributed": "Số Tổ chưa xác định xã cũ",
    "communes_covered_max": "Số xã có thể có Tổ (cận trên)",
    "provinces_complete_max": "Số tỉnh có thể phủ kín cấp xã (cận trên)",
    "map": "Bản đồ hành chính",
    "communes_total": "Tổng số xã, phường, đặc khu",
    "communes_covered": "Số xã có Tổ",
    "communes_fully_covered": "Số xã phủ kín thôn",
    "provinces_total": "Tổng số tỉnh, thành phố",
    "provinces_complete": "Số tỉnh phủ kín cấp xã",
    "covered": "Có Tổ",
    "fully_covered": "Phủ kín thôn",
    "complete": "Phủ kín cấp xã",
    "teams_active": "Số Tổ đang hoạt động",
    "teams_commune_level": "Tổ cấp xã",
    "teams_hamlet_level": "Tổ cấp thôn",
    "members_active": "Số thành viên",
    "activities": "Số hoạt động (từ đầu)",
    "people_helped": "Số lượt người được hỗ trợ (từ đầu)",
    "quarter": "Quý",
    "activities_quarter": "Số hoạt động trong quý",
    "people_helped_quarter": "Số lượt người được hỗ trợ trong quý",
    "computed_at": "Thời điểm tính",
    "kind": "Loại",
    "team": "Tổ",
    "stale": "Số liệu đang chờ tính lại",
    "level": "Cấp",
}

KIND_LABELS = dict(CommuneKind.choices) | dict(HamletKind.choices)  # the two sets of codes do not overlap
COMMUNE_LEVEL = "Xã, phường, đặc khu"
HAMLET_LEVEL = "Thôn, tổ dân phố"


def commune_export_rows(data: dict) -> list[dict]:
    """A commune's export: its own figures row first, then one row per hamlet saying whether it is covered."""
    own = {"level": COMMUNE_LEVEL, **{k: v for k, v in data.items() if k != "hamlets"}}
    hamlets = [
        {
            "level": HAMLET_LEVEL,
            "code": h["id"],
            "name": h["name"],
            "kind": h["kind"],
            "covered": h["covered"],
        }
        for h in data["hamlets"]
    ]
    return [own, *hamlets]


def export_rows(rows: list[dict], type_names: dict[str, str]) -> list[dict]:
    """The lines of an export (what the renderers take): `rows` flattened, the by-type figures headed by
    the activity types' names (`type_names`, code to name, read by the selector)."""
    return [flatten(row, type_names) for row in rows]


def flatten(row: dict, names: dict[str, str]) -> dict:
    """One export line: scalar figures, then every breakdown as its own column."""
    flat = {k: v for k, v in row.items() if not isinstance(v, dict | list)}
    if "kind" in flat:
        flat["kind"] = KIND_LABELS.get(flat["kind"], flat["kind"])
    for code, label in SizeStatus.choices:
        flat[f"Tổ - {label}"] = row.get("teams_by_size_status", {}).get(code, 0)
    for code, label in MemberRole.choices:
        flat[f"Thành viên - {label}"] = row.get("members_by_role", {}).get(code, 0)
    for code, label in Background.choices:
        flat[f"Thành viên - {label}"] = row.get("members_by_background", {}).get(code, 0)
    for code, figures in row.get("activities_by_type", {}).items():
        flat[f"Hoạt động - {names.get(code, code)}"] = figures["activities"]
        flat[f"Người được hỗ trợ - {names.get(code, code)}"] = figures["people_helped"]
    for code, figures in row.get("activities_by_type_quarter", {}).items():
        flat[f"Hoạt động trong quý - {names.get(code, code)}"] = figures["activities"]
    return flat


def table(flat_rows: list[dict]) -> tuple[list[str], list[str], list[list]]:
    """(keys, Vietnamese headers, values) for export lines, every cell safe to open in a spreadsheet."""
    keys: list[str] = []
    for flat in flat_rows:
        for key in flat:
            if key not in keys:
                keys.append(key)
    headers = safe_row(HEADERS.get(k, k) for k in keys)
    values = [safe_row(_cell(flat.get(k)) for k in keys) for flat in flat_rows]
    return keys, headers, values


def _cell(value):
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return "" if value is None else value  # a datetime stays one: each format writes it its own way


def _csv_cell(value):
    return format_timestamp(value) if isinstance(value, dt.datetime) else value


def _xlsx_cell(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, timezone.get_default_timezone()).replace(tzinfo=None)
    return value


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, list):
            return safe_cell(_error_text(data)).encode()
        _, headers, values = table(data)
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 CSV with Vietnamese text correctly only with a BOM
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows([_csv_cell(v) for v in line] for line in values)
        return buffer.getvalue().encode("utf-8")


class XLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Độ phủ")
        if isinstance(data, list):
            _, headers, values = table(data)
            sheet.append(headers)
            for line in values:
                sheet.append([_xlsx_cell(v) for v in line])
        else:
            sheet.append([safe_cell(_error_text(data))])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def _error_text(data) -> str:
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return str(data)
