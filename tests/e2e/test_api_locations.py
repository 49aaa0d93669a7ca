"""Locations through HTTP: only the time zones of the 50 states and DC, named in the error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant


def _zones(client: TestClient, tenant: Tenant) -> list[str]:
    response = client.get("/api/v1/locations", headers=tenant.headers)
    assert response.status_code == 200
    return [item["time_zone"] for item in response.json()["items"]]


def _time_zone_error(response: Any) -> str:
    assert response.status_code == 422, response.text
    errors = [e for e in response.json()["detail"] if e["loc"][-1] == "time_zone"]
    assert errors, response.json()
    return str(errors[0]["msg"])


@pytest.mark.parametrize(
    "zone", ["UTC", "Asia/Tokyo", "Europe/London", "America/Toronto", "America/Puerto_Rico"]
)
def test_a_zone_outside_the_states_is_refused_on_create(
    client: TestClient, tenant: Tenant, zone: str
) -> None:
    response = client.post(
        "/api/v1/locations", json={"name": "Uptown", "time_zone": zone}, headers=tenant.headers
    )
    message = _time_zone_error(response)
    assert zone in message
    assert "not a time zone of the United States" in message
    assert "50 states or DC" in message
    assert _zones(client, tenant) == ["America/New_York"]  # nothing written


def test_an_unknown_zone_is_refused_on_create(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/locations", json={"name": "X", "time_zone": "Mars/Base"}, headers=tenant.headers
    )
    assert "unknown IANA time zone" in _time_zone_error(response)


@pytest.mark.parametrize(
    ("zone", "stored"),
    [
        ("America/Indiana/Knox", "America/Indiana/Knox"),
        ("Pacific/Honolulu", "Pacific/Honolulu"),
        ("America/Adak", "America/Adak"),
        ("US/Eastern", "America/New_York"),
        ("US/Arizona", "America/Phoenix"),
    ],
)
def test_us_zones_are_accepted_and_aliases_stored_canonical(
    client: TestClient, tenant: Tenant, zone: str, stored: str
) -> None:
    response = client.post(
        "/api/v1/locations", json={"name": "Uptown", "time_zone": zone}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["time_zone"] == stored
    assert _zones(client, tenant) == ["America/New_York", stored]


def test_a_zone_outside_the_states_is_refused_on_update(client: TestClient, tenant: Tenant) -> None:
    url = f"/api/v1/locations/{tenant.location_id}"
    response = client.patch(url, json={"time_zone": "Asia/Tokyo"}, headers=tenant.headers)
    assert "Asia/Tokyo" in _time_zone_error(response)
    assert _zones(client, tenant) == ["America/New_York"]

    response = client.patch(url, json={"time_zone": "US/Pacific"}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == "America/Los_Angeles"
    response = client.patch(url, json={"name": "Renamed"}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert _zones(client, tenant) == ["America/Los_Angeles"]
