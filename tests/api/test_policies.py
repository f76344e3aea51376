"""Linking policies: presets, optimistic concurrency, evaluation."""

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.invitations import Invitation
from tests.factories import invitation_id, sign_in, sign_in_all

NEVER_AUTOMATIC = {"rules": [], "otherwise": {"type": "later", "days": 5}}


async def test_a_new_member_starts_from_the_coffee_meal_beer_preset(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client)
    response = await client.get("/v1/me/policy", headers=me.headers)
    assert response.status_code == 200
    assert response.headers["etag"] == '"0"'
    body = response.json()
    assert body["preset"] == "coffee_meal_beer"
    assert body["otherwise"]["type"] == "decline"


async def test_put_without_if_match_is_428(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    response = await client.put("/v1/me/policy", json=NEVER_AUTOMATIC, headers=me.headers)
    assert response.status_code == 428
    assert response.headers["content-type"] == "application/problem+json"


async def test_put_with_a_stale_etag_is_412(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    first = await client.put(
        "/v1/me/policy", json=NEVER_AUTOMATIC, headers={**me.headers, "If-Match": '"0"'}
    )
    assert first.status_code == 200 and first.headers["etag"] == '"1"'
    stale = await client.put(
        "/v1/me/policy", json=NEVER_AUTOMATIC, headers={**me.headers, "If-Match": '"0"'}
    )
    assert stale.status_code == 412


async def test_put_stores_the_policy_and_names_a_matching_preset(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    presets = (await client.get("/v1/policy-presets", headers=me.headers)).json()
    open_networker = next(p for p in presets if p["name"] == "open_networker")["policy"]
    await client.put(
        "/v1/me/policy", json=open_networker, headers={**me.headers, "If-Match": '"0"'}
    )
    stored = (await client.get("/v1/me/policy", headers=me.headers)).json()
    assert stored["preset"] == "open_networker" and stored["version"] == 1


async def test_template_with_an_unknown_placeholder_is_rejected(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    policy = {"rules": [], "otherwise": {"type": "decline", "note_template": "Hi {email}"}}
    response = await client.put(
        "/v1/me/policy", json=policy, headers={**me.headers, "If-Match": '"0"'}
    )
    assert response.status_code == 422
    assert "unknown placeholders" in response.json()["detail"]


async def test_evaluate_is_a_dry_run_with_reasons(client: httpx.AsyncClient) -> None:
    me = await sign_in(client)
    recruiter = await client.post(
        "/v1/me/policy/evaluate",
        json={"how_we_met": "never_met", "inviter_is_recruiter": True},
        headers=me.headers,
    )
    assert recruiter.json()["action"]["type"] == "accept"
    assert recruiter.json()["rule"] == "Recruiters"
    assert "the inviter is a recruiter" in recruiter.json()["reasons"]
    stranger = await client.post(
        "/v1/me/policy/evaluate", json={"how_we_met": "never_met"}, headers=me.headers
    )
    assert stranger.json()["action"]["type"] == "decline"
    assert (stranger.json()["rule"], stranger.json()["matched"]) == ("otherwise", False)


async def test_mutual_connection_rule_counts_only_strong_enough_mutuals(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_in(client)
    presets = (await client.get("/v1/policy-presets", headers=me.headers)).json()
    semi_open = next(p for p in presets if p["name"] == "semi_open")["policy"]
    await client.put("/v1/me/policy", json=semi_open, headers={**me.headers, "If-Match": '"0"'})

    async def suggestion(strengths: list[float]) -> str:
        response = await client.post(
            "/v1/me/policy/evaluate",
            json={"how_we_met": "never_met", "mutual_strengths": strengths},
            headers=me.headers,
        )
        return str(response.json()["action"]["type"])

    assert await suggestion([0.9, 0.6, 0.5]) == "accept"
    assert await suggestion([0.9, 0.6, 0.4]) == "later"


async def test_a_fallback_suggestion_says_otherwise(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    me, inviter = await sign_in_all(client, "Me", "Ivo")
    named_otherwise = {
        "rules": [
            {
                "name": "otherwise",
                "when": {"how_we_met_in": ["coffee"]},
                "then": {"type": "later", "days": 3},
            }
        ],
        "otherwise": {"type": "later", "days": 5},
    }
    await client.put(
        "/v1/me/policy", json=named_otherwise, headers={**me.headers, "If-Match": '"0"'}
    )

    async def suggested(how_we_met: str) -> dict[str, Any]:
        answer = await client.post(
            "/v1/me/policy/evaluate", json={"how_we_met": how_we_met}, headers=me.headers
        )
        body: dict[str, Any] = answer.json()
        return {key: body[key] for key in ("rule", "matched")}

    assert await suggested("never_met") == {"rule": "otherwise", "matched": False}
    assert await suggested("coffee") == {"rule": "otherwise", "matched": True}

    # A suggestion stored before ``matched`` existed wrote the fallback as a null rule.
    invitation = await invitation_id(client, inviter, me, how_we_met="never_met")
    stored = await db_session.get(Invitation, uuid.UUID(invitation))
    assert stored is not None and stored.suggestion is not None
    legacy = {k: v for k, v in stored.suggestion.items() if k != "matched"}
    stored.suggestion = legacy | {"rule": None}
    await db_session.flush()
    view = (await client.get(f"/v1/invitations/{invitation}", headers=me.headers)).json()
    assert (view["suggestion"]["rule"], view["suggestion"]["matched"]) == ("otherwise", False)
