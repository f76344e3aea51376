"""Issue 13's "Done when" for deleting an account: a member with a footprint in every
table deletes their account, the real worker and the finisher run, and then every
PostgreSQL column, every Neo4j property and every Redis key and value is scanned for
their id, their email and their name. Also with the graph service down during the
deletion, brought back afterwards."""

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.clock import SteppingClock
from rapport_common.models.members import Member
from rapport_common.settings import Settings
from services.graph.database import Graph
from services.notifier.erasure.jobs import finish_erasures
from services.notifier.queue import JobQueue
from tests.conftest import RunWorker
from tests.factories import PASSWORD, SignedIn, connect, invitation_id, sign_in_all
from tests.webhooks.receiver import Receiver

Sessions = async_sessionmaker[AsyncSession]

NAME = "Zyphrena Quollbright"
GIVEN_NAME = "Zyphie"
# Shown under their decline note (issue 17), so it is in other members' notifications.
HEADLINE = "Vortexine cartographer"
# What the retention table (docs/privacy.md) keeps on purpose: the address another
# member typed to invite the deleted member by email stays on that sender's own record
# (nulling it would tell the sender that the address had an account).
ALLOWED = {("email_invitations", "address", "email")}
TEXT_TYPES = ("text", "character varying", "uuid", "jsonb", "json", "ARRAY")


@dataclass
class Footprint:
    gone: SignedIn
    others: dict[str, SignedIn]

    @property
    def terms(self) -> dict[str, str]:
        return {
            "id": str(self.gone.member_id),
            "email": self.gone.email,
            "name": NAME,
            "surname": NAME.split()[1],
            "given name": GIVEN_NAME,
            "headline": HEADLINE,
        }


async def _post(client: httpx.AsyncClient, path: str, who: SignedIn, **body: Any) -> Any:
    response = await client.post(path, json=body or None, headers=who.headers)
    assert response.status_code in (200, 201, 202, 204), (path, response.text)
    return response.json() if response.content else None


async def _subscribe(client: httpx.AsyncClient, who: SignedIn, receiver: Receiver) -> None:
    types = [
        "invitation.received",
        "invitation.accepted",
        "invitation.declined",
        "connection.created",
        "connection.removed",
        "introduction.requested",
        "introduction.forwarded",
        "introduction.accepted",
        "recommendation.requested",
        "recommendation.approved",
    ]
    url = receiver.url(f"/{who.member_id}")
    await _post(client, "/v1/webhooks/endpoints", who, url=url, event_types=types)


