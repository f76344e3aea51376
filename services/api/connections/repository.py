import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rapport_common.domain import privacy
from rapport_common.models.connections import Connection, Interaction
from rapport_common.models.members import Member
from rapport_common.models.notes import ConnectionNote
from rapport_common.repositories.blocks import unblocked_with
from services.api.pagination import by_name, newest_first


class ConnectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, a: uuid.UUID, b: uuid.UUID, for_update: bool = False) -> Connection | None:
        low, high = Connection.pair(a, b)
        query = select(Connection).where(
            Connection.member_low_id == low, Connection.member_high_id == high
        )
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def are_connected(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return await self.get(a, b) is not None

    async def add(self, connection: Connection) -> Connection:
        self.session.add(connection)
        await self.session.flush()
        return connection

    async def delete(self, connection: Connection) -> None:
        await self.session.delete(connection)
        await self.session.flush()

    async def add_interaction(self, interaction: Interaction) -> Interaction:
        self.session.add(interaction)
        await self.session.flush()
        return interaction

    async def page_for(
        self,
        member_id: uuid.UUID,
        limit: int,
        after: tuple[str, uuid.UUID] | None,
        viewer_id: uuid.UUID | None = None,
    ) -> Sequence[tuple[Connection, Member]]:
        """A member's connections with the other member, by name then id. Shown to
        ``viewer_id`` (someone else), only those whose own setting lets the viewer see
        them too (docs/privacy.md, lists)."""
        other_id = Connection.member_high_id
        mine_low = and_(Connection.member_low_id == member_id, Member.id == other_id)
        mine_high = and_(
            Connection.member_high_id == member_id, Member.id == Connection.member_low_id
        )
        query = select(Connection, Member).join(Member, or_(mine_low, mine_high))
        if viewer_id is not None and viewer_id != member_id:
            query = query.where(_shows_to(viewer_id), unblocked_with(viewer_id, Member.id))
        query = by_name(query, Member.name, Member.id, limit, after)
        return [(row[0], row[1]) for row in (await self.session.execute(query)).all()]

    async def page_mine(
        self,
        me_id: uuid.UUID,
        limit: int,
        after: tuple[str, uuid.UUID] | None,
        tags: Sequence[str] = (),
    ) -> Sequence[tuple[Connection, Member, ConnectionNote | None]]:
        """My connections by name then id, each with my note on it; with ``tags``, only
        those I tagged with all of them."""
        mine_low = and_(Connection.member_low_id == me_id, Member.id == Connection.member_high_id)
        mine_high = and_(Connection.member_high_id == me_id, Member.id == Connection.member_low_id)
        my_note = and_(ConnectionNote.owner_id == me_id, ConnectionNote.other_id == Member.id)
        query = (
            select(Connection, Member, ConnectionNote)
            .join(Member, or_(mine_low, mine_high))
            .outerjoin(ConnectionNote, my_note)
        )
        if tags:
            query = query.where(ConnectionNote.tags.contains(list(tags)))
        query = by_name(query, Member.name, Member.id, limit, after)
        return [(row[0], row[1], row[2]) for row in (await self.session.execute(query)).all()]

    async def note(self, owner_id: uuid.UUID, other_id: uuid.UUID) -> ConnectionNote | None:
        return await self.session.get(ConnectionNote, (owner_id, other_id))

    async def put_note(
        self,
        owner_id: uuid.UUID,
        other_id: uuid.UUID,
        note: str | None,
        tags: list[str],
        now: datetime,
    ) -> ConnectionNote:
        values = {"note": note, "tags": tags, "updated_at": now}
        statement = (
            insert(ConnectionNote)
            .values(owner_id=owner_id, other_id=other_id, **values)
            .on_conflict_do_update(index_elements=["owner_id", "other_id"], set_=values)
            .returning(ConnectionNote)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def delete_notes(self, a: uuid.UUID, b: uuid.UUID) -> None:
        """Both members' notes on their connection."""
        await self.session.execute(
            delete(ConnectionNote).where(
                or_(
                    and_(ConnectionNote.owner_id == a, ConnectionNote.other_id == b),
                    and_(ConnectionNote.owner_id == b, ConnectionNote.other_id == a),
                )
            )
        )

    async def page_interactions(
        self,
        connection: Connection,
        logged_by: uuid.UUID,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> Sequence[Interaction]:
        """The interactions ``logged_by`` logged on the pair, newest first."""
        query = select(Interaction).where(
            Interaction.logged_by == logged_by,
            Interaction.member_low_id == connection.member_low_id,
            Interaction.member_high_id == connection.member_high_id,
        )
        query = newest_first(query, Interaction.occurred_at, Interaction.id, limit, after)
        return (await self.session.execute(query)).scalars().all()


def _shows_to(viewer_id: uuid.UUID) -> ColumnElement[bool]:
    """Whether the listed ``Member``'s setting lets the viewer see their side of a link:
    the viewer themselves, or a setting in ``privacy.list_audiences``."""
    known = aliased(Connection)
    viewer_knows_them = exists().where(
        or_(
            and_(known.member_low_id == viewer_id, known.member_high_id == Member.id),
            and_(known.member_high_id == viewer_id, known.member_low_id == Member.id),
        )
    )
    return or_(
        Member.id == viewer_id,
        Member.connections_visible_to.in_(
            sorted(privacy.list_audiences(viewer_knows_member=False))
        ),
        and_(
            Member.connections_visible_to.in_(
                sorted(privacy.list_audiences(viewer_knows_member=True))
            ),
            viewer_knows_them,
        ),
    )
