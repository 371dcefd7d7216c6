"""The quarterly report as files the ministry circulates: an XLSX workbook and a PDF.

Both take a web.reports.Report and run no query. Every text cell of the workbook goes through
config.spreadsheets.safe_cell (a unit named "=..." is shown, never run). Numbers are real numbers in the
workbook, with a grouping format (Excel shows 81.415 in a Vietnamese locale), and grouped text in the PDF.
The PDF's font is DejaVu Sans, from the pinned npm package dejavu-fonts-ttf: it has every Vietnamese letter.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from config.spreadsheets import safe_cell
from web.reports import Report, Table, grouped, signed

INT_FORMAT = "#,##0"
RATIO_FORMAT = "0.0%"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


def _when(report: Report) -> list[tuple[str, str]]:
    """The report's provenance lines: scope, quarter, which figures, computed when, the map's source."""
    if report.day:
        figures = _("the snapshot of %(day)s (end of the quarter)") % {"day": report.day.strftime("%d/%m/%Y")}
    else:
        figures = _("the current figures (the quarter is in progress)")
    computed = timezone.localtime(report.computed_at).strftime("%H:%M %d/%m/%Y") if report.computed_at else "–"
    if report.stale:
        computed += " " + _("(newer changes were waiting to be counted)")
    return [
        (_("Scope"), report.scope_name),
        (_("Quarter"), report.quarter),
        (_("Figures"), figures),
        (_("Computed at"), computed),
        (_("Map"), report.map_source),
    ]


# --- XLSX -------------------------------------------------------------------------------------------


def _sheet_name(title: str) -> str:
    return "".join(c for c in title if c not in "[]:*?/\\")[:31]


def _write_table(sheet, table: Table, start_row: int) -> int:
    for column, header in enumerate(table.headers, start=1):
        cell = sheet.cell(row=start_row, column=column, value=safe_cell(header))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(table.rows, start=1):
        for column, (value, kind) in enumerate(zip(row, table.kinds, strict=True), start=1):
            cell = sheet.cell(row=start_row + offset, column=column, value=safe_cell(value))
            if kind == "int":
                cell.number_format = INT_FORMAT
            elif kind == "ratio":
                cell.number_format = RATIO_FORMAT
    return start_row + len(table.rows) + 2


def workbook(report: Report) -> bytes:
    """The report as an XLSX workbook: a summary sheet, then one sheet per table."""
    book = Workbook()
    summary = book.active
    summary.title = _sheet_name(_("Summary"))
    summary["A1"] = safe_cell(report.title)
    summary["A1"].font = Font(bold=True, size=14)
    row = 3
    for label, value in _when(report):
        summary.cell(row=row, column=1, value=safe_cell(label)).font = Font(bold=True)
        summary.cell(row=row, column=2, value=safe_cell(value))
        row += 1
    row += 1
    for sentence in report.summary:
        summary.cell(row=row, column=1, value=safe_cell(sentence))
        row += 1
    row += 1
    previous = report.previous_quarter or _("previous quarter")
    headline = Table(
        _("Headline figures"),
        [_("Figure"), report.quarter, _("Out of"), previous, _("Out of"), _("Change")],
        [
            [line.label, line.value, line.total, line.previous, line.previous_total, line.change]
            for line in report.lines
        ],
        ["text", "int", "int", "int", "int", "int"],
    )
    _write_table(summary, headline, row)
    summary.column_dimensions["A"].width = 42
    for letter in "BCDEF":
        summary.column_dimensions[letter].width = 18
    for table in report.tables:
        sheet = book.create_sheet(_sheet_name(table.title))
        _write_table(sheet, table, 1)
        sheet.freeze_panes = "A2"
        for column, kind in enumerate(table.kinds, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = 40 if kind == "text" and column <= 2 else 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- PDF --------------------------------------------------------------------------------------------


def font_dir() -> Path:
    return Path(settings.REPORT_FONT_DIR)


class _ReportPdf(FPDF):
    def __init__(self, report: Report):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        fonts = font_dir()
        self.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.set_font("DejaVu", size=9)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(report.title)
        self.set_creator("cdt-backend")

    def footer(self):
        self.set_y(-12)
        self.set_font("DejaVu", size=7)
        self.cell(0, 5, f"{self.report.title} · {self.page_no()}/{{nb}}", align="C")


def _cell_text(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "int":
        return grouped(value)
    if kind == "ratio":
        return f"{number_format(round(value * 100, 1), 1)} %"
    return str(value)


def _pdf_table(pdf: FPDF, table: Table) -> None:
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 8, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=7.5 if len(table.headers) > 6 else 9)
    align = ["RIGHT" if kind != "text" else "LEFT" for kind in table.kinds]
    # Relative widths: a label column wide; or a code, a name, then the figures.
    widths = [60, 20, 20] if len(table.headers) <= 3 else [12, 40, *[14] * (len(table.headers) - 2)]
    with pdf.table(
        col_widths=widths,
        text_align=align,
        headings_style=FontFace(emphasis="BOLD", fill_color=(221, 231, 240)),
        line_height=4.2 if len(table.headers) > 6 else 5,
    ) as pdf_table:
        head = pdf_table.row()
        for header in table.headers:
            head.cell(header)
        for row in table.rows:
            line = pdf_table.row()
            for value, kind in zip(row, table.kinds, strict=True):
                line.cell(_cell_text(value, kind))
    pdf.ln(4)


def pdf(report: Report) -> bytes:
    """The report laid out on A4: title, provenance, summary, headline figures, then every table."""
    document = _ReportPdf(report)
    document.add_page()
    document.set_font("DejaVu", "B", 15)
    document.multi_cell(0, 8, report.title, new_x="LMARGIN", new_y="NEXT")
    document.ln(2)
    document.set_font("DejaVu", size=9)
    for label, value in _when(report):
        document.set_font("DejaVu", "B", 9)
        document.cell(28, 5, label)
        document.set_font("DejaVu", size=9)
        document.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    document.ln(3)
    document.set_font("DejaVu", size=10.5)
    for sentence in report.summary:
        document.multi_cell(0, 6, sentence, new_x="LMARGIN", new_y="NEXT")
    document.ln(3)
    previous = report.previous_quarter or _("previous quarter")
    headline = Table(
        _("Headline figures"),
        [_("Figure"), report.quarter, previous, _("Change")],
        [
            [
                line.label,
                line.text(),
                "–" if line.previous is None else _out_of(line.previous, line.previous_total),
                "–" if line.change is None else signed(line.change),
            ]
            for line in report.lines
        ],
        ["text", "num", "num", "num"],
    )
    _pdf_table_headline(document, headline)
    for table in report.tables:
        _pdf_table(document, table)
    return bytes(document.output())


def _out_of(value: int, total: int | None) -> str:
    return grouped(value) if total is None else f"{grouped(value)}/{grouped(total)}"


def _pdf_table_headline(pdf: FPDF, table: Table) -> None:
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 8, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9.5)
    with pdf.table(
        col_widths=[70, 35, 35, 25],
        text_align=["LEFT", "RIGHT", "RIGHT", "RIGHT"],
        headings_style=FontFace(emphasis="BOLD", fill_color=(221, 231, 240)),
        line_height=5.5,
    ) as pdf_table:
        for row in [table.headers, *table.rows]:
            line = pdf_table.row()
            for value in row:
                line.cell(str(value))
    pdf.ln(4)
