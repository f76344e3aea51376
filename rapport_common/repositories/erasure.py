"""SQL of a deleted account's erasure that both the API (in the deletion's transaction)
and the notifier's finisher run (docs/privacy.md, "Deleting an account")."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.erasures import MemberErasure
from rapport_common.models.idempotency import IdempotencyKey
from rapport_common.models.introductions import Introduction
from rapport_common.models.invitations import Invitation
from rapport_common.models.notifications import Notification
from rapport_common.models.recommendations import Recommendation
from rapport_common.models.webhooks import WebhookMessage
from rapport_common.outbox import OutboxEvent


def _containing(value: str) -> str:
    """A LIKE pattern for ``value`` anywhere (a UUID or an address: no wildcards in them
    but ``_``, which is escaped)."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def events_naming(self, member_id: uuid.UUID) -> list[OutboxEvent]:
        """Every outbox event whose payload names the member, in any field. A scan of the
        outbox: deletions are rare, and an index on every payload would cost each write."""
        rows = await self.session.execute(
            select(OutboxEvent).where(
                cast(OutboxEvent.payload, String).like(_containing(str(member_id)))
            )
        )
        return list(rows.scalars())

    async def delete_events(self, event_ids: Sequence[uuid.UUID]) -> None:
        if event_ids:
            await self.session.execute(
                delete(OutboxEvent)
                .where(OutboxEvent.id.in_(event_ids))
                .execution_options(synchronize_session=False)
            )

    async def related_ids(self, member_id: uuid.UUID) -> dict[str, list[str]]:
        """The invitations, introductions and recommendations the member took part in,
        which other members' notifications point to by id; locked, so that a sweep
        closing one of them (and writing its notification) finishes first."""
        invitations = await self.session.execute(
            select(Invitation.id)
            .where(
                or_(
                    Invitation.inviter_id == member_id,
                    Invitation.invitee_id == member_id,
                    Invitation.referrer_id == member_id,
                )
            )
            .with_for_update()
        )
        introductions = await self.session.execute(
            select(Introduction.id).where(
                or_(
                    Introduction.requester_id == member_id,
                    Introduction.intermediary_id == member_id,
                    Introduction.target_id == member_id,
                )
            )
        )
        recommendations = await self.session.execute(
            select(Recommendation.id).where(
                or_(Recommendation.author_id == member_id, Recommendation.subject_id == member_id)
            )
        )
        return {
            "invitation_id": [str(i) for i in invitations.scalars()],
            "introduction_id": [str(i) for i in introductions.scalars()],
            "recommendation_id": [str(i) for i in recommendations.scalars()],
        }

    async def notifications_about(
        self,
        member_id: uuid.UUID,
        event_ids: Sequence[uuid.UUID] = (),
        related: dict[str, list[str]] | None = None,
    ) -> list[Notification]:
        """Other members' notifications that concern the member: those that name them as
        their related member, that an event naming them caused, or that point to
        something they took part in; then the digests that gathered any of those."""
        about = [
            Notification.related_member_id == member_id,
            Notification.data["member_id"].astext == str(member_id),
        ]
        if event_ids:
            cause = func.split_part(Notification.dedupe_key, ":", 1)
            about.append(cause.in_([str(i) for i in event_ids]))
        for key, ids in (related or {}).items():
            if ids:
                about.append(Notification.data[key].astext.in_(ids))
        rows = await self.session.execute(
            select(Notification)
            .where(Notification.member_id != member_id, or_(*about))
            .with_for_update()
        )
        found = list(rows.scalars())
        digest_ids = {n.digest_id for n in found if n.digest_id is not None} - {n.id for n in found}
        if digest_ids:
            digests = await self.session.execute(
                select(Notification).where(Notification.id.in_(digest_ids)).with_for_update()
            )
            found.extend(digests.scalars())
        return found

    async def rewrite_notification(self, notification_id: uuid.UUID, **values: Any) -> None:
        await self.session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def delete_webhook_messages_naming(self, member_id: uuid.UUID) -> None:
        """Messages to other members' endpoints about the member, sent or not: pending ones
        must never go out, and the delivery log must not keep the id."""
        await self.session.execute(
            delete(WebhookMessage)
            .where(WebhookMessage.body.like(_containing(str(member_id))))
            .execution_options(synchronize_session=False)
        )

    async def delete_idempotency_keys(self, member_id: uuid.UUID, email: str) -> None:
        """The member's own stored responses, and any other whose response names them
        (their registration's, under the anonymous scope; another member's invitation to
        them)."""
        body = cast(IdempotencyKey.response_body, String)
        await self.session.execute(
            delete(IdempotencyKey)
            .where(
                or_(
                    IdempotencyKey.scope == str(member_id),
                    body.like(_containing(str(member_id))),
                    body.ilike(_containing(email)),
                )
            )
            .execution_options(synchronize_session=False)
        )

    async def add_erasure(self, erasure: MemberErasure) -> None:
        self.session.add(erasure)
        await self.session.flush()

    async def unfinished(self, limit: int) -> list[MemberErasure]:
        """Erasures left to finish, oldest first; skips those another finisher holds."""
        rows = await self.session.execute(
            select(MemberErasure)
            .order_by(MemberErasure.requested_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows.scalars())

    async def any_unfinished(self) -> bool:
        found = await self.session.execute(select(MemberErasure.member_id).limit(1))
        return found.first() is not None

    async def event(self, event_id: uuid.UUID) -> OutboxEvent | None:
        return await self.session.get(OutboxEvent, event_id)

    async def finish(self, erasure: MemberErasure) -> None:
        await self.session.execute(
            delete(MemberErasure)
            .where(MemberErasure.member_id == erasure.member_id)
            .execution_options(synchronize_session=False)
        )
