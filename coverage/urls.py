from django.urls import path

from coverage import apis

urlpatterns = [
    path("coverage/national/", apis.NationalCoverageApi.as_view(), name="coverage-national"),
    path("coverage/provinces/", apis.ProvinceCoverageListApi.as_view(), name="coverage-provinces"),
    path(
        "coverage/provinces/<province_code:code>/", apis.ProvinceCoverageDetailApi.as_view(), name="coverage-province"
    ),
    path(
        "coverage/provinces/<province_code:code>/communes/",
        apis.ProvinceCommunesCoverageApi.as_view(),
        name="coverage-province-communes",
    ),
    path("coverage/communes/<commune_code:code>/", apis.CommuneCoverageApi.as_view(), name="coverage-commune"),
]
