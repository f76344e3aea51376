"""Applies outbox events to the graph. Idempotent and order-safe: replaying an event, or
receiving events out of order, changes nothing that the events in sequence order would
not, because every write is guarded by the events' outbox sequences."""

from collections.abc import Awaitable, Callable

from neo4j import AsyncManagedTransaction
from pydantic import BaseModel

from rapport_common.events import (
    GRAPH_EVENT_TYPES,
    ConnectionCreatedV1,
    ConnectionRatedV1,
    ConnectionRemovedV1,
    EventEnvelope,
    InteractionLoggedV1,
    MemberDeletedV1,
    MemberRegisteredV1,
    MemberUpdatedV1,
    parse_payload,
)
from rapport_common.settings import get_settings
from rapport_common.strength import as_utc, rank_parameters
from rapport_common.web.problems import Problem
from services.graph import queries
from services.graph.database import Graph
from services.graph.projection.pair_state import (
    Creation,
    Interaction,
    PairState,
    Rating,
    ordered,
    pair_key,
)

Projector = Callable[[Graph, EventEnvelope, BaseModel], Awaitable[None]]
Transition = Callable[[PairState, str], PairState]


class SelfConnection(Problem):
    status, slug, title = 422, "self-connection", "A member cannot be connected to themselves"


async def _upsert_member(graph: Graph, envelope: EventEnvelope, payload: BaseModel) -> None:
    """Idempotent: guarded by the member's last applied member-event sequence."""
    assert isinstance(payload, MemberRegisteredV1 | MemberUpdatedV1)
    await graph.write(
        queries.UPSERT_MEMBER,
        member_id=str(payload.member_id),
        name=payload.name,
        is_recruiter=payload.is_recruiter,
        allows_introductions=payload.allows_introductions,
        connections_visible_to=payload.connections_visible_to,
        reachable_by=payload.reachable_by,
        sequence=envelope.sequence,
    )


async def _delete_member(graph: Graph, envelope: EventEnvelope, payload: BaseModel) -> None:
    """Idempotent: removes the member, their relationships and their pairs' tombstones;
    a second run finds nothing. Not guarded by sequence: no event naming the member can
    come after it, since the deletion removes every such event from the outbox in its
    transaction and the notifier skips an event whose member is gone
    (``services/notifier/erasure/guard.py``)."""
    assert isinstance(payload, MemberDeletedV1)
    await graph.write(queries.DELETE_MEMBER, member_id=str(payload.member_id))


async def _update_pair(graph: Graph, member_id: str, other_id: str, change: Transition) -> None:
    """Merge one event into the pair's stored state, in one transaction holding both
    members' locks. Idempotent: ``change`` is a commutative merge (see pair_state), and
    nothing is written when the state does not change."""
    if member_id == other_id:
        raise SelfConnection(f"Member {member_id} appears on both sides of the event.")
    low_id, high_id = ordered(member_id, other_id)
    key = pair_key(low_id, high_id)

    async def work(tx: AsyncManagedTransaction) -> None:
        result = await tx.run(
            queries.LOCK_AND_READ_PAIR, low_id=low_id, high_id=high_id, pair_key=key
        )
        stored = await result.single(strict=True)
        before = PairState.from_stored(stored["knows"], stored["tombstone"])
        after = change(before, low_id)
        if after == before:
            return
        knows, tombstone = after.to_stored(low_id, high_id)
        ids = {"low_id": low_id, "high_id": high_id}
        if knows is not None:
            # The rank key is of the model this process searches with (the same settings).
            rank = rank_parameters(get_settings().strength)
            await (await tx.run(queries.SAVE_KNOWS, ids, properties=knows, **rank)).consume()
        elif stored["knows"] is not None:
            await (await tx.run(queries.DELETE_KNOWS, ids)).consume()
        if tombstone is not None:
            await (
                await tx.run(queries.SAVE_TOMBSTONE, pair_key=key, properties=tombstone)
            ).consume()
        elif stored["tombstone"] is not None:
            await (await tx.run(queries.DELETE_TOMBSTONE, pair_key=key)).consume()

    await graph.write_transaction(work)


async def _connection_created(graph: Graph, envelope: EventEnvelope, payload: BaseModel) -> None:
    """Idempotent: the newest creation by sequence wins; an older one than the pair's
    last removal is ignored (the tombstone remembers the removal)."""
    assert isinstance(payload, ConnectionCreatedV1)
    inviter, invitee = str(payload.inviter_id), str(payload.invitee_id)
    creation = Creation(envelope.sequence, payload.how_we_met, as_utc(payload.connected_at))

    def change(state: PairState, low_id: str) -> PairState:
        if inviter == low_id:
            return state.created(creation, payload.inviter_rating, payload.invitee_rating)
        return state.created(creation, payload.invitee_rating, payload.inviter_rating)

    await _update_pair(graph, inviter, invitee, change)


async def _connection_rated(graph: Graph, envelope: EventEnvelope, payload: BaseModel) -> None:
    """Idempotent: each side's newest rating by sequence wins."""
    assert isinstance(payload, ConnectionRatedV1)
    rater = str(payload.rater_id)
    rating = Rating(payload.rating, envelope.sequence)

    def change(state: PairState, low_id: str) -> PairState:
        return state.rated("low" if rater == low_id else "high", rating)

    await _update_pair(graph, rater, str(payload.ratee_id), change)


async def _connection_removed(graph: Graph, envelope: EventEnvelope, payload: BaseModel) -> None:
    """Idempotent: removes the connection unless a newer creation exists, and keeps a
    tombstone with the removal's sequence so a replayed creation cannot undo it."""
    assert isinstance(payload, ConnectionRemovedV1)
    sequence = envelope.sequence
    await _update_pair(
        graph,
        str(payload.member_id),
        str(payload.other_member_id),
        lambda state, _: state.removed(sequence),
    )


async def _interaction_logged(graph: Graph, envelope: EventEnvelope, payload: BaseModel) -> None:
    """Idempotent: the last interaction only moves forward in time."""
    assert isinstance(payload, InteractionLoggedV1)
    interaction = Interaction(as_utc(payload.occurred_at), envelope.sequence)
    await _update_pair(
        graph,
        str(payload.member_id),
        str(payload.other_member_id),
        lambda state, _: state.interacted(interaction),
    )


# One projector for each of GRAPH_EVENT_TYPES (tests/test_shared_definitions.py checks it).
PROJECTORS: dict[str, Projector] = {
    "member.registered": _upsert_member,
    "member.updated": _upsert_member,
    "member.deleted": _delete_member,
    "connection.created": _connection_created,
    "connection.rated": _connection_rated,
    "connection.removed": _connection_removed,
    "interaction.logged": _interaction_logged,
}


async def apply_event(graph: Graph, envelope: EventEnvelope) -> bool:
    """Apply one event; return False when the graph does not care about its type."""
    if envelope.type not in GRAPH_EVENT_TYPES:
        return False
    await PROJECTORS[envelope.type](graph, envelope, parse_payload(envelope))
    return True
