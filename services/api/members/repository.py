"""Member search: one statement that finds, ranks and places members by closeness
(docs/search.md).

Closeness follows the privacy rule (rapport_common/domain/privacy.py) through the sets
of stored settings it gives, so this SQL never restates the rule: a member is 2nd degree
through a connection of mine who may introduce, if their settings let a 2-hop way to
them be seen, and 3rd degree likewise through two such members."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from rapport_common.domain import privacy
from rapport_common.models.connections import Connection
from rapport_common.models.enums import FindableBy
from rapport_common.models.members import Member
from rapport_common.repositories.blocks import unblocked_with

MemberId = ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID]
# Past any degree, so strangers sort after 3rd-degree members.
STRANGER = 4
SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for: ``tsquery`` for the text search and ``text`` for trigram
    similarity, or only ``email``, matched exactly."""

    text: str
    tsquery: str | None
    email: str | None = None


@dataclass(frozen=True)
class Hit:
    member: Member
    relevance: Decimal
    degree: int | None


# The key of the last hit a page showed: (relevance, degree or STRANGER, member id).
SearchKey = tuple[Decimal, int, uuid.UUID]


def _may_introduce(member: type[Member]) -> ColumnElement[bool]:
    return and_(
        member.allows_introductions,
        member.connections_visible_to.in_(sorted(privacy.introducing_visibilities())),
    )


def _reachable_in(member: type[Member], hops: int) -> ColumnElement[bool]:
    return and_(
        member.connections_visible_to.in_(sorted(privacy.introducing_visibilities())),
        member.reachable_by.in_(sorted(privacy.reach_settings(hops))),
    )


def _linked(a: MemberId, b: MemberId) -> ColumnElement[bool]:
    """A connection between the two, whichever is the lower id."""
    link = aliased(Connection)
    return or_(
        exists().where(link.member_low_id == a, link.member_high_id == b),
        exists().where(link.member_low_id == b, link.member_high_id == a),
    )


class MemberSearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(
        self,
        viewer_id: uuid.UUID,
        query: SearchQuery,
        limit: int,
        after: SearchKey | None,
        max_results: int,
    ) -> Sequence[Hit]:
        """One page (``limit + 1`` hits) of the ``max_results`` best matches the viewer
        may find, by relevance rounded to two places, then closeness, then member id."""
        first = self._first(viewer_id)
        via1 = self._introducing(viewer_id, select(first.c.id), "via1")
        second = union(
            select(Connection.member_high_id.label("id")).join(
                via1, Connection.member_low_id == via1.c.id
            ),
            select(Connection.member_low_id.label("id")).join(
                via1, Connection.member_high_id == via1.c.id
            ),
        ).cte("second")
        candidates = self._candidates(viewer_id, query, max_results)
        found = aliased(Member, candidates)
        degree = case(
            (found.id.in_(select(first.c.id)), 1),
            (and_(_reachable_in(found, 2), self._next_to(found.id, via1)), 2),
            (and_(_reachable_in(found, 3), self._two_away(viewer_id, found.id, second)), 3),
            else_=null(),
        )
        placed = (
            select(
                found,
                func.round(cast(candidates.c.relevance, Numeric), 2).label("relevance"),
                cast(degree, Integer).label("degree"),
            )
        ).subquery("placed")
        hit = aliased(Member, placed)
        closeness = func.coalesce(placed.c.degree, STRANGER)
        page = select(hit, placed.c.relevance, placed.c.degree).where(
            or_(hit.findable_by == FindableBy.EVERYONE, placed.c.degree.is_not(None))
        )
        if after is not None:
            relevance, degree_key, member_id = after
            page = page.where(
                or_(
                    placed.c.relevance < relevance,
                    and_(placed.c.relevance == relevance, closeness > degree_key),
                    and_(
                        placed.c.relevance == relevance,
                        closeness == degree_key,
                        hit.id > member_id,
                    ),
                )
            )
        page = page.order_by(placed.c.relevance.desc(), closeness, hit.id).limit(limit + 1)
        rows = await self.session.execute(page)
        return [Hit(row[0], row[1], row[2]) for row in rows.all()]

    @staticmethod
    def _first(viewer_id: uuid.UUID) -> CTE:
        return union(
            select(Connection.member_high_id.label("id")).where(
                Connection.member_low_id == viewer_id
            ),
            select(Connection.member_low_id.label("id")).where(
                Connection.member_high_id == viewer_id
            ),
        ).cte("first")

    @staticmethod
    def _introducing(viewer_id: uuid.UUID, ids: Select[tuple[uuid.UUID]], name: str) -> CTE:
        """Those of ``ids`` who may stand between the viewer and someone else."""
        return (
            select(Member.id)
            .where(Member.id.in_(ids), _may_introduce(Member), unblocked_with(viewer_id, Member.id))
            .cte(name)
        )

    @staticmethod
    def _next_to(member_id: MemberId, via: CTE) -> ColumnElement[bool]:
        link = aliased(Connection)
        return or_(
            exists().where(
                link.member_low_id == member_id, link.member_high_id.in_(select(via.c.id))
            ),
            exists().where(
                link.member_high_id == member_id, link.member_low_id.in_(select(via.c.id))
            ),
        )

    @staticmethod
    def _two_away(viewer_id: uuid.UUID, member_id: MemberId, second: CTE) -> ColumnElement[bool]:
        """A connection of the member's who may introduce and is a connection of one of
        my introducing connections."""
        link, middle = aliased(Connection), aliased(Member)

        def through(near: MemberId, far: MemberId) -> ColumnElement[bool]:
            return exists().where(
                near == member_id,
                middle.id == far,
                middle.id != viewer_id,
                middle.id.in_(select(second.c.id)),
                _may_introduce(middle),
                unblocked_with(viewer_id, middle.id),
            )

        return or_(
            through(link.member_low_id, link.member_high_id),
            through(link.member_high_id, link.member_low_id),
        )

    @staticmethod
    def _candidates(viewer_id: uuid.UUID, query: SearchQuery, max_results: int) -> CTE:
        if query.email is not None:
            matches = and_(Member.email == query.email, Member.findable_by_email)
            relevance: ColumnElement[float] = literal(1.0)
        else:
            text = literal(query.text)
            matched = [text.op("<%")(Member.name), text.op("<%")(Member.company)]
            scores = [
                func.word_similarity(text, Member.name),
                0.8 * func.word_similarity(text, func.coalesce(Member.company, "")),
            ]
            if query.tsquery:
                words = func.to_tsquery(SIMPLE, query.tsquery)
                matched.append(Member.search_vector.op("@@")(words))
                scores.append(func.ts_rank_cd(Member.search_vector, words))
            matches, relevance = or_(*matched), func.greatest(*scores)
        return (
            select(Member, relevance.label("relevance"))
            .where(
                matches,
                Member.id != viewer_id,
                Member.findable_by != FindableBy.NOBODY,
                unblocked_with(viewer_id, Member.id),
            )
            .order_by(relevance.desc(), Member.id)
            .limit(max_results)
            .cte("candidates")
        )
