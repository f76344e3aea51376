"""Reads of the connection graph, joined with names from the system of record.

The graph service applies the privacy rule (docs/privacy.md) to the settings projected
into it and answers with member ids and bands; this layer rechecks the target's and the
intermediaries' settings against PostgreSQL, which may be a few events ahead."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from rapport_common.domain import privacy
from rapport_common.domain.privacy import Consent
from rapport_common.models.members import Member
from rapport_common.repositories.blocks import BlockRepository
from rapport_common.repositories.erasure import ErasureRepository
from rapport_common.repositories.members import MemberRepository
from services.api.graph_client import GraphClient
from services.api.network import ordering
from services.api.network.ordering import FadingKey, PathKey, WeedOutKey
from services.api.network.schemas import (
    DegreeOut,
    LinkOut,
    MutualOut,
    NetworkHealthOut,
    PathOut,
    PathPage,
    RatedContactOut,
    WeedOutCandidate,
)
from services.api.pagination import Page, ranked
from services.api.schemas import ContactOut

Item = TypeVar("Item")
Key = TypeVar("Key", bound=tuple[Any, ...])


def _within_reach(degree: int | None, target: Member) -> int | None:
    """The graph's degree, unless the target's setting (PostgreSQL, which may be ahead of
    the graph) no longer lets a way that long be seen."""
    if degree is None or degree > privacy.max_hops_to(Consent.of(target)):
        return None
    return degree


# The most paths the graph returns; enough to find a way left when one through a
# deleted account is dropped, and the end of the paths' pages.
RECHECK_PATHS = 100


def _hops_left(body: dict[str, Any], known: dict[uuid.UUID, Member]) -> int | None:
    """The fewest hops of the graph's paths whose every intermediary still exists."""
    hops = [
        path["hops"]
        for path in body["paths"]
        if all(uuid.UUID(i) in known for i in path["intermediaries"])
    ]
    return min(hops) if hops else None


async def _deletions_pending(members: MemberRepository) -> bool:
    """Whether an account was deleted recently enough that the graph may not have
    removed it yet (it catches up through the outbox)."""
    return await ErasureRepository(members.session).any_unfinished()


async def _visible_paths(
    body: dict[str, Any], members: MemberRepository, blocked: set[uuid.UUID], target: Member
) -> list[PathOut]:
    """The graph's paths that PostgreSQL, which may be ahead of it, still allows; none
    through a member I blocked or who blocked me (``blocked``: blocks stay in
    PostgreSQL)."""
    ids = {uuid.UUID(i) for path in body["paths"] for i in path["intermediaries"]}
    known = await members.get_many(ids)
    reach = privacy.max_hops_to(Consent.of(target))
    found: list[PathOut] = []
    for path in body["paths"]:
        intermediaries = [uuid.UUID(i) for i in path["intermediaries"]]
        if any(i not in known or i in blocked for i in intermediaries):
            continue  # deleted meanwhile (the graph catches up through the outbox), or blocked
        if path["hops"] > reach or not all(
            privacy.may_introduce(Consent.of(known[i])) for i in intermediaries
        ):
            continue  # a setting changed meanwhile; likewise
        found.append(
            PathOut(
                intermediaries=[ContactOut.from_member(known[i]) for i in intermediaries],
                hops=path["hops"],
                links=[
                    LinkOut(from_member_id=link["from"], to_member_id=link["to"], band=link["band"])
                    for link in path["links"]
                ],
            )
        )
    return found


async def paths(
    graph: GraphClient,
    members: MemberRepository,
    me: Member,
    target: Member,
    limit: int,
    after: PathKey | None,
    now: datetime,
) -> PathPage:
    """A page of the best paths (at most ``RECHECK_PATHS`` in all). The graph ranks the
    best N; N grows until the page is full after the ones rechecked away, or the graph
    has no more, so a page is full whenever more paths follow."""
    asked = min(limit + 1 if after is None else 2 * (limit + 1), RECHECK_PATHS)
    # The graph searches while PostgreSQL answers what its paths are checked against:
    # the two reads that need nothing from the graph cost no wait of their own.
    searching = asyncio.ensure_future(graph.paths(me.id, target.id, asked, now))
    try:
        blocked = await BlockRepository(members.session).related_to(me.id)
        deletions_pending = await _deletions_pending(members)
    except BaseException:
        searching.cancel()
        raise
    body = await searching
    while True:
        found = await _visible_paths(body, members, blocked, target)
        page = ranked(found, limit, after, ordering.path_key, ordering.path_cursor)
        if page.next_cursor is not None or len(body["paths"]) < asked or asked == RECHECK_PATHS:
            break
        asked = min(asked * 4, RECHECK_PATHS)
        body = await graph.paths(me.id, target.id, asked, now)
    graph_degree = body["degree"]
    if graph_degree is not None and graph_degree > 1 and deletions_pending:
        known = await members.get_many(
            {uuid.UUID(i) for path in body["paths"] for i in path["intermediaries"]}
        )
        graph_degree = _hops_left(body, known)
    return PathPage(
        items=page.rows, next_cursor=page.next_cursor, degree=_within_reach(graph_degree, target)
    )


