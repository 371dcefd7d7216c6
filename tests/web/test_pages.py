"""The dashboard's pages through Django's test client, on the persona world: login and lockout, scope (404), bad
parameters (400 pages), the hamlets download, the quarterly report's content and files, and pinned query counts.
The browser tests (tests/browser/test_dashboard.py) drive the same pages in chromium on the real map."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader

from activities.models import Activity
from coverage.services import recompute_all, snapshot_take
from tests.conftest import PASSWORD
from tests.factories import HamletFactory, TeamFactory
from web.templatetags.dashboard import num

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def figures(world, travel):
    """The persona world with its figures recomputed and kept as the snapshot of 30/09 (the end of Q3)."""
    recompute_all()
    snapshot_take(day=dt.date(2026, 9, 30))
    return world


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_login_form_logs_in_and_lands_on_the_roles_page(world, travel):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    assert page.status_code == 200 and "Đăng nhập" in page.text
    token = page.cookies["csrftoken"].value
    answer = client.post("/login/", {"phone": world.lan.phone, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert client.get("/")["Location"] == f"/provinces/{world.a.code}/"
    without_token = Client(enforce_csrf_checks=True).post("/login/", {"phone": world.lan.phone, "password": PASSWORD})
    assert without_token.status_code == 403


def test_each_role_has_its_home(world, travel):
    homes = {
        world.minh: "/nation/",
        world.lan: f"/provinces/{world.a.code}/",
        world.hoa: f"/communes/{world.a1.code}/",
        world.tuan: f"/communes/{world.a1.code}/",
    }
    for user, home in homes.items():
        assert logged_in(user).get("/")["Location"] == home
    nobody = logged_in(world.nobody).get("/")
    assert nobody.status_code == 403 and "chưa được gán" in nobody.text


def test_wrong_login_is_refused_per_field_and_locked_out_as_the_api(world, travel):
    client = Client()
    bad_phone = client.post("/login/", {"phone": "12", "password": "x"})
    assert bad_phone.status_code == 400 and 'aria-invalid="true"' in bad_phone.text
    for _ in range(4):
        wrong = client.post("/login/", {"phone": world.lan.phone, "password": "sai-mat-khau-1"})
        assert wrong.status_code == 401 and "Số điện thoại hoặc mật khẩu không đúng." in wrong.text
    fifth = client.post("/login/", {"phone": world.lan.phone, "password": "sai-mat-khau-1"})
    assert fifth.status_code == 429  # AXES_FAILURE_LIMIT: the fifth failure locks the phone
    locked = client.post("/login/", {"phone": world.lan.phone, "password": PASSWORD})
    assert locked.status_code == 429 and "Đăng nhập sai quá nhiều lần" in locked.text
    api = client.post(
        "/api/v1/auth/token/", {"phone": world.lan.phone, "password": PASSWORD}, content_type="application/json"
    )
    assert api.status_code == 429


def test_pages_need_a_session_and_an_expired_one_goes_to_the_login(world, travel):
    for path in ("/nation/", f"/provinces/{world.a.code}/", f"/communes/{world.a1.code}/", "/reports/"):
        answer = Client().get(path)
        assert answer.status_code == 302 and answer["Location"] == f"/login/?next={path}"
    client = Client()
    client.post("/login/", {"phone": world.lan.phone, "password": PASSWORD})
    assert client.get(f"/provinces/{world.a.code}/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(f"/provinces/{world.a.code}/")["Location"] == f"/login/?next=/provinces/{world.a.code}/"


def test_out_of_scope_is_404(figures):
    a, b = figures.a.code, figures.b.code
    cases = {
        figures.lan: [
            "/nation/",
            f"/provinces/{b}/",
            f"/communes/{figures.b1.code}/",
            f"/reports/?scope={b}",
            "/reports/?scope=VN",
            f"/provinces/{b}/hamlets-without-team.csv",
        ],
        figures.hoa: [f"/provinces/{b}/", f"/communes/{figures.a2.code}/", "/reports/", "/nation/"],
        figures.tuan: [f"/communes/{figures.a2.code}/", f"/provinces/{b}/", "/reports/"],
    }
    for user, paths in cases.items():
        client = logged_in(user)
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 404, (user.phone, path)
            assert "Không tìm thấy" in answer.text
    minh = logged_in(figures.minh)
    for path in (f"/provinces/{b}/", f"/communes/{figures.b1.code}/", f"/reports/?scope={b}"):
        assert minh.get(path).status_code == 200, path
    # As in the API, a commune officer reads their province's figures, and in its table only their commune.
    own = logged_in(figures.hoa).get(f"/provinces/{a}/").text
    assert f'data-code="{figures.a1.code}"' in own and f'data-code="{figures.a2.code}"' not in own


def test_bad_parameters_are_a_400_page_naming_them(figures):
    client = logged_in(figures.minh)
    for path, field in {
        f"/provinces/{figures.a.code}/?sort=bogus": "sort",
        f"/provinces/{figures.a.code}/?status=maybe": "status",
        f"/provinces/{figures.a.code}/?size=tiny": "size",
        "/nation/?rank=alphabet": "rank",
        "/reports/?quarter=2026Q3": "quarter",
        "/reports/?quarter=2027-Q1": "quarter",
        "/reports/?scope=hanoi": "scope",
        "/reports/report.pdf?quarter=x": "quarter",
    }.items():
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert f"<code>{field}</code>" in answer.text, path


def test_the_province_table_filters_and_sorts(figures):
    client = logged_in(figures.lan)
    page = client.get(f"/provinces/{figures.a.code}/").text
    # By default a commune with hamlets missing (a2) comes before one with a team in every hamlet (a1).
    assert page.index(f'data-code="{figures.a2.code}"') < page.index(f'data-code="{figures.a1.code}"')
    descending = client.get(f"/provinces/{figures.a.code}/?sort=-code").text
    assert descending.index(f'data-code="{figures.a2.code}"') < descending.index(f'data-code="{figures.a1.code}"')
    named = client.get(f"/provinces/{figures.a.code}/?q=thuy khue").text
    assert f'data-code="{figures.a2.code}"' in named and f'data-code="{figures.a1.code}"' not in named
    # a2's team is at commune level: a2 is covered and its one hamlet is missing.
    partly = client.get(f"/provinces/{figures.a.code}/?status=covered").text
    assert f'data-code="{figures.a2.code}"' in partly and f'data-code="{figures.a1.code}"' not in partly


def test_hamlets_without_a_team_download(figures):
    HamletFactory(commune=figures.a1, name='=HYPERLINK("http://x")')
    answer = logged_in(figures.lan).get(f"/provinces/{figures.a.code}/hamlets-without-team.csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"].startswith(f'attachment; filename="thon-chua-co-to-{figures.a.code}-')
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    names = sorted(row[3] for row in rows[1:])
    assert names == sorted(['\'=HYPERLINK("http://x")', figures.hamlets.a2.name])  # a formula is shown, not run


def test_the_commune_page_masks_the_leader_phone_as_the_api(figures):
    leader = figures.leaders.a1
    as_ministry = logged_in(figures.minh).get(f"/communes/{figures.a1.code}/").text
    assert leader.phone not in as_ministry and leader.phone[-3:] in as_ministry
    as_admin = logged_in(figures.lan).get(f"/communes/{figures.a1.code}/").text
    assert leader.phone in as_admin


def test_numbers_are_written_as_in_vietnamese_or_english():
    with translation.override("vi"):
        assert num(81415) == "81.415" and num(396000) == "396.000"
    with translation.override("en"):
        assert num(81415) == "81,415"


def test_english_on_request(figures):
    client = logged_in(figures.minh)
    english = client.get("/nation/", headers={"accept-language": "en"})
    assert "Coverage of the nation" in english.text and 'lang="en"' in english.text
    assert "Độ phủ toàn quốc" in client.get("/nation/").text


def test_the_report_of_a_closed_quarter_is_its_snapshot_and_states_the_change(figures):
    minh = logged_in(figures.minh)
    page = minh.get("/reports/?quarter=2026-Q3&scope=VN")
    assert page.status_code == 200
    report = page.context["report"]
    assert report.day == dt.date(2026, 9, 30) and report.previous_quarter is None
    teams = report.lines[0]
    assert (teams.value, teams.previous) == (3, None)
    figures_then = page.context["report"].lines
    complete = next(line for line in figures_then if line.label == "Tỉnh, thành phố phủ kín cấp xã")
    assert (complete.value, complete.total) == (2, 2)  # every commune of both provinces has a team
    assert "3 Tổ Công nghệ số cộng đồng với 12 thành viên; 2/2 tỉnh, thành phố phủ kín cấp xã." in page.text

    now = minh.get("/reports/?quarter=2026-Q4&scope=VN").context["report"]
    assert now.day is None and now.previous_quarter == "2026-Q3"
    assert [line.change for line in now.lines[:2]] == [0, 0]


def test_a_report_before_the_first_snapshot_says_so(figures):
    minh = logged_in(figures.minh)
    page = minh.get("/reports/?quarter=2025-Q4")
    assert page.status_code == 200 and "30/09/2026" in page.text and "2025-Q4" in page.text
    assert minh.get("/reports/report.xlsx?quarter=2025-Q4").status_code == 404


def test_the_report_files_hold_its_figures(figures):
    Activity.objects.all().delete()
    lan = logged_in(figures.lan)
    xlsx = lan.get(f"/reports/report.xlsx?quarter=2026-Q4&scope={figures.a.code}")
    assert (
        xlsx["Content-Disposition"] == f'attachment; filename="bao-cao-to-cong-nghe-so-{figures.a.code}-2026-Q4.xlsx"'
    )
    book = load_workbook(io.BytesIO(xlsx.content))
    summary = {row[0]: row[1:] for row in book.worksheets[0].iter_rows(values_only=True) if row and row[0]}
    assert summary["Số Tổ"][0] == 2 and summary["Thành viên"][0] == 8
    assert summary["Xã, phường có Tổ"][:2] == (2, 2)
    communes = list(book["Theo xã, phường"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in communes] == [figures.a1.code, figures.a2.code]
    assert sum(row[1] for row in book["Thành viên theo vai trò"].iter_rows(min_row=2, values_only=True)) == 8

    pdf = lan.get(f"/reports/report.pdf?quarter=2026-Q4&scope={figures.a.code}")
    assert pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert figures.a.name in text and "2026-Q4" in text and "2/2 xã, phường, đặc khu có Tổ" in text


def test_page_query_counts(figures, django_assert_num_queries):
    minh = logged_in(figures.minh)
    minh.get("/nation/")  # the session and the user are loaded on every request; warm nothing else
    # session, user; national: row, provinces, marks; provinces: units, figures, marks, validity;
    # the map: points, flags; trend: days, figures
    with django_assert_num_queries(13):
        assert minh.get("/nation/").status_code == 200
    lan = logged_in(figures.lan)
    # session, user; province: units, figures, marks, validity; its communes: province in scope, units, figures,
    # marks, validity; points; hamlets without a team: rows, count; trend: days, figures; type names
    with django_assert_num_queries(17):
        assert lan.get(f"/provinces/{figures.a.code}/").status_code == 200
    # session, user; commune: units, figures, marks, validity; hamlets, teams; recent activities; type names;
    # trend: days, figures
    with django_assert_num_queries(12):
        assert lan.get(f"/communes/{figures.a1.code}/").status_code == 200


def test_before_any_recompute_the_pages_show_zeros_marked_stale(world, travel):
    """A fresh deployment: nothing computed yet. The pages answer, with the totals of the map, zeros and the
    stale marker, and the report of the quarter in progress says its figures were waiting."""
    minh = logged_in(world.minh)
    page = minh.get("/nation/").text
    assert 'id="stale"' in page and "Chưa được tính" in page
    assert 'data-figure="teams_active">0<' in page and 'data-figure="provinces_total">2<' in page
    report = minh.get("/reports/").context["report"]
    assert report.stale and report.lines[0].value == 0
    assert 'id="stale"' in logged_in(world.lan).get(f"/provinces/{world.a.code}/").text


def test_a_write_after_the_recompute_marks_the_pages_stale_until_the_next(figures):
    from teams.services import team_create

    lan = logged_in(figures.lan)
    assert 'id="stale"' not in lan.get(f"/provinces/{figures.a.code}/").text
    team_create(
        actor=figures.lan,
        commune_code=figures.a2.code,
        hamlet_id=figures.hamlets.a2.pk,
        name="Tổ mới",
        established_on=dt.date(2026, 11, 1),
    )
    assert 'id="stale"' in lan.get(f"/provinces/{figures.a.code}/").text
    assert 'id="stale"' in lan.get(f"/communes/{figures.a2.code}/").text
    recompute_all()
    page = lan.get(f"/provinces/{figures.a.code}/").text
    assert 'id="stale"' not in page and 'data-figure="teams_active">3<' in page


def test_a_team_leader_sees_their_commune_not_the_province_and_not_other_teams(figures):
    other = TeamFactory(commune=figures.a1, hamlet=HamletFactory(commune=figures.a1, name="Thôn Bên"), name="Tổ bên")
    tuan = logged_in(figures.tuan)
    for path in (f"/provinces/{figures.a.code}/", f"/provinces/{figures.a.code}/hamlets-without-team.csv"):
        assert tuan.get(path).status_code == 404, path
    page = tuan.get(f"/communes/{figures.a1.code}/").text
    # The neighbouring hamlet is covered, and says so; its team (name, leader) is not in the leader's scope.
    assert f'data-hamlet="{other.hamlet_id}" class="covered"' in page and "Tổ bên" not in page
    assert figures.teams.a1.name in page


def test_bad_quarters_and_next_urls_never_give_a_500(figures):
    minh = logged_in(figures.minh)
    for quarter in ("0000-Q1", "0001-Q1", "9999-Q4", "2026-Q0", "２０２６-Q1"):
        assert minh.get("/reports/", {"quarter": quarter}).status_code == 400, quarter
    client = Client()
    for target, landing in (("nation", "nation"), ("/nation/", "/nation/"), ("https://evil.example/", "/")):
        answer = client.post(f"/login/?next={target}", {"phone": figures.minh.phone, "password": PASSWORD})
        assert answer.status_code == 302 and answer["Location"] == landing, target
