"""The quarterly report's content, built once from coverage.selectors.quarter_report and shown three ways:
the page, the XLSX workbook and the PDF (web.report_files). It states the figures the way the ministry
writes them: teams, members, provinces (or communes) complete out of the total, and the change from the
previous quarter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from areas.selectors import map_source
from coverage import selectors as coverage
from members.models import Background, MemberRole

# How many backgrounds the summary names ("members are mostly ...").
TOP_BACKGROUNDS = 4


def grouped(value: int) -> str:
    """81.415 in Vietnamese, 81,415 in English."""
    return number_format(value, force_grouping=True)


def signed(value: int) -> str:
    return ("+" if value > 0 else "") + grouped(value)


@dataclass
class Line:
    """A headline figure: its value at the end of the quarter, and at the end of the one before."""

    label: str
    value: int
    total: int | None = None  # "55/63": value out of total
    previous: int | None = None
    previous_total: int | None = None

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.value - self.previous

    def text(self) -> str:
        return f"{grouped(self.value)}/{grouped(self.total)}" if self.total is not None else grouped(self.value)


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list]
    # Per column: "text", "int" or "ratio" (0..1), for the workbook's cell formats and the PDF's alignment.
    kinds: list[str]


@dataclass
class Report:
    scope_code: str
    scope_name: str
    quarter: str
    day: dt.date | None  # the snapshot's day; None: the quarter in progress, from the current figures
    computed_at: dt.datetime | None
    stale: bool
    map_source: str
    previous_quarter: str | None
    previous_day: dt.date | None
    lines: list[Line] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    @property
    def title(self) -> str:
        return _("Community Digital Technology Teams: report for %(quarter)s, %(scope)s") % {
            "quarter": self.quarter,
            "scope": self.scope_name,
        }

    def filename(self, extension: str) -> str:
        return f"bao-cao-to-cong-nghe-so-{self.scope_code}-{self.quarter}.{extension}"


class NoSnapshot(Exception):
    """No snapshot of the quarter is kept (it ended before the first one was taken)."""

    def __init__(self, quarter: str, first: dt.date | None):
        self.quarter, self.first = quarter, first
        super().__init__(quarter)


def build(*, user, quarter: str, province_code: str | None) -> Report:
    """The report of a quarter for the nation (province_code None) or a province. Raises NotFound out of
    scope, DomainError on a bad quarter, NoSnapshot when the quarter has no figures kept."""
    data = coverage.quarter_report(user=user, quarter=quarter, province_code=province_code)
    figures = data["figures"]
    if figures is None:
        raise NoSnapshot(quarter, data["first_snapshot"])
    previous = data["previous"]["figures"] if data["previous"] else {}
    source = map_source()
    report = Report(
        scope_code=figures["code"],
        scope_name=_("the whole country") if province_code is None else figures["name"],
        quarter=quarter,
        day=data["day"],
        computed_at=figures["computed_at"],
        stale=figures["stale"],
        map_source=(
            _("Administrative map of 2025 (34 provinces, 3,321 communes) from the %(source)s dataset %(version)s")
            % {"source": source.source, "version": source.version}
            if source
            else _("Administrative map of 2025")
        ),
        previous_quarter=data["previous"]["quarter"] if data["previous"] else None,
        previous_day=data["previous"]["day"] if data["previous"] else None,
    )

    def line(label: str, name: str, total: str | None = None) -> Line:
        before = previous.get(total) if total else None
        return Line(label, figures[name], figures[total] if total else None, previous.get(name), before)

    report.lines = [line(_("Teams"), "teams_active"), line(_("Members"), "members_active")]
    if province_code is None:
        report.lines.append(line(_("Provinces complete to commune level"), "provinces_complete", "provinces_total"))
    report.lines += [
        line(_("Communes with a team"), "communes_covered", "communes_total"),
        line(_("Hamlets with a team"), "hamlets_covered", "hamlets_total"),
        line(_("Activities in the quarter"), "activities_quarter"),
        line(_("People helped in the quarter"), "people_helped_quarter"),
    ]
    report.summary = _summary(report, figures, province_code is None)
    report.tables = [
        _units_table(data["units"], nation=province_code is None),
        _breakdown(_("Members by role"), figures["members_by_role"], dict(MemberRole.choices)),
        _breakdown(_("Members by background"), figures["members_by_background"], dict(Background.choices)),
        _activities_table(figures["activities_by_type_quarter"], coverage.activity_type_names()),
    ]
    return report


def _summary(report: Report, figures: dict, nation: bool) -> list[str]:
    sentences = []
    values = {
        "teams": grouped(figures["teams_active"]),
        "members": grouped(figures["members_active"]),
        "complete": grouped(figures["provinces_complete"] if nation else figures["communes_covered"]),
        "total": grouped(figures["provinces_total"] if nation else figures["communes_total"]),
    }
    if nation:
        sentences.append(
            _("%(teams)s teams and %(members)s members; %(complete)s/%(total)s provinces complete to commune level.")
            % values
        )
    else:
        sentences.append(
            _("%(teams)s teams and %(members)s members; %(complete)s/%(total)s communes have a team.") % values
        )
    backgrounds = sorted(figures["members_by_background"].items(), key=lambda item: -item[1])
    named = [dict(Background.choices).get(code, code) for code, n in backgrounds[:TOP_BACKGROUNDS] if n]
    if named:
        sentences.append(_("Members are mostly: %(backgrounds)s.") % {"backgrounds": "; ".join(named)})
    if report.previous_quarter:
        changes = {line.label: line.change for line in report.lines[:3]}
        parts = ", ".join(f"{label.lower()} {signed(change)}" for label, change in changes.items())
        sentences.append(
            _("Since the end of %(quarter)s: %(changes)s.") % {"quarter": report.previous_quarter, "changes": parts}
        )
    else:
        sentences.append(_("No snapshot of the quarter before is kept: no change can be stated."))
    return sentences


# The units' tables: (header, figure, kind); a "flag" figure is written yes/no.
_PROVINCE_COLUMNS = [
    (gettext_lazy("Code"), "code", "text"),
    (gettext_lazy("Province"), "name", "text"),
    (gettext_lazy("Communes"), "communes_total", "int"),
    (gettext_lazy("Communes with a team"), "communes_covered", "int"),
    (gettext_lazy("Complete"), "complete", "flag"),
]
_COMMUNE_COLUMNS = [
    (gettext_lazy("Code"), "code", "text"),
    (gettext_lazy("Commune"), "name", "text"),
    (gettext_lazy("Has a team"), "covered", "flag"),
    (gettext_lazy("Every hamlet"), "fully_covered", "flag"),
]
_UNIT_COUNTS = [
    (gettext_lazy("Hamlets"), "hamlets_total", "int"),
    (gettext_lazy("Hamlets with a team"), "hamlets_covered", "int"),
    (gettext_lazy("Teams"), "teams_active", "int"),
    (gettext_lazy("Members"), "members_active", "int"),
    (gettext_lazy("Activities in the quarter"), "activities_quarter", "int"),
]


def _units_table(units: list[dict], *, nation: bool) -> Table:
    """The provinces of the nation, or the communes of a province, one row each."""
    columns = (_PROVINCE_COLUMNS if nation else _COMMUNE_COLUMNS) + _UNIT_COUNTS

    def cell(unit: dict, name: str, kind: str):
        if kind == "flag":
            return _("yes") if unit[name] else _("no")
        return unit[name]

    return Table(
        _("By province") if nation else _("By commune"),
        [str(header) for header, _name, _kind in columns],
        [[cell(unit, name, kind) for _header, name, kind in columns] for unit in units],
        ["text" if kind == "flag" else kind for _header, _name, kind in columns],
    )


def _breakdown(title: str, counts: dict, labels: dict) -> Table:
    total = sum(counts.values())
    rows = [[labels.get(code, code), n, n / total if total else 0.0] for code, n in counts.items()]
    rows.sort(key=lambda row: -row[1])
    return Table(title, [_("Group"), _("Members"), _("Share")], rows, ["text", "int", "ratio"])


def _activities_table(by_type: dict, names: dict) -> Table:
    # In the types' display order (`names` is), then any type the figures know and the list does not.
    codes = [code for code in names if code in by_type] + [code for code in by_type if code not in names]
    rows = [[names.get(code, code), by_type[code]["activities"], by_type[code]["people_helped"]] for code in codes]
    return Table(
        _("Activities by type in the quarter"),
        [_("Type"), _("Activities"), _("People helped")],
        rows,
        ["text", "int", "int"],
    )
