"""Cypher for one member's own connections: the list, one connection, network health.

Rows come back as one collected list of lists, and times as epoch milliseconds: the
Python driver decodes a single list several times faster than as many records, and an
integer much faster than a DateTime, which matters for members with thousands of
connections.
"""

from typing import LiteralString

from rapport_common.strength import cypher_link_inputs, cypher_rank, cypher_weaker

# Each connection as [other member_id, my rating, their rating, how_we_met,
# connected_ms, last_interaction_ms]. ``startNode(r) = m``: the relationship runs from
# the lower member id to the higher, so the member's own rating is ``rating_low``
# exactly when they are its start node. The other side's rating is used for strength
# only; the service never returns it. Ordered by strength (rapport_common/strength.py)
# so ``$limit`` keeps the strongest.
MEMBER_CONNECTIONS: LiteralString = (
    """
MATCH (m:Member {member_id: $member_id})-[r:KNOWS]-(o:Member)
WITH o, r, startNode(r) = m AS mine_is_low,
     """
    + cypher_link_inputs("r", "a", "b", "since_ms")
    + """
ORDER BY """
    + cypher_rank(cypher_weaker("a", "b"), "since_ms")
    + """ DESC
LIMIT $limit
RETURN collect([o.member_id,
                CASE WHEN mine_is_low THEN r.rating_low ELSE r.rating_high END,
                CASE WHEN mine_is_low THEN r.rating_high ELSE r.rating_low END,
                r.how_we_met,
                r.created_at.epochMillis,
                r.last_interaction_at.epochMillis]) AS connections
"""
)

ONE_CONNECTION: LiteralString = """
MATCH (m:Member {member_id: $member_id})-[r:KNOWS]-(o:Member {member_id: $other_id})
WITH o, r, startNode(r) = m AS mine_is_low
RETURN collect([o.member_id,
                CASE WHEN mine_is_low THEN r.rating_low ELSE r.rating_high END,
                CASE WHEN mine_is_low THEN r.rating_high ELSE r.rating_low END,
                r.how_we_met,
                r.created_at.epochMillis,
                r.last_interaction_at.epochMillis]) AS connections
"""

# Every connection of one member (bounded by that member's degree and the transaction
# timeout), as [other member_id, my rating, how_we_met, since_ms].
HEALTH_ROWS: LiteralString = """
MATCH (m:Member {member_id: $member_id})-[r:KNOWS]-(o:Member)
RETURN collect([o.member_id,
                CASE WHEN startNode(r) = m THEN r.rating_low ELSE r.rating_high END,
                r.how_we_met,
                coalesce(r.last_interaction_at, r.created_at).epochMillis]) AS connections
"""
