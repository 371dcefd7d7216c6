"""URLs of the bare endpoint only; the product's URLconf is not loaded here."""

from django.urls import path

from bench.bare.views import BareSyncApi, PingApi

urlpatterns = [
    path("bare/sync/", BareSyncApi.as_view()),
    path("bare/ping/", PingApi.as_view()),
]
