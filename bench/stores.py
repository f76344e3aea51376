"""Direct access to the bench stack's PostgreSQL and Redis, for what the harness itself
needs: a clean start, setting aside preparation work, and reading what the notifier did.
Only the bench stack's own data (``.local/bench``) is ever touched."""

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from rapport_common.settings import Settings
from services.notifier.queue import JobQueue


async def _connect(settings: Settings) -> Any:
    return await asyncpg.connect(**settings.postgres.connect_arguments())


async def reset(settings: Settings) -> None:
    """Empty every table the migrations made (the schema stays) and the job queue, so a
    run starts from what a fresh stack has whatever the last run left."""
    connection = await _connect(settings)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"
        )
        names = ", ".join(f'public."{row["tablename"]}"' for row in tables)
        if names:
            await connection.execute(f"TRUNCATE {names} CASCADE")
        await connection.execute("DROP SCHEMA IF EXISTS bench_reference CASCADE")
    finally:
        await connection.close()
    queue = await JobQueue.connect(settings.redis)
    try:
        await queue.redis.flushdb()
    finally:
        await queue.close()


async def open_invitations(
    settings: Settings,
    rows: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    note: str,
    suggestion: str,
) -> None:
    """Write open invitations (id, inviter, invitee) as the API stores a sent one: pending,
    never met, no referral, the invitee's policy suggestion."""
    connection = await _connect(settings)
    try:
        await connection.executemany(
            "INSERT INTO invitations (id, inviter_id, invitee_id, note, how_we_met, status, "
            "referral_status, suggestion, created_at) "
            "VALUES ($1, $2, $3, $4, 'never_met', 'pending', 'none', $5::jsonb, now())",
            [(*row, note, suggestion) for row in rows],
        )
    finally:
        await connection.close()


async def verify_emails(settings: Settings) -> int:
    """Mark every member's email address verified, as following the link would: sending
    an invitation needs it, and the bench reads no mail for it. Returns how many."""
    connection = await _connect(settings)
    try:
        status = await connection.execute(
            "UPDATE members SET email_verified_at = now() WHERE email_verified_at IS NULL"
        )
        return int(status.split()[-1])
    finally:
        await connection.close()


async def set_aside_outbox(settings: Settings) -> int:
    """Mark every pending outbox event as handled, so the notifier started next only sees
    the events of the measurement (the preparation's "invitation received" mail is not
    part of it). Returns how many were set aside."""
    connection = await _connect(settings)
    try:
        status = await connection.execute(
            "UPDATE outbox_events SET relayed_at = coalesce(relayed_at, now()), "
            "completed_at = now() WHERE completed_at IS NULL"
        )
        return int(status.split()[-1])
    finally:
        await connection.close()


async def decline_notes(settings: Settings) -> dict[str, str]:
    """Notification id -> invitation id, for every decline note stored."""
    connection = await _connect(settings)
    try:
        rows = await connection.fetch(
            "SELECT id::text AS id, data->>'invitation_id' AS invitation_id "
            "FROM notifications WHERE kind = 'invitation_declined'"
        )
        return {row["id"]: row["invitation_id"] for row in rows}
    finally:
        await connection.close()


# The columns the bench writes for a search member; the others take their defaults.
SEARCH_MEMBER_COLUMNS = (
    "id", "email", "password_hash", "name", "headline", "market_area", "company", "title",
    "is_recruiter", "allows_introductions", "networking_stance", "connections_visible_to",
    "reachable_by", "findable_by",
)  # fmt: skip
# The generator's connections as ordered pairs (Connection.pair: the lower id first, its
# side's rating with it); PostgreSQL orders uuids as Python does.
INSERT_PAIRS = """
INSERT INTO connections (member_low_id, member_high_id, low_rating, high_rating, how_we_met,
                         connected_at, last_interaction_at)
SELECT least(a, b), greatest(a, b),
       CASE WHEN a < b THEN a_rating ELSE b_rating END,
       CASE WHEN a < b THEN b_rating ELSE a_rating END,
       how_we_met, connected_at, last_interaction_at
FROM bench_pairs
"""


# A table's indexes (the primary key's too, unless another table refers to it) and its
# foreign keys, to drop and make again around a bulk load.
KEYS = """
SELECT 'constraint' AS kind, conname AS name, pg_get_constraintdef(oid) AS definition,
       contype = 'p' AS primary_key
FROM pg_constraint
WHERE conrelid = $1::text::regclass AND contype IN ('f', 'p')
  AND NOT (contype = 'p' AND EXISTS (SELECT 1 FROM pg_constraint o
                                     WHERE o.confrelid = $1::text::regclass AND o.contype = 'f'))
UNION ALL
SELECT 'index', indexname, indexdef, false
FROM pg_indexes
WHERE schemaname = 'public' AND tablename = $1::text
  AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = $1::text::regclass)
"""


