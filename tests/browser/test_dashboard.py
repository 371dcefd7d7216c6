"""The dashboard in headless chromium, served by gunicorn as in production: each role logs in and reads its
pages, and every number a page shows equals what the API answers the same user for the same scope.

The data is `make run`'s (seed_demo: the real map, a few Hà Nội communes, the demo logins and team leader),
recomputed as the worker would, kept as the snapshot of the last quarter's end, then changed (a new team, an
activity of last quarter) and recomputed again, so that "since last quarter" has something to say. It is
committed for the module (the server is another process) and flushed afterwards.

Screenshots of every page go to var/screenshots/dashboard-*.png (docs/dashboard.md shows them).

Run it with a module that uses the database (`pytest tests/web tests/browser`): pytest-django creates the test
database only when a collected test is marked django_db, and nothing here can be (Playwright's event loop runs in
this thread, where Django refuses the ORM; see in_thread).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import httpx
import pytest
import time_machine
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import User
from activities.services import activities_sync, normalize
from areas.models import Commune
from coverage.compute import quarter_of
from coverage.services import recompute_all, snapshot_take
from demo.leader import DEMO_PASSWORD
from members.models import Background, MemberRole
from members.services import member_create
from teams.services import team_create
from tests.conftest import ensure_reference_data

MINISTRY, HANOI, OFFICER, HCM, LEADER = "0900000001", "0900000002", "0900000003", "0900000004", "0900000005"
DEMO_COMMUNE = "00226"
VIETNAM = dt.timezone(dt.timedelta(hours=7))


def _number(text: str) -> int:
    """A number as the page writes it in Vietnamese: 81.415 -> 81415."""
    return int(re.sub(r"[.\s]", "", text.strip()))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """make run's data, recomputed, with last quarter's end kept as a snapshot and a change since."""
    today = timezone.localdate()
    last_quarter_end = quarter_of(today)[1] - dt.timedelta(days=1)
    with django_db_blocker.unblock():
        ensure_reference_data()
        call_command("load_areas", stdout=StringIO(), stderr=StringIO())
        # The demo as it stood on the last day of last quarter, and that night's snapshot.
        with time_machine.travel(dt.datetime.combine(last_quarter_end, dt.time(20, 0), tzinfo=VIETNAM), tick=False):
            with override_settings(DEBUG=True):
                call_command("seed_demo", base_url="http://testserver", stdout=StringIO(), stderr=StringIO())
            recompute_all()
            snapshot_take()
        # Since then: a team in a commune that had none, an activity of last quarter (logged late), one today.
        officer = User.objects.get(phone=HANOI)
        uncovered = Commune.objects.current().filter(province__code="01", teams__isnull=True).order_by("code").first()
        team, _ = team_create(
            actor=officer, commune_code=uncovered.code, name="Tổ Công nghệ số cộng đồng thử", established_on=today
        )
        for n, role in enumerate([MemberRole.LEADER, MemberRole.MEMBER, MemberRole.MEMBER, MemberRole.MEMBER]):
            member_create(
                actor=officer,
                team_id=team.pk,
                full_name=f"Người Thử {n}",
                phone=f"0987{n:06d}",
                role=role,
                background=Background.POLICE,
                joined_on=today,
            )
        leader = User.objects.get(phone=LEADER)
        late = {"team": leader.team_id, "type": "vneid", "occurred_on": last_quarter_end, "people_helped": 11}
        now = {"team": leader.team_id, "type": "online_public_services", "occurred_on": today, "people_helped": 3}
        activities_sync(actor=leader, items=[(uuid.uuid4(), normalize(item), None) for item in (late, now)])
        recompute_all()
        snapshot_take()
        yield {
            "today": today,
            "last_quarter": quarter_of(last_quarter_end)[0],
            "last_quarter_end": str(last_quarter_end),
            "new_commune": uncovered.code,
        }
        call_command("flush", interactive=False, verbosity=0)
        ensure_reference_data()


@pytest.fixture(scope="module")
def tokens(server, demo):
    """An API access token per demo login, as the mobile app or a script gets one."""
    result = {}
    for phone in (MINISTRY, HANOI, OFFICER, HCM, LEADER):
        answer = httpx.post(
            f"{server.url}/api/v1/auth/token/", json={"phone": phone, "password": DEMO_PASSWORD}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        result[phone] = answer.json()["access"]
    return result


def api(server, tokens, phone: str, path: str, **params) -> dict:
    answer = httpx.get(
        f"{server.url}/api/v1{path}", params=params, headers={"Authorization": f"Bearer {tokens[phone]}"}, timeout=30
    )
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
    return answer.json()


def rows_of(server, tokens, phone: str, path: str, **params) -> list[dict]:
    """Every row of a paginated list (one page of up to 500)."""
    body = api(server, tokens, phone, path, page_size=500, **params)
    assert body["next"] is None
    return body["results"]


def in_thread(work):
    """Run ORM work off the browser's thread: Playwright's sync API keeps an event loop running there, where
    Django refuses synchronous queries. Committed at once (autocommit): the server is another process."""

    def run():
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def book_rows(sheet):
    """A sheet's data rows by code: code -> teams (the 7th column of the by-commune sheet)."""
    return [(row[0], row[6]) for row in sheet.iter_rows(min_row=2, values_only=True)]


