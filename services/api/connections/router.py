import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.connections import Connection
from rapport_common.models.members import Member
from rapport_common.repositories.members import MemberRepository
from rapport_common.settings import Settings
from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.connections import service as connections
from services.api.connections.deps import (
    MyConnection,
    MyConnectionForUpdate,
    RepositoryDep,
    load_my_connection,
)
from services.api.connections.schemas import (
    ConnectionOut,
    InteractionIn,
    InteractionOut,
    RateIn,
)
from services.api.deps import CurrentMember, SessionDep, SettingsDep
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.pagination import CursorQuery, LimitQuery, Page, after_name, window

router = APIRouter(
    prefix="/v1/connections",
    tags=["connections"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)
NOT_CONNECTED = problem_responses((404, "Not connected to that member"))


@router.get("", response_model=Page[ConnectionOut])
async def list_my_connections(
    me: CurrentMember,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ConnectionOut]:
    """My connections by name, each with my private rating and how much it has faded."""
    rows = await repository.page_for(me.id, limit, after_name(cursor))
    found = window(rows, limit, lambda row: (row[1].name, row[1].id))
    return found.page(
        [connections.view(c, me, other, settings.strength, now) for c, other in found.rows]
    )


async def _view(
    session: AsyncSession, connection: Connection, me: Member, settings: Settings, now: datetime
) -> ConnectionOut:
    other = await MemberRepository(session).get(connection.other(me.id))
    assert other is not None  # a connection's members exist (foreign keys)
    return connections.view(connection, me, other, settings.strength, now)


@router.get("/{member_id}", response_model=ConnectionOut, responses=NOT_CONNECTED)
async def read_connection(
    connection: MyConnection,
    me: CurrentMember,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> ConnectionOut:
    return await _view(session, connection, me, settings, now)


@router.patch("/{member_id}", response_model=ConnectionOut, responses=NOT_CONNECTED)
async def rate_connection(
    data: RateIn,
    connection: MyConnectionForUpdate,
    me: CurrentMember,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
) -> ConnectionOut:
    """Re-rate my side (1-10). Only I ever see my rating."""
    await connections.rate(repository, me, connection, data.rating)
    return await _view(repository.session, connection, me, settings, now)


@router.delete("/{member_id}", status_code=204, responses=NOT_CONNECTED)
async def remove_connection(
    connection: MyConnectionForUpdate, me: CurrentMember, repository: RepositoryDep, now: Now
) -> Response:
    await connections.remove(repository, me, connection, now)
    return Response(status_code=204)


@router.post(
    "/{member_id}/interactions",
    status_code=201,
    response_model=InteractionOut,
    responses=problem_responses((404, "Not connected to that member")),
)
async def log_interaction(
    member_id: uuid.UUID,
    data: InteractionIn,
    request: Request,
    me: CurrentMember,
    session: SessionDep,
    repository: RepositoryDep,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Log a coffee, a meal, a beer, a call, a message or an event: the pair's strength
    recovers from the latest one."""

    async def create() -> InteractionOut:
        connections.check_occurred_at(data.occurred_at, now)
        # Loaded here, not by a dependency: a retry with the same key must replay the
        # first answer even once the connection is gone.
        connection = await load_my_connection(repository, me.id, member_id, for_update=True)
        interaction = await connections.log_interaction(repository, me, connection, data)
        return InteractionOut(
            interaction_id=interaction.id,
            member_id=member_id,
            kind=data.kind,
            occurred_at=interaction.occurred_at,
        )

    request_hash = fingerprint("POST", request.url.path, data)
    return await run_idempotent(session, str(me.id), idempotency_key, request_hash, create)
