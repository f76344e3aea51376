"""Profile fields and the settings of issue 12 on PATCH /v1/me, and the preset a new
networking stance offers."""

from typing import Any

import httpx
import pytest

from tests.factories import sign_in


async def _patch(client: httpx.AsyncClient, headers: dict[str, str], **changes: Any) -> Any:
    return await client.patch("/v1/me", json=changes, headers=headers)


async def test_profile_fields_are_shown_to_other_members(client: httpx.AsyncClient) -> None:
    me = await sign_in(client, "Grace Hopper", company="Navy", title="Rear Admiral")
    viewer = await sign_in(client, "Viewer")
    response = await _patch(
        client,
        me.headers,
        bio="Wrote the first compiler.\nLikes nanoseconds.",
        links=["https://example.com/grace", "http://blog.example.org/"],
        locale="en-US",
        time_zone="America/New_York",
    )
    assert response.status_code == 200, response.text

    profile = (await client.get(f"/v1/members/{me.member_id}", headers=viewer.headers)).json()

    assert {key: profile[key] for key in ("company", "title", "bio", "links", "locale")} == {
        "company": "Navy",
        "title": "Rear Admiral",
        "bio": "Wrote the first compiler.\nLikes nanoseconds.",
        "links": ["https://example.com/grace", "http://blog.example.org/"],
        "locale": "en-US",
    }
    assert profile["time_zone"] == "America/New_York"
    assert "findable_by" not in profile and "email" not in profile


@pytest.mark.parametrize(
    "changes",
    [
        {"time_zone": "Mars/Olympus_Mons"},
        {"time_zone": "europe/paris"},
        {"links": ["ftp://example.com/file"]},
        {"links": ["javascript:alert(1)"]},
        {"links": ["https://user:secret@example.com/"]},
        {"links": ["https://example.com/" + "a" * 300]},
        {"links": [f"https://example.com/{i}" for i in range(4)]},
        {"locale": "english"},
        {"locale": "en_US"},
        {"company": "Line\nbreak"},
        {"title": "Tab\there"},
        {"company": "x" * 121},
        {"bio": "x" * 501},
        {"bio": "bell\x07"},
        {"findable_by": "friends"},
        {"decline_cooldown_days": 0},
        {"decline_cooldown_days": 3651},
    ],
)
async def test_profile_fields_are_validated(
    client: httpx.AsyncClient, changes: dict[str, Any]
) -> None:
    me = await sign_in(client, "Ada")
    response = await _patch(client, me.headers, **changes)
    assert response.status_code == 422, response.text
    (field,) = changes
    assert all(error["location"][:2] == ["body", field] for error in response.json()["errors"])


async def test_the_new_settings_have_their_defaults_and_a_null_cooldown_means_never(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client, "Ada")
    mine = (await client.get("/v1/me", headers=me.headers)).json()
    assert {
        key: mine[key]
        for key in (
            "findable_by",
            "findable_by_email",
            "decline_cooldown_days",
            "recommendations_visible_to",
            "links",
            "preset_offer",
        )
    } == {
        "findable_by": "everyone",
        "findable_by_email": True,
        "decline_cooldown_days": 90,
        "recommendations_visible_to": "everyone",
        "links": [],
        "preset_offer": None,
    }

    never = (await _patch(client, me.headers, decline_cooldown_days=None)).json()
    kept = (await _patch(client, me.headers, findable_by=None, links=None, company=None)).json()

    assert never["decline_cooldown_days"] is None
    assert kept["findable_by"] == "everyone" and kept["links"] == []
    assert kept["decline_cooldown_days"] is None


async def test_changing_stance_offers_the_matching_preset_and_changes_nothing_until_confirmed(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client, "Ada")
    policy_before = (await client.get("/v1/me/policy", headers=me.headers)).json()

    offered = (await _patch(client, me.headers, networking_stance="open")).json()
    same_again = (await _patch(client, me.headers, networking_stance="open")).json()
    other_change = (await _patch(client, me.headers, headline="Countess")).json()

    offer = offered["preset_offer"]
    assert offer["preset"] == "open_networker"
    assert "nothing changes until you do" in offer["description"]
    assert offer["policy_version"] == policy_before["version"]
    assert same_again["preset_offer"] is None and other_change["preset_offer"] is None
    assert (await client.get("/v1/me/policy", headers=me.headers)).json() == policy_before
    assert (await client.get("/v1/me", headers=me.headers)).json()["preset_offer"] is None

    applied = await client.put(
        "/v1/me/policy",
        json=offer["policy"],
        headers={**me.headers, "If-Match": f'"{offer["policy_version"]}"'},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["preset"] == "open_networker"
    # Back to the stance of the preset already in use: nothing to offer.
    back = (await _patch(client, me.headers, networking_stance="closed")).json()
    assert back["preset_offer"]["preset"] == "coffee_meal_beer"
    reopened = (await _patch(client, me.headers, networking_stance="open")).json()
    assert reopened["preset_offer"] is None
