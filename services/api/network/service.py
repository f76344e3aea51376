"""Reads of the connection graph, joined with names from the system of record.

The graph service answers with member ids and numbers; this layer decides what a
member may see: bands, never another member's raw rating or link strength."""

import uuid
from datetime import datetime
from typing import Any

from rapport_common.models.members import Member
from rapport_common.repositories.members import MemberRepository
from rapport_common.strength import band
from services.api.graph_client import GraphClient
from services.api.network.schemas import (
    LinkOut,
    MutualOut,
    MutualsOut,
    NetworkHealthOut,
    PathOut,
    PathsOut,
    RatedContactOut,
    WeedOutCandidate,
)
from services.api.schemas import ContactOut


async def paths(
    graph: GraphClient,
    members: MemberRepository,
    me: Member,
    target: Member,
    limit: int,
    now: datetime,
) -> PathsOut:
    body = await graph.paths(me.id, target.id, limit, now)
    ids = {uuid.UUID(i) for path in body["paths"] for i in path["intermediaries"]}
    known = await members.get_many(ids)
    found: list[PathOut] = []
    for path in body["paths"]:
        intermediaries = [uuid.UUID(i) for i in path["intermediaries"]]
        if any(i not in known for i in intermediaries):
            continue  # deleted meanwhile; the graph catches up through the outbox
        found.append(
            PathOut(
                intermediaries=[ContactOut.from_member(known[i]) for i in intermediaries],
                hops=path["hops"],
                score=round(path["score"], 4),
                links=[
                    LinkOut(
                        from_member_id=link["from"],
                        to_member_id=link["to"],
                        band=band(link["strength"]),
                    )
                    for link in path["links"]
                ],
            )
        )
    return PathsOut(degree=body["degree"], paths=found)


async def mutuals(
    graph: GraphClient, members: MemberRepository, me: Member, target: Member, now: datetime
) -> MutualsOut:
    rows = await graph.mutuals(me.id, target.id, now)
    known = await members.get_many({uuid.UUID(row["member_id"]) for row in rows})
    return MutualsOut(
        mutuals=[
            MutualOut.from_member(
                known[uuid.UUID(row["member_id"])],
                band_with_them=band(row["strength_with_other"]),
            )
            for row in rows
            if uuid.UUID(row["member_id"]) in known
        ]
    )


async def health(
    graph: GraphClient, members: MemberRepository, me: Member, now: datetime
) -> NetworkHealthOut:
    body: dict[str, Any] = await graph.health(me.id, now)
    listed = body["fading"] + body["weed_out"]
    known = await members.get_many({uuid.UUID(row["member_id"]) for row in listed})

    return NetworkHealthOut(
        total=body["total"],
        effective_rating_histogram=body["effective_rating_histogram"],
        fading=[
            RatedContactOut.from_member(
                known[uuid.UUID(r["member_id"])],
                my_rating=r["my_rating"],
                my_effective_rating=round(r["my_effective_rating"], 3),
            )
            for r in body["fading"]
            if uuid.UUID(r["member_id"]) in known
        ],
        weed_out=[
            WeedOutCandidate.from_member(
                known[uuid.UUID(r["member_id"])],
                my_rating=r["my_rating"],
                days_since_interaction=round(r["days_since_interaction"], 1),
            )
            for r in body["weed_out"]
            if uuid.UUID(r["member_id"]) in known
        ],
        by_how_we_met=body["by_how_we_met"],
    )
