"""Moments at the calendar's edge, in bodies, cursors and query parameters, are a 4xx
problem, never a 500 (a date that overflows once moved to UTC used to reach the driver)."""

import base64
import json
import uuid

import httpx
import pytest

from tests.factories import connect, sign_in, sign_in_all

OVERFLOWING = [
    "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
    "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]
TIME_LISTS = [
    "/v1/invitations?box=received",
    "/v1/invitations?box=sent",
    "/v1/introductions",
    "/v1/notifications",
    "/v1/webhooks/endpoints",
]


def cursor(sort_key: object, row_id: object = None) -> str:
    raw = json.dumps([sort_key, str(row_id or uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_invalid_cursor(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/invalid-cursor")


@pytest.mark.parametrize("moment", OVERFLOWING)
async def test_an_interaction_at_the_calendars_edge_is_a_422(
    client: httpx.AsyncClient, moment: str
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    await connect(client, ada, bob)
    response = await client.post(
        f"/v1/connections/{bob.member_id}/interactions",
        json={"kind": "coffee", "occurred_at": moment},
        headers=ada.headers,
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["location"] == ["body", "occurred_at"]
    assert "must lie between" in error["message"]


@pytest.mark.parametrize("moment", OVERFLOWING)
async def test_recovering_webhooks_since_the_calendars_edge_is_a_422(
    client: httpx.AsyncClient, moment: str
) -> None:
    ada = await sign_in(client)
    created = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["invitation.received"]},
        headers=ada.headers,
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()["endpoint_id"]
    response = await client.post(
        f"/v1/webhooks/endpoints/{endpoint}/recover", json={"since": moment}, headers=ada.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == ["body", "since"]


@pytest.mark.parametrize("moment", [*OVERFLOWING, "2026-01-01T00:00:00"])
async def test_a_time_cursor_at_the_calendars_edge_or_without_a_zone_is_a_400(
    client: httpx.AsyncClient, moment: str
) -> None:
    ada = await sign_in(client)
    for url in TIME_LISTS:
        separator = "&" if "?" in url else "?"
        response = await client.get(f"{url}{separator}cursor={cursor(moment)}", headers=ada.headers)
        assert_invalid_cursor(response)


@pytest.mark.parametrize("sort_key", ["Ada\x00", "Ada\ud800"])
async def test_a_name_cursor_with_text_no_name_can_hold_is_a_400(
    client: httpx.AsyncClient, sort_key: str
) -> None:
    ada = await sign_in(client)
    for url in ("/v1/connections", f"/v1/members/{ada.member_id}/connections"):
        response = await client.get(url, params={"cursor": cursor(sort_key)}, headers=ada.headers)
        assert_invalid_cursor(response)


async def test_a_delivery_log_cursor_at_the_calendars_edge_is_a_400(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client)
    created = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["invitation.received"]},
        headers=ada.headers,
    )
    deliveries = f"/v1/webhooks/endpoints/{created.json()['endpoint_id']}/deliveries"
    response = await client.get(
        deliveries, params={"cursor": cursor(OVERFLOWING[0])}, headers=ada.headers
    )
    assert_invalid_cursor(response)


@pytest.mark.parametrize("moment", OVERFLOWING[:2])
async def test_the_graph_services_at_parameter_at_the_calendars_edge_is_a_422(
    graph_client: httpx.AsyncClient, moment: str
) -> None:
    response = await graph_client.get(
        "/internal/v1/degree",
        params={"source": str(uuid.uuid4()), "target": str(uuid.uuid4()), "at": moment},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == ["query", "at"]
