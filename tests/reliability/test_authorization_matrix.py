"""The authorization matrix, generated from the URL conf: every route x method x persona x {own, sibling, no scope}.

`OPERATIONS` says, for every (route, method) the URL conf serves, what "own scope" and "sibling scope" mean
for it. The first test walks django.urls.get_resolver() and fails when the URL conf and the table differ, so an
endpoint cannot be added without saying how it is scoped. The others, one per operation, prove:
- reads: the persona's own object answers 200; the sibling's answers 404 (never 403: existence is not
  confirmed); lists show the own object and never the sibling's;
- writes: a write on a sibling object, or whose payload names a sibling unit, does not succeed and changes no
  row; one witness persona's write on its own scope succeeds (so the refusal is about scope, not a bad body);
- `nobody` (a user without scope) never gets data: object reads answer 404, lists are empty, writes fail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import AuditEntry
from activities.models import Activity
from areas.models import Commune, Hamlet, Province
from coverage import services as coverage_services
from members.models import ImportJob, Member, MemberRole
from members.services import teams_recount
from teams.models import Team
from tests.factories import HamletFactory, MemberFactory, TeamFactory
from tests.reliability.support import fingerprint

pytestmark = pytest.mark.django_db

# Served outside the matrix, on purpose: anonymous by design (login, refresh, liveness, the published schema and
# its viewer), or the Django admin, which has its own scoped permissions and tests (tests/test_admin.py).
EXEMPT_ROUTES = {
    "api/v1/auth/token/": "login: anonymous by design",
    "api/v1/auth/token/refresh/": "token refresh: anonymous by design, the token is the credential",
    "api/v1/health/": "liveness: anonymous, no data",
    "health/": "liveness: anonymous, no data",
    "api/schema/": "the published OpenAPI schema",
    "api/docs/": "Swagger UI over the schema",
}
# The dashboard's pages (web/): session logins, not tokens; they read through the same scoped selectors, and
# tests/web/test_pages.py (test_out_of_scope_is_404) and tests/browser/test_dashboard.py prove their scope.
DASHBOARD = "dashboard page: scope in tests/web/test_pages.py and tests/browser/test_dashboard.py"
EXEMPT_ROUTES |= {
    route: DASHBOARD
    for route in (
        "",
        "login/",
        "logout/",
        "nation/",
        "provinces/<province_code:code>/",
        "provinces/<province_code:code>/hamlets-without-team.csv",
        "communes/<commune_code:code>/",
        "reports/",
        "reports/report.xlsx",
        "reports/report.pdf",
    )
}
EXEMPT_PREFIXES = {
    "admin/": "Django admin: ScopedAdmin permissions, covered by tests/test_admin.py",
    "i18n/": "Django's set_language: the language cookie, no data",
}

DATA_METHODS = ("get", "post", "put", "patch", "delete")


# --- The personas' scopes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Units:
    """Keys of one province, one commune and one team (see Targets)."""

    province: str
    commune: str
    team: str


SCOPED = ("minh", "lan", "binh", "hoa", "hai", "bao", "tuan", "tam")
# persona -> (own units, sibling units). A sibling is the nearest unit just outside the scope: the other
# province for a province admin, the other commune of the province for a commune officer, the other team of
# the same commune (a1x) for a team leader. The ministry's scope is the nation: it has no sibling.
SCOPES: dict[str, tuple[Units, Units | None]] = {
    "minh": (Units("a", "a1", "a1"), None),
    "lan": (Units("a", "a1", "a1"), Units("b", "b1", "b1")),
    "binh": (Units("b", "b1", "b1"), Units("a", "a1", "a1")),
    "hoa": (Units("a", "a1", "a1"), Units("b", "a2", "a2")),
    "hai": (Units("a", "a2", "a2"), Units("b", "a1", "a1")),
    "bao": (Units("b", "b1", "b1"), Units("a", "a1", "a1")),
    "tuan": (Units("a", "a1", "a1"), Units("b", "a2", "a1x")),
    "tam": (Units("a", "a2", "a2"), Units("b", "a1", "a1")),
}
# What `nobody` (no scope) aims at: objects that exist, in province A.
NOBODY_TARGET = Units("a", "a1", "a1")


class Targets:
    """The objects behind the unit keys, in a world with one more team (a1x) and one free hamlet per commune."""

    def __init__(self, world):
        self.world = world

    def province(self, key: str) -> Province:
        return getattr(self.world, key)

    def commune(self, key: str) -> Commune:
        return getattr(self.world, key)

    def hamlet(self, key: str) -> Hamlet:
        # A hamlet no team serves, so that renaming, removing or registering a team at it is allowed in scope.
        return self.world.free_hamlets[key]

    def team(self, key: str) -> Team:
        # Fresh from the database: writes bump versions, and a write must send the version it edits.
        return Team.objects.get(pk=self.world.all_teams[key].pk)

    def member(self, key: str) -> Member:
        return self.team(key).members.exclude(role=MemberRole.LEADER).order_by("id").first()

    def activity(self, key: str) -> Activity:
        return Activity.objects.get(pk=self.world.activities[key].pk)

    def import_job(self, key: str) -> ImportJob:
        return self.world.import_jobs[key]

    def audit_entry(self, key: str) -> AuditEntry:
        return AuditEntry.objects.filter(province=self.province(key)).order_by("-at", "-id").first()

    def key(self, units: Units, level: str) -> str:
        return getattr(units, level) if level in ("province", "commune", "team") else ""


# --- What each operation is ---------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """GET of one object: own 200, sibling 404, nobody 404. Personas not in `readers` get 404 on the own one too."""

    level: str
    params: Callable[[Targets, str], dict]
    readers: frozenset[str] = frozenset(SCOPED)
    query: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """GET of a list: the own object is listed (for `readers`), the sibling's never, and nobody's list is empty."""

    level: str
    item: Callable[[Targets, str], str]
    column: str = "id"
    readers: frozenset[str] = frozenset(SCOPED)
    query: dict = field(default_factory=lambda: {"page_size": 500})


@dataclass(frozen=True)
class ExportListing:
    """A list exported as CSV: the own unit's row is in the file (for `readers`), the sibling's never, nobody's
    file has no data rows."""

    level: str
    item: Callable[[Targets, str], str]
    readers: frozenset[str] = frozenset(SCOPED)


@dataclass(frozen=True)
class Write:
    """A write aimed (by path or payload) at a unit: refused on a sibling and for nobody, accepted for `witness`."""

    level: str
    witness: str
    params: Callable[[Targets, str], dict] = lambda t, key: {}
    body: Callable[[Targets, str], dict] = lambda t, key: {}
    multipart: bool = False
    # Reference data (activity types) and per-user uploads (imports) name no unit: there is no sibling to aim at.
    has_sibling: bool = True
    succeeded: Callable = lambda response: 200 <= response.status_code < 300
    # The offline sync answers 200 with a status per item: a refusal is an item "rejected", not a 4xx.
    item_results: bool = False


@dataclass(frozen=True)
class Me:
    """The caller's own identity: each persona sees its own phone, nobody's scope is null."""


def _team(t, key):
    return {"pk": t.team(key).pk}


def _province(t, key):
    return {"code": t.province(key).code}


def _commune(t, key):
    return {"code": t.commune(key).code}


# Import jobs and their error reports: the province admins of the job's province and the ministry only.
IMPORT_READERS = frozenset({"minh", "lan", "binh"})


def _import(t, key):
    return {"pk": t.import_job(key).pk}


def _sync_body(t, key):
    item = {
        "id": str(uuid.uuid4()),
        "team": str(t.team(key).pk),
        "type": "vneid",
        "occurred_on": str(timezone.localdate()),
        "people_helped": 3,
    }
    return {"activities": [item]}


def _sync_succeeded(response) -> bool:
    return response.status_code == 200 and any(r["status"] in {"created", "updated"} for r in response.data["results"])


def _upload(t, key):
    content = b"ma_xa,ten_to,ho_ten,so_dien_thoai\n"
    return {"file": SimpleUploadedFile("dang-ky.csv", content + uuid.uuid4().hex.encode(), content_type="text/csv")}


OPERATIONS: dict[tuple[str, str], object] = {
    # accounts
    ("api/v1/me/", "GET"): Me(),
    ("api/v1/audit/", "GET"): Listing(
        "province", lambda t, key: t.audit_entry(key).pk, readers=frozenset({"minh", "lan", "binh"})
    ),
    # areas
    ("api/v1/provinces/", "GET"): Listing("province", lambda t, key: t.province(key).code, column="code"),
    ("api/v1/provinces/<province_code:code>/", "GET"): Read("province", _province),
    ("api/v1/communes/", "GET"): Listing("commune", lambda t, key: t.commune(key).code, column="code"),
    ("api/v1/communes/<commune_code:code>/", "GET"): Read("commune", _commune),
    # The crosswalk of a current commune: its predecessors (none in this matrix's map) and its successors.
    ("api/v1/communes/<commune_code:code>/successors/", "GET"): Read("commune", _commune),
    ("api/v1/communes/<commune_code:code>/predecessors/", "GET"): Read("commune", _commune),
    ("api/v1/hamlets/", "GET"): Listing("commune", lambda t, key: t.hamlet(key).pk),
    ("api/v1/hamlets/", "POST"): Write(
        "commune", "lan", body=lambda t, key: {"commune": t.commune(key).code, "name": "Thôn Mới Lập", "kind": "thon"}
    ),
    ("api/v1/hamlets/<id:pk>/", "GET"): Read("commune", lambda t, key: {"pk": t.hamlet(key).pk}),
    ("api/v1/hamlets/<id:pk>/", "PATCH"): Write(
        "commune", "lan", params=lambda t, key: {"pk": t.hamlet(key).pk}, body=lambda t, key: {"name": "Thôn Đổi Tên"}
    ),
    ("api/v1/hamlets/<id:pk>/", "DELETE"): Write("commune", "lan", params=lambda t, key: {"pk": t.hamlet(key).pk}),
    # teams
    ("api/v1/teams/", "GET"): Listing("team", lambda t, key: str(t.team(key).pk)),
    ("api/v1/teams/", "POST"): Write(
        "commune",
        "lan",
        body=lambda t, key: {
            "commune": t.commune(key).code,
            "hamlet": t.hamlet(key).pk,
            "name": "Tổ CNSCĐ Mới Lập",
            "established_on": "2025-08-01",
        },
    ),
    ("api/v1/teams/<uuid:pk>/", "GET"): Read("team", _team),
    ("api/v1/teams/<uuid:pk>/", "PATCH"): Write(
        "team", "lan", params=_team, body=lambda t, key: {"name": "Tổ Đổi Tên", "version": t.team(key).version}
    ),
    ("api/v1/teams/<uuid:pk>/dissolve/", "POST"): Write("team", "lan", params=_team),
    ("api/v1/teams/<uuid:pk>/members/", "GET"): Read("team", _team),
    ("api/v1/teams/<uuid:pk>/leader-account/", "POST"): Write("team", "lan", params=_team),
    ("api/v1/team-size-policies/<province_code:code>/", "GET"): Read("province", _province),
    ("api/v1/team-size-policies/<province_code:code>/", "PUT"): Write(
        "province", "lan", params=_province, body=lambda t, key: {"min_members": 3, "max_members": 8}
    ),
    # members
    ("api/v1/members/", "GET"): Listing("team", lambda t, key: str(t.member(key).pk)),
    ("api/v1/members/", "POST"): Write(
        "team",
        "lan",
        body=lambda t, key: {"team": str(t.team(key).pk), "full_name": "Lê Thị Mới", "phone": "0987000111"},
    ),
    ("api/v1/members/<uuid:pk>/", "GET"): Read("team", lambda t, key: {"pk": t.member(key).pk}),
    ("api/v1/members/<uuid:pk>/", "PATCH"): Write(
        "team",
        "lan",
        params=lambda t, key: {"pk": t.member(key).pk},
        body=lambda t, key: {"background": "police", "version": t.member(key).version},
    ),
    ("api/v1/members/<uuid:pk>/", "DELETE"): Write("team", "lan", params=lambda t, key: {"pk": t.member(key).pk}),
    ("api/v1/imports/", "POST"): Write("province", "lan", body=_upload, multipart=True, has_sibling=False),
    ("api/v1/imports/<uuid:pk>/", "GET"): Read("province", _import, readers=IMPORT_READERS),
    ("api/v1/imports/<uuid:pk>/errors.xlsx", "GET"): Read("province", _import, readers=IMPORT_READERS),
    # activities
    ("api/v1/activities/", "GET"): Listing("team", lambda t, key: str(t.activity(key).pk)),
    ("api/v1/activities/sync/", "POST"): Write(
        "team", "tuan", body=_sync_body, succeeded=_sync_succeeded, item_results=True
    ),
    ("api/v1/activities/changes/", "GET"): Listing(
        "team", lambda t, key: str(t.activity(key).pk), query={"limit": 500}
    ),
    ("api/v1/activities/<uuid:pk>/", "GET"): Read("team", lambda t, key: {"pk": t.activity(key).pk}),
    ("api/v1/activities/<uuid:pk>/", "PATCH"): Write(
        "team",
        "tuan",
        params=lambda t, key: {"pk": t.activity(key).pk},
        body=lambda t, key: {"note": "đã sửa", "base_updated_at": t.activity(key).updated_at.isoformat()},
    ),
    ("api/v1/activities/<uuid:pk>/", "DELETE"): Write("team", "tuan", params=lambda t, key: {"pk": t.activity(key).pk}),
    ("api/v1/activity-types/", "GET"): Listing("reference", lambda t, key: "vneid", column="code"),
    ("api/v1/activity-types/", "POST"): Write(
        "reference",
        "minh",
        body=lambda t, key: {"code": "thu-nghiem", "name_vi": "Thử nghiệm", "name_en": "Trial"},
        has_sibling=False,
    ),
    ("api/v1/activity-types/<slug:code>/", "GET"): Read("reference", lambda t, key: {"code": "vneid"}),
    ("api/v1/activity-types/<slug:code>/", "PATCH"): Write(
        "reference",
        "minh",
        params=lambda t, key: {"code": "vneid"},
        body=lambda t, key: {"name_en": "VNeID"},
        has_sibling=False,
    ),
    # coverage
    ("api/v1/coverage/national/", "GET"): Read("nation", lambda t, key: {}, readers=frozenset({"minh"})),
    ("api/v1/coverage/provinces/", "GET"): Listing("province", lambda t, key: t.province(key).code, column="code"),
    ("api/v1/coverage/provinces/<province_code:code>/", "GET"): Read("province", _province),
    ("api/v1/coverage/provinces/<province_code:code>/communes/", "GET"): Read("province", _province),
    ("api/v1/coverage/communes/<commune_code:code>/", "GET"): Read("commune", _commune),
    # coverage exports (format csv; xlsx is the same view with another renderer)
    ("api/v1/coverage/national/export/<export_format:format>/", "GET"): Read(
        "nation", lambda t, key: {"format": "csv"}, readers=frozenset({"minh"})
    ),
    ("api/v1/coverage/provinces/export/<export_format:format>/", "GET"): ExportListing(
        "province", lambda t, key: t.province(key).name
    ),
    ("api/v1/coverage/provinces/<province_code:code>/export/<export_format:format>/", "GET"): Read(
        "province", lambda t, key: {**_province(t, key), "format": "xlsx"}
    ),
    ("api/v1/coverage/provinces/<province_code:code>/communes/export/<export_format:format>/", "GET"): Read(
        "province", lambda t, key: {**_province(t, key), "format": "csv"}
    ),
    ("api/v1/coverage/communes/<commune_code:code>/export/<export_format:format>/", "GET"): Read(
        "commune", lambda t, key: {**_commune(t, key), "format": "csv"}
    ),
}


# --- Discovery --------------------------------------------------------------------------------------


def _view_methods(pattern: URLPattern) -> set[str]:
    view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
    if view is None:
        return {"ANY"}  # a function view: it must be put in the table by hand
    return {m.upper() for m in DATA_METHODS if m in view.http_method_names and hasattr(view, m)}


def _routes() -> dict[str, URLPattern]:
    """Every route of the URL conf, as its full pattern text, outside the exempt prefixes."""
    routes: dict[str, URLPattern] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if any(route.startswith(p) for p in EXEMPT_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            else:
                routes[route] = pattern

    walk(get_resolver().url_patterns, "")
    return routes


def discovered_operations() -> set[tuple[str, str]]:
    return {
        (route, method)
        for route, pattern in _routes().items()
        if route not in EXEMPT_ROUTES
        for method in _view_methods(pattern)
    }


def test_every_endpoint_has_a_row_in_the_matrix():
    """A new endpoint, or a new method on one, fails here until it says how it is scoped."""
    discovered = discovered_operations()
    missing = sorted(discovered - set(OPERATIONS))
    stale = sorted(set(OPERATIONS) - discovered)
    assert not missing, f"endpoints without a row in OPERATIONS (say how they are scoped): {missing}"
    assert not stale, f"rows in OPERATIONS for endpoints the URL conf no longer serves: {stale}"


def test_discovery_sees_the_api_and_every_exemption_is_real():
    discovered = discovered_operations()
    assert {("api/v1/teams/", "GET"), ("api/v1/teams/", "POST")} <= discovered
    assert len(discovered) >= 40
    # An exemption for a route that no longer exists would silently cover the next one to take its path.
    assert set(EXEMPT_ROUTES) <= set(_routes())


# --- The world --------------------------------------------------------------------------------------


@pytest.fixture
def targets(world, api):
    """The persona world plus: team a1x (A1, commune-level; tuan's sibling), a free hamlet per commune, an
    activity per team, a failed import job per province, audit entries per province, and coverage figures."""
    world.free_hamlets = {
        key: HamletFactory(commune=getattr(world, key), name=f"Thôn Trống {key.upper()}") for key in ("a1", "a2", "b1")
    }
    a1x = TeamFactory(commune=world.a1, name="Tổ CNSCĐ Phường Hoà Bình")
    MemberFactory(team=a1x, role=MemberRole.LEADER)
    MemberFactory.create_batch(2, team=a1x)
    teams_recount([a1x.pk])
    world.all_teams = {**vars(world.teams), "a1x": a1x}
    world.activities = {}
    for key, team in world.all_teams.items():
        writer = world.binh if key == "b1" else world.lan
        body = {
            "activities": [
                {
                    "id": str(uuid.uuid4()),
                    "team": str(team.pk),
                    "type": "vneid",
                    "occurred_on": str(timezone.localdate() - dt.timedelta(days=1)),
                    "people_helped": 5,
                }
            ]
        }
        result = api(writer).post("/api/v1/activities/sync/", body).data["results"][0]
        assert result["status"] == "created", result
        world.activities[key] = Activity.objects.get(pk=result["id"])
    world.import_jobs = {
        key: ImportJob.objects.create(
            province=getattr(world, key),
            created_by=admin,
            filename=f"dang-ky-{key}.csv",
            checksum=uuid.uuid4().hex * 2,
            content=b"",
            status="failed",
            errors=[{"row": 2, "column": "so_dien_thoai", "message": "Số điện thoại không hợp lệ."}],
        )
        for key, admin in (("a", world.lan), ("b", world.binh))
    }
    for key, admin in (("a1", world.lan), ("b1", world.binh)):
        team = world.teams.__dict__[key]
        team.refresh_from_db()
        response = api(admin).patch(
            f"/api/v1/teams/{team.pk}/", {"decision_number": f"QĐ-{key}", "version": team.version}
        )
        assert response.status_code == 200, response.data
    coverage_services.recompute_all()
    for team in world.all_teams.values():
        team.refresh_from_db()
    return Targets(world)


def _url(route: str, params: dict) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(params[m.group(1)]), route)


def _results(response) -> list:
    data = response.data
    return data["results"] if isinstance(data, dict) and "results" in data else data


# --- The checks -------------------------------------------------------------------------------------


def _check_read(t: Targets, api, route: str, op: Read) -> None:
    nobody_url = _url(route, op.params(t, t.key(NOBODY_TARGET, op.level)))
    response = api(t.world.nobody).get(nobody_url, op.query)
    assert response.status_code == 404, ("nobody", nobody_url, response.status_code)
    for persona in SCOPED:
        own, sibling = SCOPES[persona]
        client = api(getattr(t.world, persona))
        url = _url(route, op.params(t, t.key(own, op.level)))
        expected = 200 if persona in op.readers else 404
        response = client.get(url, op.query)
        assert response.status_code == expected, (persona, "own", url, response.status_code)
        if sibling is not None and op.level not in ("reference", "nation"):
            url = _url(route, op.params(t, t.key(sibling, op.level)))
            response = client.get(url, op.query)
            assert response.status_code == 404, (persona, "sibling", url, response.status_code)


def _check_list(t: Targets, api, route: str, op: Listing) -> None:
    url = _url(route, {})
    response = api(t.world.nobody).get(url, op.query)
    assert response.status_code in (200, 403, 404), ("nobody", url, response.status_code)
    if response.status_code == 200:
        assert _results(response) == [], ("nobody", url, _results(response)[:3])
    for persona in SCOPED:
        own, sibling = SCOPES[persona]
        response = api(getattr(t.world, persona)).get(url, op.query)
        assert response.status_code == 200, (persona, url, response.status_code)
        listed = {str(row[op.column]) for row in _results(response)}
        if persona in op.readers:
            assert str(op.item(t, t.key(own, op.level))) in listed, (persona, "own missing", url)
        if sibling is not None and op.level != "reference":
            assert str(op.item(t, t.key(sibling, op.level))) not in listed, (persona, "sibling listed", url)


def _csv_cells(response) -> set[str]:
    assert response["Content-Type"].startswith("text/csv"), response["Content-Type"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return {cell for row in rows[1:] for cell in row}


def _check_export_list(t: Targets, api, route: str, op: ExportListing) -> None:
    url = _url(route, {"format": "csv"})
    response = api(t.world.nobody).get(url)
    assert response.status_code in (200, 403, 404), ("nobody", url, response.status_code)
    if response.status_code == 200:
        assert _csv_cells(response) == set(), ("nobody", url)
    for persona in SCOPED:
        own, sibling = SCOPES[persona]
        response = api(getattr(t.world, persona)).get(url)
        assert response.status_code == 200, (persona, url, response.status_code)
        cells = _csv_cells(response)
        if persona in op.readers:
            assert op.item(t, t.key(own, op.level)) in cells, (persona, "own missing", url)
        if sibling is not None:
            assert op.item(t, t.key(sibling, op.level)) not in cells, (persona, "sibling listed", url)


def _send(client, method: str, url: str, op: Write, t: Targets, key: str):
    body = op.body(t, key)
    if op.multipart:
        return getattr(client, method.lower())(url, body, format="multipart")
    return getattr(client, method.lower())(url, body, format="json")


def _check_write(t: Targets, api, route: str, method: str, op: Write) -> None:
    refused = [("nobody", NOBODY_TARGET)]
    if op.has_sibling:
        refused += [(p, SCOPES[p][1]) for p in SCOPED if SCOPES[p][1] is not None]
    for persona, units in refused:
        key = t.key(units, op.level)
        url = _url(route, op.params(t, key))
        before = fingerprint()
        response = _send(api(getattr(t.world, persona)), method, url, op, t, key)
        assert not op.succeeded(response), (persona, method, url, response.status_code, response.data)
        if op.item_results:
            statuses = {r["status"] for r in response.data["results"]}
            assert statuses == {"rejected"}, (persona, method, url, response.data)
        else:
            assert 400 <= response.status_code < 500, (persona, method, url, response.status_code)
        if op.params(t, key) and op.level in ("province", "commune", "team"):
            # The target named in the path is out of scope: 404, so the API does not confirm it exists.
            assert response.status_code == 404, (persona, method, url, response.status_code, response.data)
        assert fingerprint() == before, (persona, method, url, "wrote rows")
    witness = op.witness
    key = t.key(SCOPES[witness][0], op.level)
    url = _url(route, op.params(t, key))
    response = _send(api(getattr(t.world, witness)), method, url, op, t, key)
    assert op.succeeded(response), (witness, method, url, response.status_code, response.data)
    for persona in SCOPED:
        # Own-scope writes by every role: allowed or refused by role and state, but always a clear answer.
        key = t.key(SCOPES[persona][0], op.level)
        url = _url(route, op.params(t, key))
        response = _send(api(getattr(t.world, persona)), method, url, op, t, key)
        assert response.status_code < 500, (persona, method, url, response.status_code)


def _check_me(t: Targets, api, route: str) -> None:
    for persona in (*SCOPED, "nobody"):
        user = getattr(t.world, persona)
        data = api(user).get(_url(route, {})).data
        assert data["phone"] == user.phone, persona
    data = api(t.world.nobody).get(_url(route, {})).data
    assert (data["province"], data["commune"], data["team"]) == (None, None, None)


# The changes feed shows only committed transactions (activities.feed), so its rows must really be committed.
COMMITTED = {("api/v1/activities/changes/", "GET")}


@pytest.mark.parametrize(
    ("route", "method"),
    [
        pytest.param(*key, marks=[pytest.mark.django_db(transaction=True)] if key in COMMITTED else [])
        for key in sorted(OPERATIONS)
    ],
    ids=lambda v: v,
)
def test_scope(targets, api, route, method):
    op = OPERATIONS[(route, method)]
    if isinstance(op, Read):
        _check_read(targets, api, route, op)
    elif isinstance(op, Listing):
        _check_list(targets, api, route, op)
    elif isinstance(op, ExportListing):
        _check_export_list(targets, api, route, op)
    elif isinstance(op, Write):
        _check_write(targets, api, route, method, op)
    else:
        assert isinstance(op, Me)
        _check_me(targets, api, route)


def test_world_has_a_sibling_for_every_scoped_persona(targets):
    # Guards the table itself: own and sibling units differ at every level, and the sibling objects exist.
    for persona, (own, sibling) in SCOPES.items():
        if sibling is None:
            continue
        for level in ("province", "commune", "team"):
            assert getattr(own, level) != getattr(sibling, level), (persona, level)
        assert targets.team(sibling.team).pk != targets.team(own.team).pk
        assert targets.activity(sibling.team).team_id == targets.team(sibling.team).pk
