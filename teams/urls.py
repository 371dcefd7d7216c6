from django.urls import path

from teams import apis

urlpatterns = [
    path("teams/", apis.TeamListApi.as_view(), name="team-list"),
    path("teams/<uuid:pk>/", apis.TeamDetailApi.as_view(), name="team-detail"),
    path("teams/<uuid:pk>/dissolve/", apis.TeamDissolveApi.as_view(), name="team-dissolve"),
    path("team-size-policies/<province_code:code>/", apis.SizePolicyApi.as_view(), name="team-size-policy"),
]
