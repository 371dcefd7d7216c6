"""The dashboard's pages: login, the national overview, a province, a commune, and the hamlets without a team.

Thin views: each reads through the owners' selectors (coverage, areas, teams, activities), which apply the one
scoping mechanism; a unit out of scope is a 404, as in the API. Bad query parameters give a 400 page that
says which one and why, never a 500.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from functools import wraps

from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scoping import COMMUNE, NATION, PROVINCE, TEAM, scope_of
from accounts.services import login_check
from activities.selectors import activity_type_list, recent_activities
from areas.models import HamletKind
from areas.selectors import commune_points, province_list
from config import replica
from config.errors import DomainError, NotFound
from config.spreadsheets import safe_row
from coverage import selectors as coverage
from coverage.compute import quarter_of
from coverage.models import Level
from members.masking import phone_for
from teams.selectors import commune_registry, hamlets_without_team
from web import charts, report_files, reports, tables
from web.forms import LoginForm

HAMLETS_SHOWN = 100
REPORT_QUARTERS = 8  # the quarters the report form offers (any other can be asked for by URL)
SCOPE_PATTERN = re.compile(r"^(VN|[0-9]{2})$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RANKINGS = {"communes": ("commune_coverage", "hamlet_coverage"), "hamlets": ("hamlet_coverage", "commune_coverage")}
# Figures whose change since the last quarter's end the pages show.
CHANGES = ("teams_active", "members_active", "communes_covered", "hamlets_covered", "provinces_complete")


def page(view):
    """A dashboard page: logged in (else the login page), a unit out of scope is a 404, a bad parameter a
    400 page naming it. Its reads may come from a replica (config.replica), after the login is read."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            with replica.reading(request.user):
                return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            data = exc.as_data()
            return render(request, "web/bad_request.html", {"error": data}, status=exc.status_code)

    return wrapper


