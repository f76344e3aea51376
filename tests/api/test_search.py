"""Member search, GET /v1/members?q= (docs/search.md): what it matches, how it ranks, whom
it never shows, and its daily limit."""

import random
import string
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.clock import SteppingClock
from rapport_common.models.blocks import Block
from rapport_common.settings import SearchSettings, Settings
from services.api.members import search
from services.api.members.repository import MemberSearchRepository
from tests.factories import SignedIn, connect, sign_in, sign_in_all


def _word(rng: random.Random | None = None) -> str:
    """A made-up word no other test's member carries."""
    pick = (rng or random.SystemRandom()).choice
    return "".join(pick(string.ascii_lowercase) for _ in range(9)).capitalize()


async def _search(client: httpx.AsyncClient, viewer: SignedIn, q: str, **params: Any) -> Any:
    response = await client.get("/v1/members", params={"q": q, **params}, headers=viewer.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _found(client: httpx.AsyncClient, viewer: SignedIn, q: str) -> list[str]:
    return [hit["member_id"] for hit in (await _search(client, viewer, q, limit=50))["items"]]


async def _patch(client: httpx.AsyncClient, member: SignedIn, **changes: object) -> None:
    response = await client.patch("/v1/me", json=changes, headers=member.headers)
    assert response.status_code == 200, response.text


async def test_search_finds_by_name_prefix_typo_company_and_market_area(
    client: httpx.AsyncClient,
) -> None:
    surname, company, area = _word(), _word(), _word()
    viewer = await sign_in(client, "Viewer")
    grace = await sign_in(client, f"Grace {surname}", market_area=f"{area} fintech")
    await _patch(client, grace, company=f"{company} Labs", title="CTO")
    typo = surname[:4] + ("x" if surname[4] != "x" else "y") + surname[5:]
    me = str(grace.member_id)

    for q in (f"Grace {surname}", surname[:4], f"grace {typo}", company, area.lower()):
        assert await _found(client, viewer, q) == [me], q
    hit = (await _search(client, viewer, surname))["items"][0]
    assert hit == {
        "member_id": me,
        "name": f"Grace {surname}",
        "headline": None,
        "company": f"{company} Labs",
        "title": "CTO",
        "market_area": f"{area} fintech",
        "degree": None,
    }


async def test_search_ranks_equal_matches_by_closeness_1_2_3_then_strangers(
    client: httpx.AsyncClient,
) -> None:
    surname = _word()
    viewer, via, far_via = await sign_in_all(client, "Viewer", "Via", "Far via")
    first, second, third, stranger = [await sign_in(client, f"Grace {surname}") for _ in range(4)]
    await connect(client, viewer, first)
    await connect(client, viewer, via)
    await connect(client, via, second)
    await connect(client, via, far_via)
    await connect(client, far_via, third)

    body = await _search(client, viewer, f"Grace {surname}")

    assert [(hit["member_id"], hit["degree"]) for hit in body["items"]] == [
        (str(first.member_id), 1),
        (str(second.member_id), 2),
        (str(third.member_id), 3),
        (str(stranger.member_id), None),
    ]


async def test_search_pages_with_a_cursor_and_refuses_a_forged_one(
    client: httpx.AsyncClient,
) -> None:
    surname = _word()
    viewer = await sign_in(client, "Viewer")
    everyone = {str((await sign_in(client, f"Grace {surname}")).member_id) for _ in range(5)}

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = await _search(client, viewer, surname, **params)
        seen += [hit["member_id"] for hit in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    forged = await client.get(
        "/v1/members", params={"q": surname, "cursor": "bm90IG91cnM"}, headers=viewer.headers
    )

    assert sorted(seen) == sorted(everyone) and len(seen) == 5
    assert forged.status_code == 400
    assert forged.json()["type"].endswith("/invalid-cursor")


async def test_search_never_matches_email_except_an_exact_address_of_a_member_who_allows_it(
    client: httpx.AsyncClient,
) -> None:
    local, domain = _word().lower(), f"{_word().lower()}.example.com"
    viewer = await sign_in(client, "Viewer")
    member = await sign_in(client, "Someone", email=f"{local}@{domain}")
    me = [str(member.member_id)]

    assert await _found(client, viewer, f"{local}@{domain}") == me
    assert await _found(client, viewer, f"{local.upper()}@{domain.upper()}") == me
    for part in (local, domain, local[:5], f"{local}@", f"@{domain}", f"{local}@{domain[:-4]}"):
        assert await _found(client, viewer, part) == [], part
    await _patch(client, member, findable_by_email=False)
    assert await _found(client, viewer, f"{local}@{domain}") == []
    await _patch(client, member, findable_by_email=True, findable_by="nobody")
    assert await _found(client, viewer, f"{local}@{domain}") == []


async def test_findable_by_nobody_and_within_3_degrees_hold(client: httpx.AsyncClient) -> None:
    surname = _word()
    target = await sign_in(client, f"Grace {surname}")
    friend, friend_of_friend, stranger = await sign_in_all(client, "Friend", "FoF", "Stranger")
    await connect(client, target, friend)
    await connect(client, friend, friend_of_friend)
    me = [str(target.member_id)]

    await _patch(client, target, findable_by="within_3_degrees")
    assert await _found(client, friend, surname) == me
    assert await _found(client, friend_of_friend, surname) == me
    assert await _found(client, stranger, surname) == []
    # Within the degree the privacy rule lets the searcher see: none past direct links.
    await _patch(client, target, reachable_by="nobody")
    assert await _found(client, friend, surname) == me
    assert await _found(client, friend_of_friend, surname) == []
    await _patch(client, target, findable_by="nobody", reachable_by="everyone")
    for searcher in (friend, friend_of_friend, stranger):
        assert await _found(client, searcher, surname) == []


async def test_blocked_and_blocking_members_are_not_found(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    surname = _word()
    blocker = await sign_in(client, f"Grace {surname} Blocker")
    blocked = await sign_in(client, f"Grace {surname} Blocked")
    onlooker = await sign_in(client, f"Grace {surname} Onlooker")
    db_session.add(Block(blocker_id=blocker.member_id, blocked_id=blocked.member_id))
    await db_session.flush()

    assert await _found(client, blocked, surname) == [str(onlooker.member_id)]
    assert await _found(client, blocker, surname) == [str(onlooker.member_id)]
    assert sorted(await _found(client, onlooker, surname)) == sorted(
        [str(blocker.member_id), str(blocked.member_id)]
    )


async def test_a_broad_query_ranks_at_most_max_results_of_the_matches_scanned_of_each_kind(
    client: httpx.AsyncClient, api_app: FastAPI, settings: Settings, db_session: AsyncSession
) -> None:
    surname = _word()
    typo = surname[:4] + ("x" if surname[4] != "x" else "y") + surname[5:]
    viewer = await sign_in(client, "Viewer")
    visible = {str((await sign_in(client, f"Grace {surname}")).member_id) for _ in range(5)}
    hidden = await sign_in(client, f"Grace {surname}")
    await _patch(client, hidden, findable_by="nobody")
    blocked = await sign_in(client, f"Grace {surname}")
    db_session.add(Block(blocker_id=viewer.member_id, blocked_id=blocked.member_id))
    await db_session.flush()
    repository = MemberSearchRepository(db_session)

    async def scanning(q: str, scanned: int) -> set[str]:
        hits = await repository.search(viewer.member_id, search.parse(q), 50, None, 500, scanned)
        return {str(hit.member.id) for hit in hits}

    api_app.state.settings = settings.model_copy(update={"search": SearchSettings(max_results=2)})
    walked: list[str] = []
    cursor: str | None = None
    while True:
        body = await _search(
            client, viewer, surname, limit=1, **({"cursor": cursor} if cursor else {})
        )
        walked += [hit["member_id"] for hit in body["items"]]
        if (cursor := body["next_cursor"]) is None:
            break

    # A typo matches by similar name only: one kind, cut at 3 matches the viewer may find
    # (the hidden and the blocked member, filtered first, never use up the cut).
    assert len(similar := await scanning(f"Grace {typo}", 3)) == 3 and similar <= visible
    # Words and similar names are cut apart: together they find more than one cut.
    assert len(both := await scanning(f"Grace {surname}", 3)) >= 3 and both <= visible
    assert await scanning(f"Grace {surname}", 2_500) == visible
    assert len(walked) == 2 and set(walked) <= visible


async def test_search_is_limited_per_day_with_429_and_ratelimit_headers(
    client: httpx.AsyncClient, api_app: FastAPI, settings: Settings, clock: SteppingClock
) -> None:
    api_app.state.settings = settings.model_copy(update={"search": SearchSettings(daily_limit=3)})
    viewer = await sign_in(client, "Viewer")

    answers = [
        await client.get("/v1/members", params={"q": "grace"}, headers=viewer.headers)
        for _ in range(4)
    ]
    clock.advance(days=1)
    next_day = await client.get("/v1/members", params={"q": "grace"}, headers=viewer.headers)

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0", "r=0"]
    assert all(a.headers["RateLimit-Policy"] == '"daily";q=3;w=86400' for a in answers)
    refused = answers[-1]
    assert refused.json()["type"].endswith("/search-limit")
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 86400
    assert refused.headers["RateLimit"] == f'"daily";r=0;t={wait}'
    assert next_day.status_code == 200
    assert next_day.headers["RateLimit"].split(";")[1] == "r=2"


@pytest.mark.parametrize("q", ["a", "x" * 101, "line\nbreak"])
async def test_a_query_too_short_too_long_or_on_several_lines_is_refused(
    client: httpx.AsyncClient, q: str
) -> None:
    viewer = await sign_in(client, "Viewer")
    response = await client.get("/v1/members", params={"q": q}, headers=viewer.headers)
    assert response.status_code == 422


def test_search_is_documented_with_its_errors_and_headers(api_app: FastAPI) -> None:
    operation = api_app.openapi()["paths"]["/v1/members"]["get"]
    responses = operation["responses"]
    assert {"200", "400", "401", "422", "429"} <= responses.keys()
    assert {"RateLimit", "RateLimit-Policy"} <= responses["200"]["headers"].keys()
    assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= responses["429"]["headers"].keys()
