import uuid

from fastapi import APIRouter

from rapport_common.web.problems import NotFound, problem_responses
from services.api.clock import Now
from services.api.deps import CurrentMember, SessionDep
from services.api.notifications.repository import NotificationRepository
from services.api.notifications.schemas import (
    NotificationOut,
    NudgeSettingsIn,
    NudgeSettingsOut,
)
from services.api.pagination import (
    CursorQuery,
    LimitQuery,
    Page,
    decode_time_cursor,
    encode_cursor,
)

router = APIRouter(
    prefix="/v1",
    tags=["notifications"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


@router.get("/notifications", response_model=Page[NotificationOut])
async def list_notifications(
    me: CurrentMember,
    session: SessionDep,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
    unread: bool = False,
) -> Page[NotificationOut]:
    """My in-app feed, newest first (`unread=true` for unread ones only)."""
    rows = await NotificationRepository(session).page(
        me.id, limit, decode_time_cursor(cursor) if cursor else None, unread
    )
    items = [NotificationOut.model_validate(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items=items, next_cursor=encode_cursor(last.created_at, last.id) if last else None)


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    responses=problem_responses((404, "No such notification among mine")),
)
async def mark_read(
    notification_id: uuid.UUID, me: CurrentMember, session: SessionDep, now: Now
) -> NotificationOut:
    """Mark it read; marking it again keeps the first time."""
    notification = await NotificationRepository(session).get_mine(me.id, notification_id)
    if notification is None:
        raise NotFound(f"You have no notification {notification_id}.")
    notification.read_at = notification.read_at or now
    await session.flush()
    return NotificationOut.model_validate(notification)


@router.get("/me/nudges", response_model=NudgeSettingsOut)
async def read_nudge_settings(me: CurrentMember, session: SessionDep) -> NudgeSettingsOut:
    """When Rapport nudges me to get back in touch with a fading relationship."""
    stored = await NotificationRepository(session).nudge_settings(me.id)
    return NudgeSettingsOut.model_validate(stored) if stored else NudgeSettingsOut()


@router.put("/me/nudges", response_model=NudgeSettingsOut)
async def replace_nudge_settings(
    data: NudgeSettingsIn, me: CurrentMember, session: SessionDep
) -> NudgeSettingsOut:
    await NotificationRepository(session).save_nudge_settings(me.id, data.model_dump())
    return NudgeSettingsOut(**data.model_dump())
