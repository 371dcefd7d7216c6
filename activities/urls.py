from django.urls import path

from activities import apis

urlpatterns = [
    path("activities/", apis.ActivityListApi.as_view(), name="activity-list"),
    path("activities/sync/", apis.ActivitySyncApi.as_view(), name="activity-sync"),
    path("activities/changes/", apis.ActivityChangesApi.as_view(), name="activity-changes"),
    path("activities/<uuid:pk>/", apis.ActivityDetailApi.as_view(), name="activity-detail"),
    path("activity-types/", apis.ActivityTypeListApi.as_view(), name="activity-type-list"),
    path("activity-types/<slug:code>/", apis.ActivityTypeDetailApi.as_view(), name="activity-type-detail"),
]