async def _footprint(
    client: httpx.AsyncClient, sessions: Sessions, receiver: Receiver, clock: SteppingClock
) -> Footprint:
    """The deleted member in every table: connections rated both ways, notes both ways,
    an interaction, invitations both ways (one declined with a note that names them),
    introductions through them and asked by them, recommendations written and received,
    notifications, webhooks with deliveries, a block, invitations by email both ways,
    two sessions, a search, an export and a stored idempotent response."""
    email = f"zyphrena.{uuid.uuid4().hex[:8]}@erasure.example"
    registered = await client.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": NAME, "headline": HEADLINE},
        headers={"Idempotency-Key": f"register-{uuid.uuid4().hex}"},
    )
    assert registered.status_code == 201, registered.text
    gone_id = uuid.UUID(registered.json()["member_id"])
    async with sessions() as session:
        await session.execute(
            update(Member)
            .where(Member.id == gone_id)
            .values(given_name=GIVEN_NAME, email_verified_at=clock())
        )
        await session.commit()
    tokens = [
        await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        for _ in range(2)
    ]
    gone = SignedIn(gone_id, email, {"Authorization": f"Bearer {tokens[0].json()['access_token']}"})
    alder, birch, cedar, elm, fern, gorse = await sign_in_all(
        client, "Alder Ash", "Birch Bay", "Cedar Cove", "Elm End", "Fern Fold", "Gorse Glen"
    )
    await _subscribe(client, gone, receiver)
    await _subscribe(client, alder, receiver)

    await connect(client, gone, alder, 9, 8)
    await connect(client, gone, birch, 8, 9)
    await connect(client, alder, cedar, 8, 8)
    await _post(
        client,
        f"/v1/connections/{gone.member_id}/interactions",
        alder,
        kind="coffee",
        occurred_at=clock().isoformat(),
    )
    put = await client.put(
        f"/v1/connections/{alder.member_id}/note",
        json={"note": "Alder knows everyone", "tags": ["mentor"]},
        headers=gone.headers,
    )
    assert put.status_code == 200, put.text
    put = await client.put(
        f"/v1/connections/{gone.member_id}/note",
        json={"note": f"{GIVEN_NAME} is great; write to {email}", "tags": ["zyphie"]},
        headers=alder.headers,
    )
    assert put.status_code == 200, put.text

    # Invitations both ways: one waiting for them, one they declined with a note naming
    # themselves, one they sent.
    await invitation_id(client, cedar, gone)
    declined = await invitation_id(client, elm, gone)
    await _post(
        client,
        f"/v1/invitations/{declined}/decline",
        gone,
        note=f"Sorry, {NAME} only connects after a coffee. Write to {email}.",
    )
    await invitation_id(client, gone, fern)

    # Introductions: through them (alder asks them for birch), and asked by them.
    through = await _post(
        client,
        "/v1/introductions",
        alder,
        intermediary_id=str(gone.member_id),
        target_id=str(birch.member_id),
        note="Please introduce me",
    )
    await _post(
        client, f"/v1/introductions/{through['introduction_id']}/forward", gone, note="Meet!"
    )
    await _post(
        client,
        "/v1/introductions",
        gone,
        intermediary_id=str(alder.member_id),
        target_id=str(cedar.member_id),
        note=f"{GIVEN_NAME} would like to meet Cedar",
    )

    clock.advance(days=91)
    about_gone = f"/v1/members/{gone.member_id}/recommendations"
    written = await _post(client, about_gone, alder, body=f"{NAME} is the best.")
    await _post(client, f"/v1/recommendations/{written['recommendation_id']}/approve", gone)
    wrote = await _post(
        client, f"/v1/members/{alder.member_id}/recommendations", gone, body="Alder is great."
    )
    await _post(client, f"/v1/recommendations/{wrote['recommendation_id']}/approve", alder)

    await _post(client, f"/v1/blocks/{gorse.member_id}", gone)
    await _post(
        client,
        "/v1/invitations",
        gone,
        to_email="someone.new@invited.example",
        note="Join me",
        how_we_met="coffee",
    )
    await _post(
        client, "/v1/invitations", cedar, to_email=email, note="Found you", how_we_met="coffee"
    )
    search = await client.get("/v1/members", params={"q": "Birch"}, headers=gone.headers)
    assert search.status_code == 200
    await client.post("/v1/me/export", headers=gone.headers)
    return Footprint(gone, {"alder": alder, "birch": birch, "cedar": cedar, "elm": elm})


async def _scan_postgres(sessions: Sessions, terms: dict[str, str]) -> set[tuple[str, str, str]]:
    """Every (table, column, term) where a row holds the term, in every text, uuid, json
    and array column of every table."""
    found = set()
    async with sessions() as session:
        columns = await session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type = ANY(:types) "
                "AND table_name <> 'alembic_version'"
            ),
            {"types": list(TEXT_TYPES)},
        )
        for table, column in columns.all():
            for label, term in terms.items():
                # Names from information_schema itself, quoted: not input.
                query = f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE :term'  # noqa: S608
                hits = await session.scalar(
                    text(query),
                    {"term": f"%{term}%"},
                )
                if hits:
                    found.add((table, column, label))
    return found


async def _scan_neo4j(graph: Graph, terms: dict[str, str]) -> set[str]:
    nodes = await graph.write("MATCH (n) RETURN labels(n) AS labels, properties(n) AS p")
    links = await graph.write("MATCH ()-[r]->() RETURN type(r) AS type, properties(r) AS p")
    everything = str(nodes).lower() + str(links).lower()
    return {label for label, term in terms.items() if term.lower() in everything}


