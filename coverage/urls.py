from django.urls import path

from coverage import apis

urlpatterns = [
    path("coverage/national/", apis.NationalCoverageApi.as_view(), name="coverage-national"),
    path("coverage/provinces/", apis.ProvinceCoverageListApi.as_view(), name="coverage-provinces"),
    path("coverage/provinces/<str:code>/", apis.ProvinceCoverageDetailApi.as_view(), name="coverage-province"),
    path(
        "coverage/provinces/<str:code>/communes/",
        apis.ProvinceCommunesCoverageApi.as_view(),
        name="coverage-province-communes",
    ),
    path("coverage/communes/<str:code>/", apis.CommuneCoverageApi.as_view(), name="coverage-commune"),
]