async def degree(
    graph: GraphClient, members: MemberRepository, me: Member, target: Member, now: datetime
) -> DegreeOut:
    """The graph's degree; while a deleted account may still be in the graph, the
    fewest hops of the ways that do not go through one (the same as `/paths` shows)."""
    found = await graph.degree(me.id, target.id)
    if found is not None and found > 1 and await _deletions_pending(members):
        body = await graph.paths(me.id, target.id, RECHECK_PATHS, now)
        known = await members.get_many(
            {uuid.UUID(i) for path in body["paths"] for i in path["intermediaries"]}
        )
        found = _hops_left(body, known)
    return DegreeOut(degree=_within_reach(found, target))


async def mutuals(
    graph: GraphClient, members: MemberRepository, me: Member, target: Member, now: datetime
) -> list[MutualOut]:
    """Every mutual I may see, best first (``ordering.mutual_key``)."""
    if privacy.max_hops_to(Consent.of(target)) < 2:
        return []
    rows = await graph.mutuals(me.id, target.id, now)
    known = await members.get_many({uuid.UUID(row["member_id"]) for row in rows})
    blocked = await BlockRepository(members.session).related_to(me.id)
    shown = [
        (known[uuid.UUID(row["member_id"])], row["band_with_other"])
        for row in rows
        if uuid.UUID(row["member_id"]) in known and uuid.UUID(row["member_id"]) not in blocked
    ]
    return [
        MutualOut.from_member(member, band_with_them=band_with_them)
        for member, band_with_them in shown
        if privacy.may_introduce(Consent.of(member))
    ]


async def _health(
    graph: GraphClient, members: MemberRepository, me: Member, now: datetime
) -> tuple[dict[str, Any], list[RatedContactOut], list[WeedOutCandidate]]:
    body: dict[str, Any] = await graph.health(me.id, now)
    listed = body["fading"] + body["weed_out"]
    known = await members.get_many({uuid.UUID(row["member_id"]) for row in listed})
    fading = [
        RatedContactOut.from_member(
            known[uuid.UUID(r["member_id"])],
            my_rating=r["my_rating"],
            my_effective_rating=round(r["my_effective_rating"], 3),
        )
        for r in body["fading"]
        if uuid.UUID(r["member_id"]) in known
    ]
    weed_out = [
        WeedOutCandidate.from_member(
            known[uuid.UUID(r["member_id"])],
            my_rating=r["my_rating"],
            days_since_interaction=round(r["days_since_interaction"], 1),
        )
        for r in body["weed_out"]
        if uuid.UUID(r["member_id"]) in known
    ]
    return body, fading, weed_out


def _page(
    rows: list[Item],
    limit: int,
    after: Key | None,
    key: Callable[[Item], Key],
    cursor_of: Callable[[Item], tuple[str, uuid.UUID]],
) -> Page[Item]:
    found = ranked(rows, limit, after, key, cursor_of)
    return found.page(found.rows)


async def health(
    graph: GraphClient, members: MemberRepository, me: Member, now: datetime, limit: int
) -> NetworkHealthOut:
    """The counts, and the first page of each list."""
    body, fading, weed_out = await _health(graph, members, me, now)
    return NetworkHealthOut(
        total=body["total"],
        effective_rating_histogram=body["effective_rating_histogram"],
        fading=_page(fading, limit, None, ordering.fading_key, ordering.fading_cursor),
        weed_out=_page(weed_out, limit, None, ordering.weed_out_key, ordering.weed_out_cursor),
        by_how_we_met=body["by_how_we_met"],
    )


async def fading(
    graph: GraphClient,
    members: MemberRepository,
    me: Member,
    now: datetime,
    limit: int,
    after: FadingKey | None,
) -> Page[RatedContactOut]:
    _, rows, _ = await _health(graph, members, me, now)
    return _page(rows, limit, after, ordering.fading_key, ordering.fading_cursor)


async def weed_out(
    graph: GraphClient,
    members: MemberRepository,
    me: Member,
    now: datetime,
    limit: int,
    after: WeedOutKey | None,
) -> Page[WeedOutCandidate]:
    _, _, rows = await _health(graph, members, me, now)
    return _page(rows, limit, after, ordering.weed_out_key, ordering.weed_out_cursor)