# --- login -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request):
    """The session login, under the API's lockout (accounts.services.login_check)."""
    form = LoginForm(request.POST or None)
    status = 200
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = ""
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = login_check(request, phone=form.cleaned_data["phone"], password=form.cleaned_data["password"])
            except DomainError as exc:
                form.add_error(None, str(exc.message))
                status = exc.status_code
            else:
                auth_login(request, user)  # its user_logged_in signal resets the failure count
                # A path, never a view name: redirect() would try to reverse "nation" and fail.
                return HttpResponseRedirect(next_url or reverse("web:home"))
    return render(request, "web/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request):
    auth_logout(request)
    return redirect("web:login")


@login_required
@require_GET
def home(request):
    """Each role's own page: the nation, its province, its commune."""
    scope = scope_of(request.user)
    if scope.level == NATION:
        return redirect("web:nation")
    if scope.level == PROVINCE:
        return redirect("web:province", code=request.user.province.code)
    if scope.level in (COMMUNE, TEAM):
        return redirect("web:commune", code=request.user.commune.code)
    return render(request, "web/no_scope.html", status=403)


# --- shared parts ------------------------------------------------------------------------------


def _with_ratios(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["commune_coverage"] = row["communes_covered"] / row["communes_total"] if row["communes_total"] else 0.0
    return rows


def _trend(user, level: str, code: str, current: dict) -> dict:
    """The quarter ends kept in snapshots, their chart, and the change of the current figures since the end
    of the last quarter before this one."""
    quarters = coverage.quarter_ends(user=user, level=level, code=code)
    if level != Level.COMMUNE:
        _with_ratios(quarters)
    lines = [("hamlet_coverage", _("Hamlets with a team"), "hamlets")]
    if level != Level.COMMUNE:
        lines.insert(0, ("commune_coverage", _("Communes with a team"), "communes"))
    earlier = [q for q in quarters if q["quarter"] < current["quarter"]]
    base = earlier[-1] if earlier else None
    changes = {}
    if base is not None:
        changes = {name: current[name] - base[name] for name in CHANGES if name in current and name in base}
    return {
        "quarters": quarters,
        "picture": charts.trend(quarters, lines) if quarters else None,
        "base": base,
        "changes": changes,
    }


def _type_names(user) -> dict[str, str]:
    english = (get_language() or "vi").startswith("en")
    return {t.code: t.name_en if english else t.name_vi for t in activity_type_list(user=user)}


def _activity_comparison(figures: dict, trend: dict, names: dict[str, str]) -> dict:
    """Activities by type in the quarter so far (the unit's figures) against the whole quarter before, as its
    last snapshot kept it (as the quarterly report states it): no live count over the activities table, whose
    cost grows with history. "–" for the quarter before when no snapshot of it is kept."""
    this_start = quarter_of(timezone.localdate())[1]
    previous = quarter_of(this_start - dt.timedelta(days=1))[0]
    base = trend["base"] if trend["base"] and trend["base"]["quarter"] == previous else None
    now = figures["activities_by_type_quarter"]
    before = base["activities_by_type_quarter"] if base else {}
    codes = [code for code in names if code in now or code in before] + [c for c in now if c not in names]
    items = [
        (
            names.get(code, code),
            now.get(code, {}).get("activities", 0),
            before.get(code, {}).get("activities", 0) if base else None,
        )
        for code in codes
    ]
    return {
        "quarter": figures["quarter"],
        "previous": previous,
        "kept": base is not None,
        "rows": charts.bar_pairs(items),
        "total": sum(a for _, a, _ in items),
        "total_previous": sum(b for _, _, b in items) if base else None,
    }


# --- pages -------------------------------------------------------------------------------------


@page
@require_GET
def nation(request):
    """The ministry's overview: headline figures, provinces ranked, the trend and the map of communes."""
    user = request.user
    if scope_of(user).level != NATION:
        raise Http404
    ranking = request.GET.get("rank", "communes")
    if ranking not in RANKINGS:
        raise DomainError(fields={"rank": [_("Rank by one of: %(values)s.") % {"values": ", ".join(RANKINGS)}]})
    figures = coverage.national(user=user)
    _with_ratios([figures])
    provinces = _with_ratios(coverage.provinces(user=user))
    first, second = RANKINGS[ranking]
    provinces.sort(key=lambda p: (-p[first], -p[second], p["code"]))
    places = commune_points(user=user)  # every current commune in scope, placed or not
    flags = coverage.commune_coverage_flags(user=user)
    states = {code: charts.state_of(*flags.get(code, (False, False))) for code in places}
    picture = charts.commune_map(states, places, width=520, radius=1.7)
    context = {
        "figures": figures,
        "provinces": provinces,
        "ranking": ranking,
        "map": picture,
        "trend": _trend(user, Level.NATION, "VN", figures),
    }
    return render(request, "web/nation.html", context)


@page
@require_GET
def province(request, code: str):
    """A province: its communes (sortable, filterable), its map, the hamlets without a team, and activity."""
    user = request.user
    if scope_of(user).level == TEAM:  # a team leader's page is their commune's
        raise Http404
    found = _with_ratios(coverage.provinces(user=user, code=code))
    if not found:
        raise Http404
    figures = found[0]
    query = tables.table_query(request.GET)
    communes = coverage.province_communes(user=user, province_code=code)
    rows = tables.apply([tables.commune_row(r) for r in communes], query)
    missing = hamlets_without_team(user=user, province_code=code)
    trend = _trend(user, Level.PROVINCE, code, figures)
    context = {
        "figures": figures,
        "rows": rows,
        "communes_total": len(communes),
        "query": query,
        "columns": tables.COLUMNS,
        "states": tables.STATES,
        "sizes": tables.SIZES,
        "map": charts.commune_map(
            {c["code"]: charts.commune_state(c) for c in communes},
            commune_points(user=user, province_code=code),
            width=440,
            radius=4,
        ),
        "hamlets": list(missing[:HAMLETS_SHOWN]),
        "hamlets_count": missing.count(),
        "trend": trend,
        "activity": _activity_comparison(figures, trend, _type_names(user)),
        "ministry": scope_of(user).level == NATION,
    }
    return render(request, "web/province.html", context)


@page
@require_GET
def commune(request, code: str):
    """A commune: its hamlets with their teams, leaders and member counts, and its latest activity."""
    user = request.user
    found = coverage.communes(user=user, code=code)
    if not found:
        raise Http404
    figures = found[0]
    hamlets, teams = commune_registry(user=user, commune_code=code)
    team_of = {t.hamlet_id: t for t in teams if t.hamlet_id}
    names = _type_names(user)
    trend = _trend(user, Level.COMMUNE, code, figures)
    context = {
        "figures": figures,
        "hamlets": [{"hamlet": h, "team": team_of.get(h.pk)} for h in hamlets],
        "commune_teams": [t for t in teams if t.hamlet_id is None],
        "leader_phones": {t.pk: phone_for(user, t.leader) for t in teams if t.leader_id},
        "activities": recent_activities(user=user, commune_code=code),
        "type_names": names,
        "trend": trend,
        "activity": _activity_comparison(figures, trend, names),
        "scope_level": scope_of(user).level,
    }
    return render(request, "web/commune.html", context)


@page
@require_GET
def hamlets_without_team_csv(request, code: str):
    """Every hamlet of a province without a team, as CSV (UTF-8 with BOM, so that Excel reads the accents)."""
    if scope_of(request.user).level == TEAM or not province_list(user=request.user).filter(code=code).exists():
        raise Http404
    rows = hamlets_without_team(user=request.user, province_code=code)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(safe_row(["Mã xã", "Tên xã", "Mã thôn", "Tên thôn, tổ dân phố", "Loại"]))
    kinds = dict(HamletKind.choices)
    for row in rows:
        writer.writerow(
            safe_row([row["commune_code"], row["commune_name"], row["id"], row["name"], kinds.get(row["kind"])])
        )
    day = timezone.localdate().isoformat()
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="thon-chua-co-to-{code}-{day}.csv"'
    return response


# --- the quarterly report ------------------------------------------------------------------------


def _report_choice(request) -> tuple[str, str, list[tuple[str, str]], list[str]]:
    """The report's (quarter, scope) from the query string, with the choices the form offers; 404 for a role
    without reports, a 400 page for a value that is not a quarter or a scope."""
    user = request.user
    level = scope_of(user).level
    if level == NATION:
        scopes = [("VN", _("The whole country"))] + [(p.code, p.name) for p in province_list(user=user)]
    elif level == PROVINCE:
        scopes = [(user.province.code, user.province.name)]
    else:
        raise Http404
    today = timezone.localdate()
    current = quarter_of(today)[0]
    quarters, day = [], today
    for _step in range(REPORT_QUARTERS):
        label, start = quarter_of(day)
        quarters.append(label)
        day = start - dt.timedelta(days=1)
    quarter = request.GET.get("quarter", "").strip() or current
    code = request.GET.get("scope", "").strip() or scopes[0][0]
    if not SCOPE_PATTERN.match(code):
        raise DomainError(fields={"scope": [_("The scope is VN (the whole country) or a province's 2-digit code.")]})
    return quarter, code, scopes, quarters


def _build_report(request, quarter: str, code: str) -> reports.Report:
    return reports.build(user=request.user, quarter=quarter, province_code=None if code == "VN" else code)


@page
@require_GET
def report(request):
    """The quarterly report for the nation or a province: the page, with its XLSX and PDF downloads."""
    quarter, code, scopes, quarters = _report_choice(request)
    context = {"quarter": quarter, "scope": code, "scopes": scopes, "quarters": quarters}
    try:
        context["report"] = _build_report(request, quarter, code)
    except reports.NoSnapshot as missing:
        context["missing"] = missing
    context["ministry"] = scope_of(request.user).level == NATION
    return render(request, "web/report.html", context)


@page
@require_GET
def report_file(request, extension: str):
    """The quarterly report as a file: xlsx or pdf."""
    quarter, code, scopes, quarters = _report_choice(request)
    try:
        built = _build_report(request, quarter, code)
    except reports.NoSnapshot as missing:
        context = {"quarter": quarter, "scope": code, "scopes": scopes, "quarters": quarters, "missing": missing}
        return render(request, "web/report.html", context, status=404)
    if extension == "xlsx":
        body, content_type = report_files.workbook(built), XLSX
    else:
        body, content_type = report_files.pdf(built), "application/pdf"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{built.filename(extension)}"'
    return response
