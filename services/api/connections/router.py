import uuid

from fastapi import APIRouter, Request, Response

from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.connections import service as connections
from services.api.connections.repository import ConnectionRepository
from services.api.connections.schemas import (
    ConnectionOut,
    InteractionIn,
    InteractionOut,
    RateIn,
)
from services.api.deps import CurrentMember, SessionDep, SettingsDep
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor

router = APIRouter(
    prefix="/v1/connections",
    tags=["connections"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)
NOT_CONNECTED = problem_responses((404, "Not connected to that member"))


@router.get("", response_model=Page[ConnectionOut])
async def list_my_connections(
    me: CurrentMember,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ConnectionOut]:
    """My connections by name, each with my private rating and how much it has faded."""
    rows = await ConnectionRepository(session).page_for(
        me.id, limit, decode_cursor(cursor) if cursor else None
    )
    items = [connections.view(c, me, other, settings.strength, now) for c, other in rows[:limit]]
    last = rows[limit - 1][1] if len(rows) > limit else None
    return Page(items=items, next_cursor=encode_cursor(last.name, last.id) if last else None)


async def _view(
    session: SessionDep,
    settings: SettingsDep,
    me: CurrentMember,
    connection_other: uuid.UUID,
    now: Now,
) -> ConnectionOut:
    connection = await connections.get_mine(ConnectionRepository(session), me, connection_other)
    other = await MemberRepository(session).get(connection_other)
    assert other is not None  # a connection's members exist (foreign keys)
    return connections.view(connection, me, other, settings.strength, now)


@router.get("/{member_id}", response_model=ConnectionOut, responses=NOT_CONNECTED)
async def read_connection(
    member_id: uuid.UUID, me: CurrentMember, session: SessionDep, settings: SettingsDep, now: Now
) -> ConnectionOut:
    return await _view(session, settings, me, member_id, now)


@router.patch("/{member_id}", response_model=ConnectionOut, responses=NOT_CONNECTED)
async def rate_connection(
    member_id: uuid.UUID,
    data: RateIn,
    me: CurrentMember,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> ConnectionOut:
    """Re-rate my side (1-10). Only I ever see my rating."""
    await connections.rate(ConnectionRepository(session), me, member_id, data.rating)
    return await _view(session, settings, me, member_id, now)


@router.delete("/{member_id}", status_code=204, responses=NOT_CONNECTED)
async def remove_connection(
    member_id: uuid.UUID, me: CurrentMember, session: SessionDep, now: Now
) -> Response:
    await connections.remove(ConnectionRepository(session), me, member_id, now)
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
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Log a coffee, a meal, a beer, a call, a message or an event: the pair's strength
    recovers from the latest one."""

    async def create() -> InteractionOut:
        interaction = await connections.log_interaction(
            ConnectionRepository(session), me, member_id, data, now
        )
        return InteractionOut(
            interaction_id=interaction.id,
            member_id=member_id,
            kind=data.kind,
            occurred_at=interaction.occurred_at,
        )

    request_hash = fingerprint("POST", request.url.path, data)
    return await run_idempotent(session, str(me.id), idempotency_key, request_hash, create)