def workbook(download):
    return load_workbook(io.BytesIO(download.value.path().read_bytes()))


def log_in(page, server, phone: str, password: str = DEMO_PASSWORD):
    page.goto(f"{server.url}/login/")
    page.fill("#id_phone", phone)
    page.fill("#id_password", password)
    follow(page, "#login")


def follow(page, selector: str):
    """Click a link or a submit button and wait until the page it leads to has loaded.

    A bare click returns before the navigation starts, so a locator read right after it may count the rows of
    the old page, or of none while the new one loads.
    """
    with page.expect_navigation():
        page.click(selector)


def figure(page, name: str, within: str = "#headline") -> int:
    return _number(page.locator(f"{within} [data-figure={name}]").first.inner_text())


def test_each_role_logs_in_to_its_own_page(server, demo, page, screenshots):
    answer = page.goto(f"{server.url}/")
    assert page.url.startswith(f"{server.url}/login/")  # not logged in: the login page
    assert answer is not None and answer.status == 200
    assert page.locator("html").get_attribute("lang") == "vi"
    page.screenshot(path=screenshots / "dashboard-login.png", full_page=True)
    landing = {
        MINISTRY: "/nation/",
        HANOI: "/provinces/01/",
        OFFICER: f"/communes/{DEMO_COMMUNE}/",
        LEADER: f"/communes/{DEMO_COMMUNE}/",
        HCM: "/provinces/79/",
    }
    for phone, path in landing.items():
        page.context.clear_cookies()
        log_in(page, server, phone)
        assert page.url == f"{server.url}{path}", phone
        assert page.locator("#headline").is_visible()
    assert not page.recorded.external


def test_a_wrong_password_is_refused_on_the_page_and_the_lockout_is_the_apis(server, demo, page, tokens):
    log_in(page, server, "0900000099", "sai-mat-khau-123")
    assert page.locator("#login-error").inner_text() == "Số điện thoại hoặc mật khẩu không đúng."
    log_in(page, server, "12", "x")
    assert "#id_phone" and page.locator("#id_phone").get_attribute("aria-invalid") == "true"
    for _ in range(5):
        log_in(page, server, "0900000098", "sai-mat-khau-123")
    log_in(page, server, "0900000098", "sai-mat-khau-123")
    assert "Đăng nhập sai quá nhiều lần" in page.locator("#login-error").inner_text()
    # The same lockout as the API: the API refuses that phone now too.
    answer = httpx.post(
        f"{server.url}/api/v1/auth/token/", json={"phone": "0900000098", "password": "x" * 10}, timeout=30
    )
    assert answer.status_code == 429


