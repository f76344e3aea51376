from fastapi import APIRouter

from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.deps import CurrentMember
from services.api.notifications.deps import MyNotification, RepositoryDep
from services.api.notifications.schemas import (
    NotificationOut,
    NudgeSettingsIn,
    NudgeSettingsOut,
)
from services.api.pagination import CursorQuery, LimitQuery, Page, after_time, window

router = APIRouter(
    prefix="/v1",
    tags=["notifications"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


@router.get("/notifications", response_model=Page[NotificationOut])
async def list_notifications(
    me: CurrentMember,
    repository: RepositoryDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    unread: bool = False,
) -> Page[NotificationOut]:
    """My in-app feed, newest first (`unread=true` for unread ones only)."""
    rows = await repository.page(me.id, limit, after_time(cursor), unread)
    found = window(rows, limit, lambda n: (n.created_at, n.id))
    return found.page([NotificationOut.model_validate(n) for n in found.rows])


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    responses=problem_responses((404, "No such notification among mine")),
)
async def mark_read(
    notification: MyNotification, repository: RepositoryDep, now: Now
) -> NotificationOut:
    """Mark it read; marking it again keeps the first time."""
    notification.read_at = notification.read_at or now
    await repository.session.flush()
    return NotificationOut.model_validate(notification)


@router.get("/me/nudges", response_model=NudgeSettingsOut)
async def read_nudge_settings(me: CurrentMember, repository: RepositoryDep) -> NudgeSettingsOut:
    """When Rapport nudges me to get back in touch with a fading relationship."""
    stored = await repository.nudge_settings(me.id)
    return NudgeSettingsOut.model_validate(stored) if stored else NudgeSettingsOut()


@router.put("/me/nudges", response_model=NudgeSettingsOut)
async def replace_nudge_settings(
    data: NudgeSettingsIn, me: CurrentMember, repository: RepositoryDep
) -> NudgeSettingsOut:
    await repository.save_nudge_settings(me.id, data.model_dump())
    return NudgeSettingsOut(**data.model_dump())
