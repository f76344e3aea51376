"""Dependencies that load my connection to the member named in the path."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.models.connections import Connection
from rapport_common.web.problems import NotFound
from services.api.connections.repository import ConnectionRepository
from services.api.deps import CurrentMember, SessionDep


async def get_repository(session: SessionDep) -> ConnectionRepository:
    return ConnectionRepository(session)


RepositoryDep = Annotated[ConnectionRepository, Depends(get_repository)]


async def load_my_connection(
    repository: ConnectionRepository,
    me_id: uuid.UUID,
    member_id: uuid.UUID,
    for_update: bool = False,
) -> Connection:
    """For the one handler that must load inside its body (see ``log_interaction``)."""
    connection = await repository.get(me_id, member_id, for_update=for_update)
    if connection is None:
        raise NotFound(f"You are not connected to member {member_id}.")
    return connection


async def get_my_connection(
    member_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> Connection:
    return await load_my_connection(repository, me.id, member_id)


async def get_my_connection_for_update(
    member_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> Connection:
    """Locked for this request's changes."""
    return await load_my_connection(repository, me.id, member_id, for_update=True)


MyConnection = Annotated[Connection, Depends(get_my_connection)]
MyConnectionForUpdate = Annotated[Connection, Depends(get_my_connection_for_update)]
