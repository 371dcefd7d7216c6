from django.urls import path

from areas import apis

urlpatterns = [
    path("provinces/", apis.ProvinceListApi.as_view(), name="province-list"),
    path("provinces/<province_code:code>/", apis.ProvinceDetailApi.as_view(), name="province-detail"),
    path("communes/", apis.CommuneListApi.as_view(), name="commune-list"),
    path("communes/<commune_code:code>/", apis.CommuneDetailApi.as_view(), name="commune-detail"),
    path("communes/<commune_code:code>/successors/", apis.CommuneSuccessorsApi.as_view(), name="commune-successors"),
    path(
        "communes/<commune_code:code>/predecessors/",
        apis.CommunePredecessorsApi.as_view(),
        name="commune-predecessors",
    ),
    path("hamlets/", apis.HamletListApi.as_view(), name="hamlet-list"),
    path("hamlets/<id:pk>/", apis.HamletDetailApi.as_view(), name="hamlet-detail"),
]
