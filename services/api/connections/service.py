"""My connections: ratings, interactions, my notes and tags, removal."""

from datetime import datetime, timedelta

from rapport_common.events import ConnectionRatedV1, ConnectionRemovedV1, InteractionLoggedV1
from rapport_common.models.connections import Connection, Interaction
from rapport_common.models.members import Member
from rapport_common.models.notes import ConnectionNote
from rapport_common.outbox import record_event
from rapport_common.settings import StrengthSettings
from rapport_common.strength import days_since, effective_rating
from rapport_common.web.problems import Problem
from services.api.connections.repository import ConnectionRepository
from services.api.connections.schemas import ConnectionOut, InteractionIn, NoteIn

# Clocks disagree a little; an interaction a few minutes "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=5)


class InvalidInteraction(Problem):
    status, slug, title = 422, "invalid-interaction", "The interaction cannot be logged"


def view(
    connection: Connection,
    me: Member,
    other: Member,
    strength: StrengthSettings,
    now: datetime,
    note: ConnectionNote | None = None,
) -> ConnectionOut:
    """``note`` is my own note on the connection, if I wrote one."""
    rating = connection.rating_by(me.id)
    since = connection.last_interaction_at or connection.connected_at
    return ConnectionOut.from_member(
        other,
        how_we_met=connection.how_we_met,
        connected_at=connection.connected_at,
        last_interaction_at=connection.last_interaction_at,
        my_rating=rating,
        my_effective_rating=(
            None
            if rating is None
            else round(effective_rating(strength, rating, days_since(since, now)), 3)
        ),
        my_note=note.note if note else None,
        my_tags=list(note.tags) if note else [],
    )


async def rate(
    repository: ConnectionRepository, me: Member, connection: Connection, rating: int
) -> None:
    connection.set_rating_by(me.id, rating)
    await repository.session.flush()
    await record_event(
        repository.session,
        "connection.rated",
        ConnectionRatedV1(rater_id=me.id, ratee_id=connection.other(me.id), rating=rating),
    )


async def remove(
    repository: ConnectionRepository, me: Member, connection: Connection, now: datetime
) -> None:
    other_id = connection.other(me.id)
    await repository.delete(connection)
    # Notes are about a connection; with it gone, neither side's has anything to describe.
    await repository.delete_notes(me.id, other_id)
    await record_event(
        repository.session,
        "connection.removed",
        ConnectionRemovedV1(member_id=me.id, other_member_id=other_id, removed_at=now),
    )


async def put_note(
    repository: ConnectionRepository,
    me: Member,
    connection: Connection,
    data: NoteIn,
    now: datetime,
) -> ConnectionNote:
    """My note and tags on the connection, replacing what I wrote before. Private: no
    event, since nobody else ever learns of it."""
    return await repository.put_note(me.id, connection.other(me.id), data.note, data.tags, now)


def check_occurred_at(occurred_at: datetime, now: datetime) -> None:
    if occurred_at.tzinfo is None:
        raise InvalidInteraction("occurred_at needs a time zone, for example 2026-11-20T12:30:00Z.")
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInteraction("occurred_at is in the future; log meetings once they happened.")


async def log_interaction(
    repository: ConnectionRepository, me: Member, connection: Connection, data: InteractionIn
) -> Interaction:
    """Record a meeting (``check_occurred_at`` passed); the pair's strength recovers from
    the latest one."""
    occurred_at = data.occurred_at
    interaction = await repository.add_interaction(
        Interaction(
            member_low_id=connection.member_low_id,
            member_high_id=connection.member_high_id,
            logged_by=me.id,
            kind=data.kind,
            occurred_at=occurred_at,
        )
    )
    latest = connection.last_interaction_at
    if latest is None or occurred_at > latest:
        connection.last_interaction_at = occurred_at
    await record_event(
        repository.session,
        "interaction.logged",
        InteractionLoggedV1(
            member_id=me.id,
            other_member_id=connection.other(me.id),
            kind=data.kind,
            occurred_at=occurred_at,
        ),
    )
    return interaction