async def _scan_redis(queue: JobQueue, terms: dict[str, str]) -> set[str]:
    redis = queue.redis
    dump = []
    async for key in redis.scan_iter(match="*"):
        kind = (await redis.type(key)).decode()
        value: Any
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await cast(Awaitable[Any], redis.hgetall(key))
        elif kind == "list":
            value = await cast(Awaitable[Any], redis.lrange(key, 0, -1))
        elif kind == "set":
            value = await cast(Awaitable[Any], redis.smembers(key))
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1)
        else:
            value = kind
        dump.append(f"{key!r}={value!r}")
    everything = "\n".join(dump).lower()
    return {label for label, term in terms.items() if term.lower() in everything}


async def _finish(worker_ctx: dict[str, Any], clock: SteppingClock) -> int:
    worker_ctx["clock"] = clock
    return await finish_erasures(worker_ctx)


@pytest.mark.parametrize("graph_during_deletion", ["up", "down"])
async def test_nothing_of_a_deleted_member_is_left_in_postgres_neo4j_or_redis(
    graph_during_deletion: str,
    committed_client: httpx.AsyncClient,
    committed_db: Sessions,
    clock: SteppingClock,
    settings: Settings,
    graph: Graph,
    queue: JobQueue,
    receiver: Receiver,
    run_worker: RunWorker,
    graph_down: httpx.AsyncClient,
    worker_ctx: dict[str, Any],
) -> None:
    # The API's clock moves (recommendations need 90 days of connection); the worker
    # runs on the system clock, so that what it schedules is due now.
    world = await _footprint(committed_client, committed_db, receiver, clock)
    await run_worker()
    terms = world.terms
    before = await _scan_postgres(committed_db, terms)
    # The scan sees the footprint: the member is everywhere before.
    assert {
        ("members", "id", "id"),
        ("members", "email", "email"),
        ("members", "name", "name"),
    } <= before
    assert {"notifications", "webhook_messages", "outbox_events", "connection_notes"} <= {
        table for table, _, _ in before
    }
    assert await _scan_neo4j(graph, terms) >= {"id", "name"}
    delivered_before = len(receiver.received)

    # Left for the worker at the moment of deletion: an event about them that a partner
    # (alder's endpoint) would hear of.
    alder = world.others["alder"]
    removed = await committed_client.delete(
        f"/v1/connections/{world.gone.member_id}", headers=alder.headers
    )
    assert removed.status_code == 204, removed.text
    deleted = await committed_client.request(
        "DELETE", "/v1/me", json={"password": PASSWORD}, headers=world.gone.headers
    )
    assert deleted.status_code == 204, deleted.text

    if graph_during_deletion == "down":
        two_tries = settings.model_copy(
            update={"worker": settings.worker.model_copy(update={"max_tries": 2})}
        )
        await run_worker(worker_settings=two_tries, graph=graph_down)
        assert "id" in await _scan_neo4j(graph, terms)  # the graph has not caught up
        assert await _finish(worker_ctx, clock) == 0  # nor has the erasure finished
    await run_worker()
    clock.advance(minutes=5)
    assert await _finish(worker_ctx, clock) == 1
    await run_worker()

    left = await _scan_postgres(committed_db, terms) - {
        (table, column, "email") for table, column, kind in ALLOWED
    }
    assert left == set()
    assert await _scan_neo4j(graph, terms) == set()
    assert await _scan_redis(queue, terms) == set()
    after = receiver.received[delivered_before:]
    assert not [r for r in after if str(world.gone.member_id) in r.body or NAME in r.body]
    # What others keep names "a former member": elm's note from them is still in the feed.
    elm = world.others["elm"]
    feed = (await committed_client.get("/v1/notifications", headers=elm.headers)).json()
    texts = [item for item in feed["items"] if "former member" in str(item)]
    assert texts, feed
