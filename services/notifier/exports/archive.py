"""A member's archive: one JSON document with a ``schema_version`` and one section per
area (docs/privacy.md, "Export"), stored gzip-compressed."""

import gzip
import json
import uuid
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.members import Member
from rapport_common.settings import Settings
from services.notifier.exports import account, network

Row = dict[str, Any]
# Bumped when a section changes shape; new fields in a section do not bump it.
SCHEMA_VERSION = 1


async def build(session: AsyncSession, member: Member, settings: Settings, now: datetime) -> Row:
    """Everything Rapport holds about ``member`` that is theirs to have, as of ``now``."""
    me = member.id
    people = network.People(session)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now,
        "member_id": me,
        "profile": account.profile(member),
        "settings": await account.member_settings(session, member, settings),
        "linking_policy": await account.linking_policy(session, me),
        "connections": await network.connections(session, me, people),
        "notes": await network.notes(session, me, people),
        "interactions": await network.interactions(session, me, people),
        "invitations": await network.invitations(session, me, people),
        "email_invitations": await network.email_invitations(session, me, now),
        "introductions": await network.introductions(session, me, people),
        "recommendations": await network.recommendations(session, me, people),
        "blocks": await network.blocks(session, me, people),
        "notifications": await account.notifications(session, me),
        "webhook_endpoints": await account.webhook_endpoints(session, me),
        "sign_ins": await account.sign_ins(session, me, now),
        "account_emails": await account.account_emails(session, me),
        "search_usage": await account.search_usage(session, me),
        "exports": await account.exports(session, me),
    }


def _plain(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not exported")


def encode(archive: Row) -> tuple[bytes, int]:
    """The gzip-compressed JSON and the size of the JSON itself. ``mtime=0``: the same
    archive compresses to the same bytes."""
    text = json.dumps(archive, default=_plain, ensure_ascii=False, indent=1).encode()
    return gzip.compress(text, mtime=0), len(text)
