from django.urls import path

from accounts import apis, audit_apis

urlpatterns = [
    path("auth/token/", apis.TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh/", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("audit/", audit_apis.AuditListApi.as_view(), name="audit-list"),
]