@asynccontextmanager
async def _keys_built_after(connection: Any, table: str) -> AsyncIterator[None]:
    """Load ``table`` without its keys, then make them again, by name: at 1m (25M rows),
    a foreign-key trigger and random B-tree inserts per row took far longer than one
    sorted build per index and one join per foreign key."""
    keys = await connection.fetch(KEYS, table)
    for key in keys:
        if key["kind"] == "index":
            await connection.execute(f'DROP INDEX "{key["name"]}"')
        else:
            await connection.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{key["name"]}"')
    yield
    await connection.execute("SET maintenance_work_mem = '512MB'")
    # The primary key first, the other indexes, then the foreign keys (checked by a join).
    for key in sorted(keys, key=lambda k: (not k["primary_key"], k["kind"] != "index")):
        if key["kind"] == "index":
            await connection.execute(key["definition"])
        else:
            await connection.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{key["name"]}" {key["definition"]}'
            )


async def load_search_network(
    settings: Settings, members: Sequence[tuple[Any, ...]], connections_csv: Path
) -> int:
    """The generated network into PostgreSQL, for the search measurement: ``members`` as
    rows of ``SEARCH_MEMBER_COLUMNS``, the connections from the generator's file, then
    VACUUM (ANALYZE). Returns how many connections were loaded."""
    connection = await _connect(settings)
    try:
        await connection.execute("SET TimeZone = 'UTC'")
        await connection.copy_records_to_table(
            "members", records=members, columns=SEARCH_MEMBER_COLUMNS
        )
        await connection.execute(
            "CREATE TEMP TABLE bench_pairs (a uuid, b uuid, a_rating smallint, "
            "b_rating smallint, how_we_met text, connected_at timestamptz, "
            "last_interaction_at timestamptz)"
        )
        await connection.copy_to_table(
            "bench_pairs", source=connections_csv, format="csv", header=True
        )
        async with _keys_built_after(connection, "connections"):
            status = await connection.execute(INSERT_PAIRS)
        # VACUUM too: a bulk load leaves the visibility map unset, so index-only scans
        # would still read the heap until autovacuum came by.
        await connection.execute("VACUUM (ANALYZE) members")
        await connection.execute("VACUUM (ANALYZE) connections")
        return int(status.split()[-1])
    finally:
        await connection.close()


async def degrees(settings: Settings) -> dict[str, int]:
    """Each connected member's number of connections."""
    connection = await _connect(settings)
    try:
        rows = await connection.fetch(
            "SELECT id::text AS id, count(*) AS degree FROM ("
            "SELECT member_low_id AS id FROM connections UNION ALL "
            "SELECT member_high_id FROM connections) ends GROUP BY id"
        )
        return {row["id"]: row["degree"] for row in rows}
    finally:
        await connection.close()


async def server_versions(settings: Settings) -> dict[str, str]:
    connection = await _connect(settings)
    try:
        postgres = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    queue = await JobQueue.connect(settings.redis)
    try:
        info = await queue.redis.info("server")
    finally:
        await queue.close()
    return {"postgresql": str(postgres), "redis": str(info.get("redis_version"))}


async def load_members(settings: Settings, members: Sequence[tuple[Any, ...]]) -> None:
    """Members alone, as rows of ``SEARCH_MEMBER_COLUMNS``: the public paths endpoint
    (measurement 1) reads the caller, the target and the intermediaries from PostgreSQL
    and the paths from the graph service, so it needs no connections here."""
    connection = await _connect(settings)
    try:
        await connection.copy_records_to_table(
            "members", records=members, columns=SEARCH_MEMBER_COLUMNS
        )
        await connection.execute("VACUUM (ANALYZE) members")
    finally:
        await connection.close()


async def open_sign_ins(
    settings: Settings, sign_ins: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> None:
    """An active sign-in per (member, family id), as signing in leaves it (a refresh
    token of a new family), so access tokens naming it pass the API's sign-in check."""
    connection = await _connect(settings)
    try:
        await connection.executemany(
            "INSERT INTO refresh_tokens (id, member_id, family_id, token_hash, expires_at) "
            "VALUES ($1, $2, $3, $4, now() + interval '1 day')",
            [
                (uuid.uuid4(), member, family, uuid.uuid4().hex + uuid.uuid4().hex)
                for member, family in sign_ins
            ],
        )
    finally:
        await connection.close()
