"""Member search: one statement that finds, ranks and places members by closeness
(docs/search.md).

Closeness follows the privacy rule (rapport_common/domain/privacy.py) through the sets
of stored settings it gives, so this SQL never restates the rule: a member is 2nd degree
through a connection of mine who may introduce, if their settings let a 2-hop way to
them be seen, and 3rd degree likewise through two such members.

It is computed with sets, once per query: my connections who may introduce (``via1``),
their connections (``second``), those of them next to a candidate who may introduce
(``via2``); then each candidate's own connections are looked up in those sets. A correlated test per
candidate made PostgreSQL hash the connections of every member of ``second`` instead."""

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
    TextClause,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rapport_common.domain import privacy
from rapport_common.models.connections import Connection
from rapport_common.models.enums import FindableBy
from rapport_common.models.members import Member
from rapport_common.repositories.blocks import unblocked_with

MemberId = ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID]
# Past any degree, so strangers sort after 3rd-degree members.
STRANGER = 4
SIMPLE: ColumnElement[str] = literal_column("'simple'::regconfig")
# The most matches of each kind (the words; a similar name or company) a query scores,
# taken as the indexes find them: scoring every match of a broad query (a first name, a
# company: tens of thousands at a million members) grew with the network. Of those the
# ``max_results`` most relevant are ranked by closeness.
SCANNED_MATCHES = 2_500
# For the statement's transaction: the matches are read through the text indexes (with a
# LIMIT, the planner would otherwise scan the whole table for a common word), and not
# compiled to machine code (at a million members the plan's cost passes jit_above_cost,
# and compiling took longer than running it).
PLANNER: TextClause = text(
    "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"
)


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


def _introducing_visibility() -> list[str]:
    return sorted(privacy.introducing_visibilities())


def _neighbours(ids: CTE, name: str) -> CTE:
    """(member of ``ids``, one of their connections), for every connection."""
    return union_all(
        select(ids.c.id.label("member"), Connection.member_high_id.label("other")).join(
            Connection, Connection.member_low_id == ids.c.id
        ),
        select(ids.c.id, Connection.member_low_id).join(
            Connection, Connection.member_high_id == ids.c.id
        ),
    ).cte(name)


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
        scanned: int = SCANNED_MATCHES,
    ) -> Sequence[Hit]:
        """One page (``limit + 1`` hits) of the ``max_results`` best matches the viewer
        may find (of at most ``scanned`` of each kind), by relevance rounded to two
        places, then closeness, then member id."""
        placed = self._placed(viewer_id, query, max_results, scanned)
        closeness = func.coalesce(placed.c.degree, STRANGER)
        page = (
            select(Member, placed.c.relevance, placed.c.degree)
            .join(placed, Member.id == placed.c.id)
            .where(or_(placed.c.findable_by == FindableBy.EVERYONE, placed.c.degree.is_not(None)))
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
                        placed.c.id > member_id,
                    ),
                )
            )
        page = page.order_by(placed.c.relevance.desc(), closeness, placed.c.id).limit(limit + 1)
        await self.session.execute(PLANNER)
        rows = await self.session.execute(page)
        return [Hit(row[0], row[1], row[2]) for row in rows.all()]

    def _placed(
        self, viewer_id: uuid.UUID, query: SearchQuery, max_results: int, scanned: int
    ) -> CTE:
        """Each candidate with its rounded relevance and its degree (null: no way the
        viewer may see), computed once."""
        first = union(
            select(Connection.member_high_id.label("id")).where(
                Connection.member_low_id == viewer_id
            ),
            select(Connection.member_low_id.label("id")).where(
                Connection.member_high_id == viewer_id
            ),
        ).cte("first")
        via1 = self._introducing(viewer_id, select(first.c.id), "via1")
        second = select(_neighbours(via1, "via1_links").c.other.label("id")).cte("second")
        candidates = self._candidates(viewer_id, query, max_results, scanned)
        links = _neighbours(candidates, "candidate_links")
        # Only the members of ``second`` next to a candidate can make one 3rd degree, so
        # only they are looked up (``second`` is thousands, tens of thousands for a hub).
        middle = select(links.c.other).where(links.c.other.in_(select(second.c.id)))
        via2 = self._introducing(viewer_id, middle, "via2")
        ways = (
            select(
                links.c.member.label("id"),
                func.bool_or(links.c.other.in_(select(via1.c.id))).label("near"),
                func.bool_or(links.c.other.in_(select(via2.c.id))).label("far"),
            )
            .group_by(links.c.member)
            .cte("ways")
        )
        reach = candidates.c.reachable_by
        may_see = candidates.c.connections_visible_to.in_(_introducing_visibility())
        degree = case(
            (candidates.c.id.in_(select(first.c.id)), 1),
            (and_(may_see, reach.in_(sorted(privacy.reach_settings(2))), ways.c.near), 2),
            (and_(may_see, reach.in_(sorted(privacy.reach_settings(3))), ways.c.far), 3),
            else_=null(),
        )
        return (
            select(
                candidates.c.id,
                candidates.c.findable_by,
                func.round(cast(candidates.c.relevance, Numeric), 2).label("relevance"),
                cast(degree, Integer).label("degree"),
            )
            .outerjoin(ways, ways.c.id == candidates.c.id)
            .cte("placed")
            .prefix_with("MATERIALIZED")
        )

    @staticmethod
    def _introducing(viewer_id: uuid.UUID, ids: Select[tuple[uuid.UUID]], name: str) -> CTE:
        """Those of ``ids`` (never the viewer) who may stand between the viewer and
        someone else."""
        return (
            select(Member.id)
            .where(
                Member.id.in_(ids),
                Member.id != viewer_id,
                Member.allows_introductions,
                Member.connections_visible_to.in_(_introducing_visibility()),
                unblocked_with(viewer_id, Member.id),
            )
            .cte(name)
        )

    @staticmethod
    def _candidates(
        viewer_id: uuid.UUID, query: SearchQuery, max_results: int, scanned: int
    ) -> CTE:
        """The ``max_results`` most relevant matches the viewer may find, of at most
        ``scanned`` of each kind: the words, similar names or companies, an address. The
        filters come before the cut, so hidden members never use it up."""
        if query.email is not None:
            kinds = [and_(Member.email == query.email, Member.findable_by_email)]
            relevance: ColumnElement[float] = literal(1.0)
        else:
            text = literal(query.text)
            kinds = [or_(text.op("<%")(Member.name), text.op("<%")(Member.company))]
            scores = [
                func.word_similarity(text, Member.name),
                0.8 * func.word_similarity(text, func.coalesce(Member.company, "")),
            ]
            if query.tsquery:
                # First: for a full name these are the members with that name, which a
                # similar name (a typo, another first name) must not crowd out of the cut.
                words = func.to_tsquery(SIMPLE, query.tsquery)
                kinds.insert(0, Member.search_vector.op("@@")(words))
                scores.append(func.ts_rank_cd(Member.search_vector, words))
            relevance = func.greatest(*scores)
        found = union(
            *(
                select(
                    Member.id,
                    Member.findable_by,
                    Member.connections_visible_to,
                    Member.reachable_by,
                    relevance.label("relevance"),
                )
                .where(
                    kind,
                    Member.id != viewer_id,
                    Member.findable_by != FindableBy.NOBODY,
                    unblocked_with(viewer_id, Member.id),
                )
                .limit(scanned)
                for kind in kinds
            )
        ).subquery("found")
        return (
            select(found)
            .order_by(found.c.relevance.desc(), found.c.id)
            .limit(max_results)
            .cte("candidates")
        )
