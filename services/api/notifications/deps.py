"""Dependencies that load a notification *and* check that it is mine."""

import uuid
from typing import Annotated

from fastapi import Depends

from rapport_common.models.notifications import Notification
from rapport_common.web.problems import NotFound
from services.api.deps import CurrentMember, SessionDep
from services.api.notifications.repository import NotificationRepository


async def get_repository(session: SessionDep) -> NotificationRepository:
    return NotificationRepository(session)


RepositoryDep = Annotated[NotificationRepository, Depends(get_repository)]


async def get_my_notification(
    notification_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> Notification:
    notification = await repository.get_mine(me.id, notification_id)
    if notification is None:
        # The same answer whether it does not exist or is someone else's: no existence leak.
        raise NotFound(f"You have no notification {notification_id}.")
    return notification


MyNotification = Annotated[Notification, Depends(get_my_notification)]