def test_the_nation_page_shows_the_apis_figures(server, demo, page, tokens, screenshots):
    log_in(page, server, MINISTRY)
    page.screenshot(path=screenshots / "dashboard-nation.png", full_page=True)
    national = api(server, tokens, MINISTRY, "/coverage/national/")
    for name in (
        "teams_active",
        "members_active",
        "provinces_complete",
        "provinces_total",
        "communes_covered",
        "communes_total",
        "hamlets_covered",
        "hamlets_total",
        "activities_quarter",
    ):
        assert figure(page, name) == national[name], name
    assert page.locator("[data-computed-at]").get_attribute("data-computed-at")
    assert not page.locator("#stale").count()  # recomputed after the last write

    provinces = {p["code"]: p for p in rows_of(server, tokens, MINISTRY, "/coverage/provinces/")}
    rows = page.locator("#province-table tbody tr")
    assert rows.count() == len(provinces) == 34
    shown = [rows.nth(i).get_attribute("data-code") for i in range(rows.count())]
    ratio = {c: p["communes_covered"] / p["communes_total"] for c, p in provinces.items()}
    assert [ratio[c] for c in shown] == sorted(ratio.values(), reverse=True)  # ranked by commune coverage
    hanoi = page.locator("#province-table tr[data-code='01']")
    assert _number(hanoi.locator("[data-figure=teams_active]").inner_text()) == provinces["01"]["teams_active"]
    assert _number(hanoi.locator("[data-figure=members_active]").inner_text()) == provinces["01"]["members_active"]

    # The map: a point per commune, coloured as the API's figures say.
    assert page.locator("#commune-map circle").count() == national["communes_total"]
    communes = rows_of(server, tokens, MINISTRY, "/coverage/provinces/01/communes/")
    full = sum(c["fully_covered"] for c in communes)
    assert _number(page.locator("[data-legend=full]").inner_text()) == full
    assert _number(page.locator("[data-legend=covered]").inner_text()) == national["communes_covered"] - full
    assert _number(page.locator("[data-legend=uncovered]").inner_text()) == (
        national["communes_total"] - national["communes_covered"]
    )
    assert page.locator(f"#commune-map circle.uncovered[data-code='{demo['new_commune']}']").count() == 0

    # The trend: last quarter's snapshot, then this quarter's; and the change since last quarter's end.
    then = api(server, tokens, MINISTRY, "/coverage/national/", as_of=demo["last_quarter_end"])
    trend = page.locator("#trend-table tbody tr")
    assert trend.nth(0).locator("td").nth(0).inner_text() == demo["last_quarter"]
    assert _number(trend.nth(0).locator("td").nth(2).inner_text()) == then["teams_active"]
    assert (
        _number(page.locator("#changes [data-figure=teams_active] b").inner_text())
        == (national["teams_active"] - then["teams_active"])
        == 1
    )

    follow(page, "#rank-hamlets")
    shown = [rows.nth(i).get_attribute("data-code") for i in range(rows.count())]
    coverage = {c: p["hamlet_coverage"] for c, p in provinces.items()}
    assert [coverage[c] for c in shown] == sorted(coverage.values(), reverse=True)


def test_the_province_table_sorts_filters_and_matches_the_api(server, demo, page, tokens, screenshots):
    log_in(page, server, HANOI)
    page.screenshot(path=screenshots / "dashboard-province.png", full_page=True)
    province = api(server, tokens, HANOI, "/coverage/provinces/01/")
    for name in ("teams_active", "members_active", "communes_covered", "communes_total", "hamlets_covered"):
        assert figure(page, name) == province[name], name
    communes = {c["code"]: c for c in rows_of(server, tokens, HANOI, "/coverage/provinces/01/communes/")}
    rows = page.locator("#commune-table tbody tr")
    assert rows.count() == len(communes)
    for i in range(rows.count()):
        row = rows.nth(i)
        api_row = communes[row.get_attribute("data-code")]
        assert _number(row.locator("[data-column=teams_active]").inner_text()) == api_row["teams_active"]
        assert _number(row.locator("[data-column=members_active]").inner_text()) == api_row["members_active"]
        missing = api_row["hamlets_total"] - api_row["hamlets_covered"]
        assert _number(row.locator("[data-column=hamlets_missing]").inner_text()) == missing
        assert _number(row.locator("[data-column=activities_quarter]").inner_text()) == api_row["activities_quarter"]
    # Default order: the uncovered communes first.
    states = [rows.nth(i).get_attribute("class") for i in range(rows.count())]
    first_covered = next(i for i, s in enumerate(states) if s != "uncovered")
    assert "uncovered" not in states[first_covered:]

    # Sorting: teams, descending after a second click.
    follow(page, "#commune-table th[data-column=teams_active] a")
    follow(page, "#commune-table th[data-column=teams_active] a")
    teams = [_number(rows.nth(i).locator("[data-column=teams_active]").inner_text()) for i in range(rows.count())]
    assert teams == sorted(teams, reverse=True) and teams[0] == max(c["teams_active"] for c in communes.values())
    # Filtering: only covered communes, then a name typed without tones.
    page.select_option("select[name=status]", "covered")
    follow(page, "#apply")
    assert rows.count() == sum(c["covered"] and not c["fully_covered"] for c in communes.values())
    assert all(rows.nth(i).get_attribute("class") == "covered" for i in range(rows.count()))
    page.select_option("select[name=status]", "")
    page.fill("input[name=q]", "van mieu")
    follow(page, "#apply")
    assert [rows.nth(i).get_attribute("data-code") for i in range(rows.count())] == [DEMO_COMMUNE]

    # Hamlets without a team: the count, and the download, equal the figures.
    page.goto(f"{server.url}/provinces/01/")
    expected = province["hamlets_total"] - province["hamlets_covered"]
    assert _number(page.locator("#hamlets-missing-count").inner_text()) == expected
    with page.expect_download() as download:
        page.click("#hamlets-csv")
    lines = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert lines[0][0] == "Mã xã" and len(lines) - 1 == expected
    in_api = {
        h["id"]
        for h in api(server, tokens, HANOI, f"/coverage/communes/{DEMO_COMMUNE}/")["hamlets"]
        if not h["covered"]
    }
    assert in_api <= {int(line[2]) for line in lines[1:]}

    # Activity by type this quarter (the figures), against last quarter as its last snapshot kept it (not the
    # activity logged late for it).
    by_type = province["activities_by_type_quarter"]
    this_quarter = page.locator("#activity-table tbody td[data-quarter=this]")
    assert (
        sum(_number(this_quarter.nth(i).inner_text()) for i in range(this_quarter.count()))
        == sum(v["activities"] for v in by_type.values())
        == 1
    )
    then = api(server, tokens, HANOI, "/coverage/provinces/01/", as_of=demo["last_quarter_end"])
    before = sum(v["activities"] for v in then["activities_by_type_quarter"].values())
    assert _number(page.locator("#activity-total-previous").inner_text()) == before > 0


