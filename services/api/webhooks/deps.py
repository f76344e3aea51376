"""Dependencies that load a webhook endpoint *and* check that it is mine."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.models.webhooks import WebhookEndpoint
from rapport_common.web.problems import NotFound
from services.api.deps import CurrentMember, SessionDep
from services.api.webhooks.repository import WebhookRepository


async def get_repository(session: SessionDep) -> WebhookRepository:
    return WebhookRepository(session)


RepositoryDep = Annotated[WebhookRepository, Depends(get_repository)]


async def _mine(
    repository: WebhookRepository, endpoint_id: uuid.UUID, me_id: uuid.UUID, for_update: bool
) -> WebhookEndpoint:
    endpoint = await repository.get(endpoint_id, for_update=for_update)
    if endpoint is None or endpoint.member_id != me_id:
        # The same answer whether it does not exist or is someone else's: no existence leak.
        raise NotFound(f"You have no webhook endpoint {endpoint_id}.")
    return endpoint


async def get_my_endpoint(
    endpoint_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> WebhookEndpoint:
    return await _mine(repository, endpoint_id, me.id, for_update=False)


async def get_my_endpoint_for_update(
    endpoint_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> WebhookEndpoint:
    """Locked for this request's changes."""
    return await _mine(repository, endpoint_id, me.id, for_update=True)


MyEndpoint = Annotated[WebhookEndpoint, Depends(get_my_endpoint)]
MyEndpointForUpdate = Annotated[WebhookEndpoint, Depends(get_my_endpoint_for_update)]
