from django.urls import path

from members import apis
from members.import_apis import ImportDetailApi, ImportErrorsApi, ImportListApi

urlpatterns = [
    path("members/", apis.MemberListApi.as_view(), name="member-list"),
    path("members/<uuid:pk>/", apis.MemberDetailApi.as_view(), name="member-detail"),
    path("teams/<uuid:pk>/members/", apis.TeamMembersApi.as_view(), name="team-members"),
    path("teams/<uuid:pk>/leader-account/", apis.TeamLeaderAccountApi.as_view(), name="team-leader-account"),
]

urlpatterns += [
    path("imports/", ImportListApi.as_view(), name="import-list"),
    path("imports/<uuid:pk>/", ImportDetailApi.as_view(), name="import-detail"),
    path("imports/<uuid:pk>/errors.xlsx", ImportErrorsApi.as_view(), name="import-errors"),
]
