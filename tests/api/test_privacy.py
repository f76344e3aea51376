"""Privacy through the public API (docs/privacy.md): nothing a member hides can be learned
by any read. Each test calls the same endpoints with and without what the rule hides
from the viewer and compares the answers, with the real graph service behind the API."""

import itertools
import random
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import SteppingClock, project_outbox
from tests.factories import SignedIn, connect, invite, sign_in_all
from tests.graph import reference

pytestmark = pytest.mark.usefixtures("api_graph", "clock")

Answer = tuple[int, Any]


async def _get(client: httpx.AsyncClient, url: str, viewer: SignedIn) -> Answer:
    response = await client.get(url, headers=viewer.headers)
    body = response.json() if response.content else None
    if response.status_code >= 400 and isinstance(body, dict):
        body.pop("request_id", None)
        body.pop("instance", None)
    return response.status_code, body


async def _snapshot(
    client: httpx.AsyncClient, viewer: SignedIn, members: list[SignedIn]
) -> dict[str, Answer]:
    """Every read that returns member data, as the viewer."""
    # Every member is named "Member <i>", so one search finds them all.
    urls = ["/v1/connections?limit=100", "/v1/me/network/health", "/v1/members?q=Member&limit=50"]
    for member in members:
        if member.member_id == viewer.member_id:
            continue
        about = f"/v1/members/{member.member_id}"
        urls += [
            about,
            f"{about}/connections?limit=100",
            f"{about}/paths?limit=100",
            f"{about}/mutuals",
            f"{about}/degree",
            f"{about}/card",
            f"{about}/recommendations",
        ]
    answers = {url: await _get(client, url, viewer) for url in urls}
    # Page by page too: a cursor must tell no more than the pages it follows.
    for member in members:
        if member.member_id != viewer.member_id:
            for listing in ("mutuals", "paths"):
                url = f"/v1/members/{member.member_id}/{listing}?limit=1"
                answers[url + "&all"] = await _pages(client, url, viewer)
    return answers


async def _pages(client: httpx.AsyncClient, url: str, viewer: SignedIn) -> Answer:
    """Every page of a list, one row a page, following ``next_cursor``."""
    pages = [await _get(client, url, viewer)]
    while pages[-1][0] == 200 and pages[-1][1]["next_cursor"] is not None:
        cursor = pages[-1][1]["next_cursor"]
        pages.append(await _get(client, f"{url}&cursor={cursor}", viewer))
    return 200, pages


async def _settings(client: httpx.AsyncClient, member: SignedIn, **chosen: object) -> None:
    response = await client.patch("/v1/me", json=chosen, headers=member.headers)
    assert response.status_code == 200, response.text


async def _disconnect(client: httpx.AsyncClient, a: SignedIn, b: SignedIn) -> None:
    response = await client.delete(f"/v1/connections/{b.member_id}", headers=a.headers)
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("seed_value", range(6))
async def test_no_endpoint_answers_differently_for_links_the_viewer_may_not_learn(
    client: httpx.AsyncClient,
    db_session: AsyncSession,
    api_graph: httpx.AsyncClient,
    seed_value: int,
) -> None:
    rng = random.Random(seed_value)
    members = await sign_in_all(client, *(f"Member {i}" for i in range(7)))
    ids = [str(member.member_id) for member in members]
    network = reference.Network()
    for i, member in enumerate(members):
        visible, allows, reach = reference.SETTINGS[(seed_value * 7 + i) % 18]
        await _settings(
            client,
            member,
            connections_visible_to=visible,
            allows_introductions=allows,
            reachable_by=reach,
        )
        network.visible[ids[i]], network.allows[ids[i]] = visible, allows
        network.reach[ids[i]] = reach
    pairs = rng.sample(list(itertools.combinations(range(7), 2)), 11)
    for a, b in pairs:
        a_rates, b_rates = rng.randint(1, 10), rng.randint(1, 10)
        await connect(client, members[a], members[b], a_rates, b_rates)
        network.add(reference.Link(ids[a], ids[b], a_rates, b_rates, "coffee", reference.AT))
    await project_outbox(db_session, api_graph)

    viewers = [i for i in rng.sample(range(7), 7) if reference.hidden_from(network, ids[i])]
    assert viewers  # not vacuous
    viewer = members[viewers[0]]
    hidden = reference.hidden_from(network, ids[viewers[0]])
    before = await _snapshot(client, viewer, members)
    for a, b in pairs:
        if frozenset((ids[a], ids[b])) in hidden:
            await _disconnect(client, members[a], members[b])
    await project_outbox(db_session, api_graph)

    assert await _snapshot(client, viewer, members) == before


