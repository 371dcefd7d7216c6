"""Root URLs: the versioned API under /api/v1/, its schema and docs, health, the admin and the dashboard."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import converters
from config.health import HealthApi

converters.register()

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("areas.urls")),
    path("", include("teams.urls")),
    path("", include("members.urls")),
    path("", include("activities.urls")),
    path("", include("coverage.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("health/", HealthApi.as_view(), name="health"),
    path("api/v1/health/", HealthApi.as_view(), name="health-v1"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # The dashboard for province admins, commune officers and the ministry (web/), at the root.
    path("", include("web.urls")),
]

# Under /api/, a URL that matches nothing and a crash answer in the API's JSON envelope, not an HTML page.
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
