"""GET /health/ reports the database and Redis."""

import pytest

pytestmark = pytest.mark.django_db


def test_health_is_200_when_database_and_redis_answer(api):
    response = api().get("/health/")
    assert response.status_code == 200
    assert response.data["checks"]["database"]["ok"] is True
    assert response.data["checks"]["redis"]["ok"] is True


def test_health_is_503_when_redis_is_unreachable(api, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = api().get("/health/")
    assert response.status_code == 503
    assert response.data["checks"]["redis"]["ok"] is False
    assert response.data["checks"]["database"]["ok"] is True


def test_schema_and_docs_are_served(api):
    schema = api().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    docs = api().get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