def test_the_commune_page_lists_hamlets_teams_and_masked_leaders(server, demo, page, tokens, screenshots):
    log_in(page, server, OFFICER)
    page.screenshot(path=screenshots / "dashboard-commune.png", full_page=True)
    commune = api(server, tokens, OFFICER, f"/coverage/communes/{DEMO_COMMUNE}/")
    rows = page.locator("#hamlet-table tbody tr")
    assert rows.count() == len(commune["hamlets"])
    covered = {h["id"] for h in commune["hamlets"] if h["covered"]}
    assert {
        int(rows.nth(i).get_attribute("data-hamlet"))
        for i in range(rows.count())
        if rows.nth(i).get_attribute("class") == "covered"
    } == covered
    teams = rows_of(server, tokens, OFFICER, "/teams/", commune=DEMO_COMMUNE)
    counts = {t["hamlet"]: t["member_count"] for t in teams if t["hamlet"]}
    for i in range(rows.count()):
        row = rows.nth(i)
        hamlet = int(row.get_attribute("data-hamlet"))
        if hamlet in counts:
            assert _number(row.locator("[data-column=member_count]").inner_text()) == counts[hamlet]
    assert page.locator("#activity-list tbody tr").count() == min(
        20, api(server, tokens, OFFICER, "/activities/", commune=DEMO_COMMUNE)["count"]
    )

    # The ministry reads the leaders' phones masked, as the API masks them.
    page.context.clear_cookies()
    log_in(page, server, MINISTRY)
    page.goto(f"{server.url}/communes/{DEMO_COMMUNE}/")
    team = next(t for t in teams if t["leader"] and t["hamlet"])
    member = api(server, tokens, MINISTRY, f"/members/{team['leader']['id']}/")
    shown = page.locator(f"#hamlet-table tr[data-hamlet='{team['hamlet']}'] td.phone").inner_text()
    assert shown == member["phone"] and "*" in shown


def test_out_of_scope_pages_are_404(server, demo, page, tokens, screenshots):
    hcm_commune = rows_of(server, tokens, HCM, "/coverage/provinces/79/communes/")[0]["code"]
    log_in(page, server, HANOI)
    for path in (
        "/nation/",
        "/provinces/79/",
        f"/communes/{hcm_commune}/",
        "/provinces/79/hamlets-without-team.csv",
        "/reports/?scope=79",
        "/reports/?scope=VN",
        "/provinces/99/",
    ):
        answer = page.goto(f"{server.url}{path}")
        assert answer is not None and answer.status == 404, path
    assert page.locator("#not-found").is_visible()
    page.screenshot(path=screenshots / "dashboard-not-found.png", full_page=True)
    page.context.clear_cookies()
    log_in(page, server, OFFICER)
    for path in ("/provinces/79/", "/reports/", "/communes/00004/", "/nation/"):
        answer = page.goto(f"{server.url}{path}")
        assert answer is not None and answer.status == 404, path


