"""Managing webhook endpoints through the API."""

import base64
import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from rapport_common.settings import Settings
from rapport_common.webhooks.payloads import WEBHOOK_DATA
from services.api.main import create_app
from services.api.webhooks.service import MAX_ENDPOINTS_PER_MEMBER
from tests.conftest import SteppingClock
from tests.factories import sign_in, sign_in_all
from tests.webhooks.conftest import register

URL = "http://127.0.0.1:9/hooks"


async def test_create_endpoint_shows_a_whsec_secret_only_once(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "Ada")
    created = await register(client, ada, URL, "connection.created", "invitation.received")
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert created["event_types"] == ["connection.created", "invitation.received"]
    read = await client.get(f"/v1/webhooks/endpoints/{created['endpoint_id']}", headers=ada.headers)
    assert read.status_code == 200 and "secret" not in read.json()


async def test_create_endpoint_with_a_reused_idempotency_key_creates_one(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_in(client, "Ada")
    headers = {**ada.headers, "Idempotency-Key": "endpoint-1"}
    body = {"url": URL, "event_types": ["connection.created"]}
    first = await client.post("/v1/webhooks/endpoints", json=body, headers=headers)
    again = await client.post("/v1/webhooks/endpoints", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    listed = await client.get("/v1/webhooks/endpoints", headers=ada.headers)
    assert len(listed.json()["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"url": URL, "event_types": []},
        {"url": URL, "event_types": ["member.registered"]},
        {"url": URL, "event_types": ["connection.created"], "secret": "whsec_mine"},
        {"url": URL, "event_types": ["connection.created"], "description": "x" * 201},
        {"url": "http://127.0.0.1/" + "a" * 2048, "event_types": ["connection.created"]},
    ],
    ids=["no-types", "unknown-type", "unknown-field", "long-description", "long-url"],
)
async def test_create_endpoint_with_invalid_fields_is_422(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    ada = await sign_in(client, "Ada")
    response = await client.post("/v1/webhooks/endpoints", json=body, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-error")


async def test_list_endpoints_pages_newest_first(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "Ada")
    ids = [(await register(client, ada, f"{URL}/{n}"))["endpoint_id"] for n in range(3)]
    first = (await client.get("/v1/webhooks/endpoints?limit=2", headers=ada.headers)).json()
    cursor = first["next_cursor"]
    second = (
        await client.get(f"/v1/webhooks/endpoints?limit=2&cursor={cursor}", headers=ada.headers)
    ).json()
    listed = [e["endpoint_id"] for e in first["items"] + second["items"]]
    assert listed == ids[::-1] and second["next_cursor"] is None


async def test_delete_endpoint_makes_it_404(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "Ada")
    endpoint_id = (await register(client, ada, URL))["endpoint_id"]
    path = f"/v1/webhooks/endpoints/{endpoint_id}"
    assert (await client.delete(path, headers=ada.headers)).status_code == 204
    assert (await client.get(path, headers=ada.headers)).status_code == 404


async def test_rotate_secret_keeps_the_previous_one_for_the_grace_period(
    client: httpx.AsyncClient, clock: SteppingClock, settings: Settings
) -> None:
    ada = await sign_in(client, "Ada")
    created = await register(client, ada, URL)
    response = await client.post(
        f"/v1/webhooks/endpoints/{created['endpoint_id']}/rotate-secret", headers=ada.headers
    )
    assert response.status_code == 200
    rotated = response.json()
    grace = timedelta(hours=settings.webhooks.rotation_grace_hours)
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert datetime.fromisoformat(rotated["previous_secret_expires_at"]) == clock.now + grace


ROUTES = [
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}", None),
    ("DELETE", "/v1/webhooks/endpoints/{endpoint_id}", None),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", None),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/enable", None),
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries", None),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/messages/msg_{hex}/redeliver", None),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/recover", {"since": "2026-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_another_members_endpoint_is_404_on_every_route(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    ada, eve = await sign_in_all(client, "Ada", "Eve")
    endpoint_id = (await register(client, ada, URL))["endpoint_id"]
    url = path.format(endpoint_id=endpoint_id, hex=uuid.uuid4().hex)
    response = await client.request(method, url, json=body, headers=eve.headers)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/not-found")
    still_there = await client.get(f"/v1/webhooks/endpoints/{endpoint_id}", headers=ada.headers)
    assert still_there.status_code == 200


def test_openapi_documents_every_webhook_event_with_its_signature_headers(
    settings: Settings,
) -> None:
    spec = create_app(settings).openapi()
    webhooks = spec["webhooks"]
    assert set(webhooks) == set(WEBHOOK_DATA)
    operation = webhooks["connection.created"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    data = spec["components"]["schemas"][body_ref.rsplit("/", 1)[1]]["properties"]["data"]
    rating = spec["components"]["schemas"][data["$ref"].rsplit("/", 1)[1]]["properties"]
    assert "my_rating" in rating and "other_rating" not in rating


async def test_create_endpoint_beyond_the_cap_is_409(client: httpx.AsyncClient) -> None:
    ada = await sign_in(client, "Ada")
    for n in range(MAX_ENDPOINTS_PER_MEMBER):
        await register(client, ada, f"{URL}/{n}")
    response = await client.post(
        "/v1/webhooks/endpoints",
        json={"url": URL, "event_types": ["connection.created"]},
        headers=ada.headers,
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/webhook-endpoint-limit")