async def _paths(client: httpx.AsyncClient, viewer: SignedIn, target: SignedIn) -> Any:
    response = await client.get(
        f"/v1/members/{target.member_id}/paths?limit=100", headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_my_paths_do_not_move_when_an_intermediary_re_rates_me(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, x, y, target = await sign_in_all(client, "Me", "X", "Y", "Target")
    await connect(client, me, x, 8, 9)
    await connect(client, x, target, 6, 6)
    await connect(client, me, y, 4, 4)
    await connect(client, y, target, 8, 8)
    await project_outbox(db_session, api_graph)
    before = await _paths(client, me, target)

    response = await client.patch(
        f"/v1/connections/{me.member_id}", json={"rating": 2}, headers=x.headers
    )
    assert response.status_code == 200, response.text
    await project_outbox(db_session, api_graph)

    assert await _paths(client, me, target) == before
    assert all("score" not in path for path in before["items"])
    assert [link["band"] for link in before["items"][0]["links"]] == ["strong", "good"]


async def test_a_hidden_member_s_connections_show_through_no_degree_mutuals_or_paths(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    hider, asker, *friends = await sign_in_all(client, "Hider", "Asker", "F1", "F2", "F3", "F4")
    await _settings(client, hider, connections_visible_to="only_me", allows_introductions=False)
    await connect(client, asker, hider)
    for friend in friends:
        await connect(client, friend, hider)
    await project_outbox(db_session, api_graph)

    async def answers() -> list[Answer]:
        found = []
        for friend in friends:
            about = f"/v1/members/{friend.member_id}"
            for url in (f"{about}/degree", f"{about}/mutuals", f"{about}/paths"):
                found.append(await _get(client, url, asker))
        return found

    before = await answers()
    assert before == [
        (200, {"degree": None}),
        (200, {"items": [], "next_cursor": None}),
        (200, {"degree": None, "items": [], "next_cursor": None}),
    ] * len(friends)
    for friend in friends:
        await _disconnect(client, friend, hider)
    await project_outbox(db_session, api_graph)
    assert await answers() == before


async def _mutual_names(client: httpx.AsyncClient, viewer: SignedIn, other: SignedIn) -> Any:
    status, body = await _get(client, f"/v1/members/{other.member_id}/mutuals", viewer)
    assert status == 200
    return [mutual["name"] for mutual in body["items"]]


async def test_mutuals_show_only_members_who_consent(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    viewer, f1, f3, target = await sign_in_all(client, "Viewer", "F1", "F3", "Target")
    for mutual in (f1, f3):
        await connect(client, viewer, mutual)
        await connect(client, mutual, target)
    await _settings(client, f3, connections_visible_to="only_me", allows_introductions=False)
    await _settings(client, target, connections_visible_to="only_me")
    await project_outbox(db_session, api_graph)
    assert await _mutual_names(client, viewer, target) == []

    await _settings(client, target, connections_visible_to="everyone")
    await project_outbox(db_session, api_graph)
    consenting = await _mutual_names(client, viewer, target)
    assert consenting == ["F1"]

    await _disconnect(client, f3, target)
    await project_outbox(db_session, api_graph)
    assert await _mutual_names(client, viewer, target) == consenting


async def test_only_me_members_are_never_intermediaries(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, hidden, open_, target = await sign_in_all(client, "Me", "Hidden", "Open", "Target")
    await connect(client, me, hidden, 9, 9)
    await connect(client, hidden, target, 9, 9)
    await connect(client, me, open_, 4, 4)
    await connect(client, open_, target, 4, 4)
    await _settings(client, hidden, connections_visible_to="only_me")
    await project_outbox(db_session, api_graph)
    body = await _paths(client, me, target)
    assert [[i["name"] for i in path["intermediaries"]] for path in body["items"]] == [["Open"]]

    await _disconnect(client, hidden, target)
    await project_outbox(db_session, api_graph)
    assert await _paths(client, me, target) == body


async def _listed(client: httpx.AsyncClient, owner: SignedIn, viewer: SignedIn) -> list[str]:
    status, body = await _get(client, f"/v1/members/{owner.member_id}/connections", viewer)
    assert status == 200, body
    return [contact["name"] for contact in body["items"]]


async def test_someones_connections_list_leaves_out_members_who_hide_their_links(
    client: httpx.AsyncClient,
) -> None:
    owner, shown, friends_only, hidden, stranger, friend = await sign_in_all(
        client, "Owner", "Shown", "Friends Only", "Hidden", "Stranger", "Friend"
    )
    await _settings(client, owner, connections_visible_to="everyone")
    await _settings(client, shown, connections_visible_to="everyone")
    await _settings(client, hidden, connections_visible_to="only_me")
    for member in (shown, friends_only, hidden):
        await connect(client, owner, member)
    await connect(client, friend, friends_only)

    assert await _listed(client, owner, stranger) == ["Shown"]
    assert await _listed(client, owner, friend) == ["Friends Only", "Shown"]
    assert await _listed(client, owner, friends_only) == ["Friends Only", "Shown"]
    assert await _listed(client, owner, owner) == ["Friends Only", "Hidden", "Shown"]
    status, mine = await _get(client, "/v1/connections", hidden)
    assert status == 200 and [c["name"] for c in mine["items"]] == ["Owner"]


async def _open_networker(client: httpx.AsyncClient, member: SignedIn) -> None:
    presets = (await client.get("/v1/policy-presets", headers=member.headers)).json()
    policy = next(p for p in presets if p["name"] == "open_networker")["policy"]
    for rule in policy["rules"]:
        rule["automatic"] = True
    policy["otherwise_automatic"] = True
    response = await client.put(
        "/v1/me/policy", json=policy, headers={**member.headers, "If-Match": '"0"'}
    )
    assert response.status_code == 200, response.text


def _as_the_sender_sees_it(body: dict[str, Any]) -> dict[str, Any]:
    unique = {"invitation_id", "invitee", "created_at", "closed_at"}
    return {key: value for key, value in body.items() if key not in unique}


async def test_a_referral_claim_looks_the_same_to_the_sender_whether_or_not_the_referrer_knows_the_invitee(  # noqa: E501
    client: httpx.AsyncClient, clock: SteppingClock
) -> None:
    sender, referrer, known, unknown = await sign_in_all(
        client, "Sender", "Referrer", "Known", "Unknown"
    )
    await connect(client, sender, referrer)
    await connect(client, referrer, known)
    seen = []
    for invitee in (known, unknown):
        await _open_networker(client, invitee)
        sent = await invite(client, sender, invitee, referred_by_member_id=str(referrer.member_id))
        assert sent.status_code == 201, sent.text
        read = await client.get(
            f"/v1/invitations/{sent.json()['invitation_id']}", headers=sender.headers
        )
        seen.append((_as_the_sender_sees_it(sent.json()), _as_the_sender_sees_it(read.json())))

    assert seen[0] == seen[1]
    assert seen[0][0]["status"] == "accepted" and seen[0][1]["later_until"] is None


async def test_a_member_reachable_by_nobody_is_only_a_direct_link_away(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    me, friend, target = await sign_in_all(client, "Me", "Friend", "Target")
    await connect(client, me, friend)
    await connect(client, friend, target)
    await _settings(client, target, reachable_by="nobody")
    await project_outbox(db_session, api_graph)

    assert await _get(client, f"/v1/members/{target.member_id}/degree", me) == (
        200,
        {"degree": None},
    )
    assert await _get(client, f"/v1/members/{target.member_id}/degree", friend) == (
        200,
        {"degree": 1},
    )
    me_out = (await client.get("/v1/me", headers=target.headers)).json()
    assert me_out["reachable_by"] == "nobody"


async def test_a_targets_new_setting_holds_before_the_graph_has_seen_it(
    client: httpx.AsyncClient, db_session: AsyncSession, api_graph: httpx.AsyncClient
) -> None:
    """The API rechecks the target against PostgreSQL: a setting changed a moment ago
    holds even while the graph has not seen it yet."""
    me, friend, target = await sign_in_all(client, "Me", "Friend", "Target")
    await connect(client, me, friend)
    await connect(client, friend, target)
    await project_outbox(db_session, api_graph)
    await _settings(client, target, reachable_by="nobody")  # not projected

    about = f"/v1/members/{target.member_id}"
    assert await _get(client, f"{about}/degree", me) == (200, {"degree": None})
    assert await _get(client, f"{about}/mutuals", me) == (200, {"items": [], "next_cursor": None})
    assert await _get(client, f"{about}/paths", me) == (
        200,
        {"degree": None, "items": [], "next_cursor": None},
    )
