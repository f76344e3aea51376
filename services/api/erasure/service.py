"""Deleting an account: every trace of the member in PostgreSQL erased or anonymised in
one transaction, by the retention table of docs/privacy.md ("Deleting an account").

Most of it is the foreign keys' ``ON DELETE CASCADE`` (and ``SET NULL`` for an invitation
that named the member as referrer); this module does what no foreign key can: other
members' notifications that name them, outbox events and webhook messages that carry
their id, stored responses, and the ``member.deleted`` event that the graph follows."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.domain.erasure import anonymise_notifications, name_forms
from rapport_common.events import MemberDeletedV1
from rapport_common.models.erasures import MemberErasure
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.repositories.erasure import ErasureRepository
from rapport_common.web.problems import Unauthorized
from services.api.erasure.repository import AccountRepository


class AccountGone(Unauthorized):
    slug, title = "account-deleted", "This account no longer exists"


async def erase(session: AsyncSession, member: Member, now: datetime) -> None:
    """Flushes only: the request's commit makes all of it happen at once, or none."""
    accounts, erasure = AccountRepository(session), ErasureRepository(session)
    # Locked first: nothing that holds the member may write about them after the
    # statements below have looked.
    locked = await accounts.lock(member.id)
    if locked is None:
        raise AccountGone("The account was deleted meanwhile.")
    names = name_forms(locked.name, locked.given_name)
    related = await erasure.related_ids(locked.id)
    events = await erasure.events_naming(locked.id)
    event_ids = [event.id for event in events]
    notifications = await erasure.notifications_about(locked.id, event_ids, related)
    details = [locked.headline] if locked.headline else []
    await anonymise_notifications(erasure, notifications, locked.id, names, locked.email, details)
    # Done or not: an event about the member must neither reach anyone now nor be
    # replayed into a rebuilt graph.
    await erasure.delete_events(event_ids)
    await erasure.delete_webhook_messages_naming(locked.id)
    await erasure.delete_idempotency_keys(locked.id, locked.email)
    deleted = await record_event(session, "member.deleted", MemberDeletedV1(member_id=locked.id))
    await erasure.add_erasure(
        MemberErasure(member_id=locked.id, names=names, event_id=deleted.id, requested_at=now)
    )
    await accounts.delete(locked)
