from django.urls import path

from coverage import apis

# Each figure in JSON, and as a file under export/{csv,xlsx}/.
urlpatterns = [
    path("coverage/national/", apis.NationalCoverageApi.as_view(), name="coverage-national"),
    path(
        "coverage/national/export/<export_format:format>/",
        apis.NationalCoverageExportApi.as_view(),
        name="coverage-national-export",
    ),
    path("coverage/provinces/", apis.ProvinceCoverageListApi.as_view(), name="coverage-provinces"),
    path(
        "coverage/provinces/export/<export_format:format>/",
        apis.ProvinceCoverageListExportApi.as_view(),
        name="coverage-provinces-export",
    ),
    path(
        "coverage/provinces/<province_code:code>/", apis.ProvinceCoverageDetailApi.as_view(), name="coverage-province"
    ),
    path(
        "coverage/provinces/<province_code:code>/export/<export_format:format>/",
        apis.ProvinceCoverageDetailExportApi.as_view(),
        name="coverage-province-export",
    ),
    path(
        "coverage/provinces/<province_code:code>/communes/",
        apis.ProvinceCommunesCoverageApi.as_view(),
        name="coverage-province-communes",
    ),
    path(
        "coverage/provinces/<province_code:code>/communes/export/<export_format:format>/",
        apis.ProvinceCommunesCoverageExportApi.as_view(),
        name="coverage-province-communes-export",
    ),
    path("coverage/communes/<commune_code:code>/", apis.CommuneCoverageApi.as_view(), name="coverage-commune"),
    path(
        "coverage/communes/<commune_code:code>/export/<export_format:format>/",
        apis.CommuneCoverageExportApi.as_view(),
        name="coverage-commune-export",
    ),
]
