"""The demo network (services/demo.py), loaded through the API in-process, as
`make run` loads it."""

import uuid

import httpx

from services.demo import DEMO_MEMBERS, load_demo_through
from tests.factories import ApiClient, sign_in


async def _verify(client: httpx.AsyncClient, member_id: str, address: str) -> None:
    # No notifier runs here: the address is marked verified in the test's transaction
    # (the demo's own verifier, following the emailed link, is used by `make run`).
    assert isinstance(client, ApiClient) and client.mark_email_verified is not None
    await client.mark_email_verified(uuid.UUID(member_id))


async def test_a_new_user_can_find_a_demo_member_by_name_and_invite_them(
    client: httpx.AsyncClient,
) -> None:
    assert await load_demo_through(client, _verify) == len(DEMO_MEMBERS)
    assert await load_demo_through(client, _verify) == 0  # safe to rerun
    newcomer = await sign_in(client, "New User")

    found = await client.get("/v1/members", params={"q": "Grace"}, headers=newcomer.headers)
    assert found.status_code == 200, found.text
    grace = next(hit for hit in found.json()["items"] if hit["name"] == "Grace Hopper")
    invited = await client.post(
        "/v1/invitations",
        json={"to_member_id": grace["member_id"], "note": "Loved COBOL.", "how_we_met": "event"},
        headers=newcomer.headers,
    )

    assert (grace["company"], grace["title"], grace["degree"]) == ("US Navy", "Rear Admiral", None)
    assert invited.status_code == 201, invited.text
