"""Shared helpers of the area API tests."""


def codes(response):
    assert response.status_code == 200, response.data
    return sorted(item.get("code") or item.get("name") for item in response.data["results"])
