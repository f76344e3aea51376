"""A member's notification preferences as the store reads them: on the driver, as plain
objects, or from what a builder read in the same transaction (``known_preferences``)."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import String, Table, Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.db import DriverStatement
from rapport_common.domain import notification_kinds
from rapport_common.models.enums import EmailDelivery
from rapport_common.models.notifications import NotificationPreference
from services.notifier import driver

PREFERENCES = cast(Table, NotificationPreference.__table__)
PREFERENCE_COLUMNS = ("member_id", "kind", "email", "in_app")
_READ_PREFERENCES = DriverStatement(
    select(*(PREFERENCES.c[name] for name in PREFERENCE_COLUMNS)).where(
        PREFERENCES.c.member_id == any_(bindparam("member_ids", type_=ARRAY(Uuid()))),
        PREFERENCES.c.kind == any_(bindparam("kinds", type_=ARRAY(String()))),
    )
)


# In ``session.info``: (the transaction, the members whose every stored preference was
# read in it, those preferences by (member, kind)), from a builder's own read
# (``known_preferences``).
KNOWN = "rapport.known_preferences"


def _preference(row: Mapping[str, Any]) -> NotificationPreference:
    values = {name: row[name] for name in PREFERENCE_COLUMNS}
    return driver.plain(NotificationPreference, values | {"email": EmailDelivery(row["email"])})


def known_preferences(
    session: AsyncSession, member_ids: set[uuid.UUID], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Keep, for this transaction, every stored preference of these members (``rows``
    of ``PREFERENCE_COLUMNS``, read with what a builder read): ``preferences`` then
    answers for them without a query."""
    found = {(row["member_id"], row["kind"]): _preference(row) for row in rows}
    session.info[KNOWN] = (session.sync_session.get_transaction(), member_ids, found)


async def preferences(
    session: AsyncSession, pairs: set[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], NotificationPreference]:
    """The stored preferences for these (member, kind) pairs; a pair without one has the
    defaults. Read on the driver, as plain objects, unless this transaction read them
    already (``known_preferences``)."""
    if not pairs:
        return {}
    known = session.info.get(KNOWN)
    current = session.sync_session.get_transaction()
    if known is not None and known[0] is current and {m for m, _ in pairs} <= known[1]:
        return {pair: known[2][pair] for pair in pairs if pair in known[2]}
    params = {"member_ids": list({m for m, _ in pairs}), "kinds": list({k for _, k in pairs})}
    found = {}
    for row in await driver.fetch(session, _READ_PREFERENCES, params):
        key = (row["member_id"], row["kind"])
        if key in pairs:
            found[key] = _preference(row)
    return found


def applied(kind: str, preference: NotificationPreference | None) -> notification_kinds.Applied:
    if preference is None:
        return notification_kinds.apply(kind, None, None)
    return notification_kinds.apply(kind, preference.email, preference.in_app)
