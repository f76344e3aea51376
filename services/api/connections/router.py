import uuid
from datetime import datetime
from typing import Annotated, cast

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import InteractionKind
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
from services.api.connections.repository import ConnectionRepository
from services.api.connections.schemas import (
    MAX_TAGS,
    ConnectionOut,
    InteractionIn,
    InteractionOut,
    NoteIn,
    RateIn,
    Tag,
)
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep, SettingsDep
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.pagination import (
    PAGE_SIZE,
    CursorQuery,
    LimitQuery,
    Page,
    after_name,
    after_time,
    window,
)

router = APIRouter(
    route_class=AuthFirstRoute,
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
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
    tag: Annotated[
        list[Tag] | None,
        Query(max_length=MAX_TAGS, description="Only those I tagged with all of these"),
    ] = None,
) -> Page[ConnectionOut]:
    """My connections by name, each with my private rating, how much it has faded, and
    my own note and tags."""
    tags = sorted({t.strip().lower() for t in tag or ()})
    rows = await repository.page_mine(me.id, limit, after_name(cursor), tags)
    found = window(rows, limit, lambda row: (row[1].name, row[1].id))
    return found.page(
        [
            connections.view(c, me, other, settings.strength, now, note)
            for c, other, note in found.rows
        ]
    )


async def _view(
    session: AsyncSession, connection: Connection, me: Member, settings: Settings, now: datetime
) -> ConnectionOut:
    other_id = connection.other(me.id)
    other = await MemberRepository(session).get(other_id)
    assert other is not None  # a connection's members exist (foreign keys)
    note = await ConnectionRepository(session).note(me.id, other_id)
    return connections.view(connection, me, other, settings.strength, now, note)


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


@router.put("/{member_id}/note", response_model=ConnectionOut, responses=NOT_CONNECTED)
async def write_note(
    data: NoteIn,
    connection: MyConnectionForUpdate,
    me: CurrentMember,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
) -> ConnectionOut:
    """My private note and tags on this connection, replacing the previous ones (send
    `null` and `[]` to clear them). Nobody else ever sees them; they go with the
    connection if it is removed."""
    await connections.put_note(repository, me, connection, data, now)
    return await _view(repository.session, connection, me, settings, now)


@router.get(
    "/{member_id}/interactions",
    response_model=Page[InteractionOut],
    responses=NOT_CONNECTED,
)
async def interaction_history(
    member_id: uuid.UUID,
    connection: MyConnection,
    me: CurrentMember,
    repository: RepositoryDep,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[InteractionOut]:
    """The interactions I logged with this connection, the latest first (by when they
    happened). Theirs are not shown: each side keeps their own log."""
    rows = await repository.page_interactions(connection, me.id, limit, after_time(cursor))
    found = window(rows, limit, lambda i: (i.occurred_at, i.id))
    return found.page(
        [
            InteractionOut(
                interaction_id=i.id,
                member_id=member_id,
                kind=cast(InteractionKind, i.kind),
                occurred_at=i.occurred_at,
            )
            for i in found.rows
        ]
    )


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
