"""The bare reference for measurement 2: FastAPI and an asyncpg pool, one endpoint that
inserts one row and answers its id, served by uvicorn like the API
(``uvicorn bench.reference_app:build --factory``, with as many workers as the API). Same
PostgreSQL, same database, as many connections per worker as the API's SQLAlchemy engine
may open (pool_size + max_overflow)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from rapport_common.settings import get_settings

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_reference;
CREATE TABLE IF NOT EXISTS bench_reference.rows (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    inviter_id uuid NOT NULL,
    invitee_id uuid NOT NULL,
    note text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = """
INSERT INTO bench_reference.rows (inviter_id, invitee_id, note) VALUES ($1, $2, $3)
RETURNING id
"""


class RowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inviter_id: uuid.UUID
    invitee_id: uuid.UUID
    note: str = Field(min_length=1, max_length=1000)


class RowOut(BaseModel):
    row_id: uuid.UUID


def build() -> FastAPI:
    settings = get_settings().postgres

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password.get_secret_value(),
            database=settings.database,
            min_size=1,
            max_size=settings.pool_size + settings.max_overflow,
            # Idle connections go within seconds, so that this app and the API, loaded in
            # turns, together stay under PostgreSQL's max_connections (100).
            max_inactive_connection_lifetime=2.0,
        )
        async with pool.acquire() as connection, connection.transaction():
            # Every worker runs this; CREATE ... IF NOT EXISTS is not safe side by side.
            await connection.execute("SELECT pg_advisory_xact_lock(20260101)")
            await connection.execute(SCHEMA)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="Bench reference: one insert", lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/rows", status_code=201)
    async def insert(row: RowIn, request: Request) -> RowOut:
        async with request.app.state.pool.acquire() as connection:
            row_id = await connection.fetchval(INSERT, row.inviter_id, row.invitee_id, row.note)
        return RowOut(row_id=row_id)

    return app