def test_bad_parameters_give_a_message_never_a_500(server, demo, page, screenshots):
    log_in(page, server, MINISTRY)
    cases = {
        "/provinces/01/?sort=bogus": "sort",
        "/provinces/01/?status=maybe": "status",
        "/nation/?rank=alphabet": "rank",
        "/reports/?quarter=2026-Q5": "quarter",
        "/reports/?quarter=2999-Q1": "quarter",
        "/reports/?scope=hanoi": "scope",
    }
    for path, field in cases.items():
        answer = page.goto(f"{server.url}{path}")
        assert answer is not None and answer.status == 400, path
        assert page.locator(f"#problem code:text-is('{field}')").count() == 1, path
    page.goto(f"{server.url}/provinces/01/?sort=bogus")
    page.screenshot(path=screenshots / "dashboard-bad-request.png", full_page=True)
    # A quarter before the first snapshot says so.
    answer = page.goto(f"{server.url}/reports/?quarter=2024-Q1")
    assert answer is not None and answer.status == 200
    assert "2024-Q1" in page.locator("#no-snapshot").inner_text()


def test_an_expired_session_goes_back_to_the_login(server, demo, page, django_db_blocker):
    from django.contrib.sessions.models import Session

    log_in(page, server, HANOI)
    with django_db_blocker.unblock():
        expired = in_thread(lambda: Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1)))
    assert expired >= 1
    answer = page.goto(f"{server.url}/provinces/01/")
    assert answer is not None and page.url.startswith(f"{server.url}/login/?next=/provinces/01/")
    log_in(page, server, HANOI)
    assert page.url.endswith("/provinces/01/")


def test_english_on_request(server, demo, page):
    log_in(page, server, HANOI)
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("h2", has_text="Communes").count() >= 1
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_quarterly_report_downloads_open_and_state_the_apis_figures(server, demo, page, tokens, screenshots):
    log_in(page, server, MINISTRY)
    follow(page, "#nav-report")
    page.screenshot(path=screenshots / "dashboard-report.png", full_page=True)
    national = api(server, tokens, MINISTRY, "/coverage/national/")
    quarter = quarter_of(demo["today"])[0]
    summary = page.locator("#summary").inner_text()
    teams = f"{national['teams_active']:,}".replace(",", ".")
    assert teams in summary and f"{national['provinces_complete']}/34" in summary

    with page.expect_download() as download:
        page.click("#download-xlsx")
    book = workbook(download)
    sheet = book.worksheets[0]
    cells = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert cells["Số Tổ"][0] == national["teams_active"]
    assert cells["Thành viên"][0] == national["members_active"]
    assert cells["Tỉnh, thành phố phủ kín cấp xã"][:2] == (national["provinces_complete"], 34)
    assert cells["Số Tổ"][4] == 1  # one team more than at the end of last quarter
    provinces = book["Theo tỉnh, thành phố"]
    assert provinces.max_row - 1 == 34
    roles = {r[0]: r[1] for r in book["Thành viên theo vai trò"].iter_rows(min_row=2, values_only=True)}
    assert sum(roles.values()) == national["members_active"]
    assert roles["Tổ trưởng"] == national["members_by_role"]["leader"]

    with page.expect_download() as download:
        page.click("#download-pdf")
    assert download.value.suggested_filename == f"bao-cao-to-cong-nghe-so-VN-{quarter}.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert teams in text and quarter in text and "toàn quốc" in text
    assert "vietnamadminunits" in text and "Thời điểm tính" in text

    # Last quarter's report is its snapshot, and the province admin gets their province's.
    then = api(
        server,
        tokens,
        MINISTRY,
        "/coverage/provinces/01/",
        as_of=demo["last_quarter_end"],
    )
    page.context.clear_cookies()
    log_in(page, server, HANOI)
    page.goto(f"{server.url}/reports/?quarter={demo['last_quarter']}")
    assert f"{then['teams_active']:,}".replace(",", ".") in page.locator("#summary").inner_text()
    with page.expect_download() as download:
        page.click("#download-xlsx")
    communes = workbook(download)["Theo xã, phường"]
    assert communes.max_row - 1 == then["communes_total"]
    teams_sheet = {row[0]: row[1] for row in book_rows(communes)}
    assert sum(teams_sheet.values()) == then["teams_active"]
