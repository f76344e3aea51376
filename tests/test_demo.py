"""The demo network (services/demo.py), loaded through the API in-process, as
`make run` loads it."""

import httpx

from services.demo import DEMO_MEMBERS, load_demo_through
from tests.factories import sign_in


async def test_a_new_user_can_find_a_demo_member_by_name_and_invite_them(
    client: httpx.AsyncClient,
) -> None:
    assert await load_demo_through(client) == len(DEMO_MEMBERS)
    assert await load_demo_through(client) == 0  # safe to rerun
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
