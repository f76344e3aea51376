"""Mutuals, paths and network health page as every list does: `limit` (20 by default, 5
for paths, at most 100), `cursor` and `next_cursor`; page after page gives the whole
list once, in order, and a cursor we did not issue is a 400."""

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import SteppingClock, project_outbox
from tests.factories import SignedIn, connect, sign_in_all

pytestmark = pytest.mark.usefixtures("api_graph")


async def _pages(client: httpx.AsyncClient, url: str, me: SignedIn) -> list[dict[str, Any]]:
    pages = [(await client.get(url, headers=me.headers)).json()]
    while pages[-1]["next_cursor"] is not None:
        response = await client.get(f"{url}&cursor={pages[-1]['next_cursor']}", headers=me.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
    return pages


async def _fan(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> tuple[SignedIn, SignedIn]:
    """Five mutuals between me and the target, who know the target from well to barely."""
    me, target, *mutuals = await sign_in_all(client, "Me", "Target", "A", "B", "C", "D", "E")
    for mutual, rating in zip(mutuals, (9, 6, 3, 9, 6), strict=True):
        await connect(client, me, mutual, 8, 8)
        await connect(client, mutual, target, rating, rating)
    await project_outbox(db_session, api_graph)
    return me, target


async def test_mutuals_and_paths_page_by_page_give_the_whole_list_in_order(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, target = await _fan(client, db_session, api_graph)
    about = f"/v1/members/{target.member_id}"
    for listing in ("mutuals", "paths"):
        whole = (await client.get(f"{about}/{listing}?limit=100", headers=me.headers)).json()
        pages = await _pages(client, f"{about}/{listing}?limit=2", me)
        assert len(whole["items"]) == 5 and whole["next_cursor"] is None
        assert [len(page["items"]) for page in pages] == [2, 2, 1]
        assert [item for page in pages for item in page["items"]] == whole["items"]
    default = (await client.get(f"{about}/paths", headers=me.headers)).json()
    assert len(default["items"]) == 5 and default["degree"] == 2


async def test_network_health_pages_its_two_lists(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    api_graph: httpx.AsyncClient,
    clock: SteppingClock,
) -> None:
    me, *others = await sign_in_all(client, "Me", "A", "B", "C")
    for other, rating in zip(others, (9, 8, 2), strict=True):
        await connect(client, me, other, rating, rating)
    await project_outbox(db_session, api_graph)
    clock.advance(days=365)
    health = (await client.get("/v1/me/network/health?limit=1", headers=me.headers)).json()
    assert health["total"] == 3 and len(health["fading"]["items"]) == 1
    fading = await _pages(client, "/v1/me/network/health/fading?limit=1", me)
    assert fading[0] == health["fading"]
    assert len(fading) == 2  # 9 and 8 faded; 2 cannot fade 2 below itself
    weed = await _pages(client, "/v1/me/network/health/weed-out?limit=1", me)
    assert [page["items"][0]["name"] for page in weed] == ["C"]


def _cursor(key: str, row_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([key, row_id]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("listing", "key"),
    [
        ("mutuals", "superstrong"),
        ("paths", "strong"),  # one link is no path
        ("paths", "strong,good,weak,weak"),
        ("paths", "strong,\x00"),
    ],
)
async def test_a_cursor_we_did_not_issue_is_a_400(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    api_graph: httpx.AsyncClient,
    listing: str,
    key: str,
) -> None:
    me, target = await _fan(client, db_session, api_graph)
    cursor = _cursor(key, str(target.member_id))
    response = await client.get(
        f"/v1/members/{target.member_id}/{listing}", params={"cursor": cursor}, headers=me.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("invalid-cursor")


@pytest.mark.parametrize(
    ("listing", "key"), [("fading", "nan/9"), ("fading", "7.5"), ("weed-out", "two/3.0")]
)
async def test_a_health_cursor_we_did_not_issue_is_a_400(
    client: httpx.AsyncClient, listing: str, key: str
) -> None:
    (me,) = await sign_in_all(client, "Me")
    cursor = _cursor(key, str(me.member_id))
    response = await client.get(
        f"/v1/me/network/health/{listing}", params={"cursor": cursor}, headers=me.headers
    )
    assert response.status_code == 400, response.text
