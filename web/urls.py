from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("nation/", views.nation, name="nation"),
    path("provinces/<province_code:code>/", views.province, name="province"),
    path(
        "provinces/<province_code:code>/hamlets-without-team.csv",
        views.hamlets_without_team_csv,
        name="province-hamlets-csv",
    ),
    path("communes/<commune_code:code>/", views.commune, name="commune"),
    path("reports/", views.report, name="report"),
    path("reports/report.xlsx", views.report_file, {"extension": "xlsx"}, name="report-xlsx"),
    path("reports/report.pdf", views.report_file, {"extension": "pdf"}, name="report-pdf"),
]
