"""The province page's commune table: its rows from the coverage figures, its filters and its sort orders.

Sorting and filtering happen on the server from the query string (?sort=-hamlets_missing&status=uncovered&q=),
so every state of the table is a link that can be shared, and the page works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from areas.names import fold
from config.errors import invalid
from web.charts import COVERED, FULL, UNCOVERED, commune_state

# Column key -> header; each is sortable.
COLUMNS = {
    "code": gettext_lazy("Code"),
    "name": gettext_lazy("Commune"),
    "state": gettext_lazy("Coverage"),
    "hamlets_covered": gettext_lazy("Hamlets with a team"),
    "hamlets_missing": gettext_lazy("Hamlets without a team"),
    "teams_active": gettext_lazy("Teams"),
    "teams_under": gettext_lazy("Teams under size"),
    "teams_over": gettext_lazy("Teams over size"),
    "members_active": gettext_lazy("Members"),
    "activities_quarter": gettext_lazy("Activities this quarter"),
}
STATES = {
    UNCOVERED: gettext_lazy("No team"),
    COVERED: gettext_lazy("Hamlets missing"),
    FULL: gettext_lazy("Every hamlet"),
}
SIZES = {"under": gettext_lazy("Under size"), "over": gettext_lazy("Over size"), "off": gettext_lazy("Under or over")}
_STATE_RANK = {UNCOVERED: 0, COVERED: 1, FULL: 2}


def commune_row(row: dict) -> dict:
    """One table row from a commune's coverage figures."""
    by_size = row["teams_by_size_status"]
    return {
        "code": row["code"],
        "name": row["name"],
        "state": commune_state(row),
        "hamlets_total": row["hamlets_total"],
        "hamlets_covered": row["hamlets_covered"],
        "hamlets_missing": row["hamlets_total"] - row["hamlets_covered"],
        "teams_active": row["teams_active"],
        "teams_under": by_size.get("under", 0),
        "teams_over": by_size.get("over", 0),
        "members_active": row["members_active"],
        "activities_quarter": row["activities_quarter"],
        "stale": row["stale"],
    }


def _default_key(row: dict):
    # What a province admin acts on first: communes without a team, then those with the most hamlets
    # missing, then the most teams out of size, then the least active.
    return (
        _STATE_RANK[row["state"]],
        -row["hamlets_missing"],
        -(row["teams_under"] + row["teams_over"]),
        row["activities_quarter"],
        row["code"],
    )


@dataclass(frozen=True)
class TableQuery:
    sort: str = ""
    status: str = ""
    size: str = ""
    q: str = ""

    def as_params(self, **changes) -> dict:
        values = {"sort": self.sort, "status": self.status, "size": self.size, "q": self.q, **changes}
        return {k: v for k, v in values.items() if v}


def table_query(params) -> TableQuery:
    """The table's state from the query string; an unknown value is a field error (a 400 page)."""
    query = TableQuery(
        sort=params.get("sort", "").strip(),
        status=params.get("status", "").strip(),
        size=params.get("size", "").strip(),
        q=params.get("q", "").strip()[:100],
    )
    errors = {}
    if query.sort and query.sort.removeprefix("-") not in COLUMNS:
        errors["sort"] = _("Sort by one of: %(columns)s.") % {"columns": ", ".join(COLUMNS)}
    if query.status and query.status not in STATES:
        errors["status"] = _("Status is one of: %(values)s.") % {"values": ", ".join(STATES)}
    if query.size and query.size not in SIZES:
        errors["size"] = _("Size is one of: %(values)s.") % {"values": ", ".join(SIZES)}
    if errors:
        raise invalid(**errors)
    return query


def apply(rows: list[dict], query: TableQuery) -> list[dict]:
    """The rows the query keeps, in its order (the default order when it names none)."""
    if query.status:
        rows = [r for r in rows if r["state"] == query.status]
    if query.size == "under":
        rows = [r for r in rows if r["teams_under"]]
    elif query.size == "over":
        rows = [r for r in rows if r["teams_over"]]
    elif query.size == "off":
        rows = [r for r in rows if r["teams_under"] or r["teams_over"]]
    if query.q:
        wanted = fold(query.q)
        rows = [r for r in rows if wanted in fold(r["name"]) or r["code"].startswith(query.q)]
    if not query.sort:
        return sorted(rows, key=_default_key)
    return sorted(rows, key=_sort_key(query.sort.removeprefix("-")), reverse=query.sort.startswith("-"))


def _sort_key(field: str):
    """A column's order; ties in code order."""
    if field == "state":
        return lambda r: (_STATE_RANK[r["state"]], r["code"])
    if field == "name":
        return lambda r: (fold(r["name"]), r["code"])
    return lambda r: (r[field], r["code"])
