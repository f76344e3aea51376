"""Cypher for introduction paths, mutual connections and degree of separation.

No variable-length pattern anywhere: paths are found by meeting in the middle (each
endpoint's neighbours, then the links between the two neighbourhoods), every expansion
is bounded by a cap passed as a parameter, and each query runs under the transaction
timeout. See docs/graph.md, "Paths".
"""

from typing import LiteralString

from rapport_common.strength import cypher_link_inputs, cypher_rank, cypher_weaker

# One endpoint's strongest ``$cap`` connections, as compact lists
# [member_id, element id, allows_introductions, lowest rating, since_ms, degree], plus
# whether it is connected to ``$other_id`` at all (checked directly, so the cap cannot
# hide it). The order is by strength (rapport_common/strength.py), so a capped hub
# keeps its strongest links; degrees are only counted for the members kept.
NEIGHBOURHOOD: LiteralString = (
    """
MATCH (m:Member {member_id: $member_id})
CALL (m) {
  MATCH (m)-[r:KNOWS]-(o)
  WITH o, """
    + cypher_link_inputs("r", "a", "b", "since_ms")
    + """
  WITH o, since_ms, """
    + cypher_weaker("a", "b")
    + """ AS rating
  ORDER BY """
    + cypher_rank("rating", "since_ms")
    + """ DESC
  LIMIT $cap
  RETURN collect([o.member_id, elementId(o), coalesce(o.allows_introductions, true), rating,
                  since_ms, COUNT { (o)-[:KNOWS]-() }]) AS neighbours
}
RETURN neighbours, EXISTS { (m)-[:KNOWS]-(:Member {member_id: $other_id}) } AS direct
"""
)

# The links between the two neighbourhoods, as [source-side element id, target-side
# element id, lowest rating, since_ms]. The forward branch expands ``$forward`` (some
# source-side members) and keeps links to any target-side member; the backward branch
# expands ``$backward`` (some target-side members) and keeps links to the source-side
# members that were not expanded forward (``$unexpanded``); the pairs branch tests each
# of ``$pairs`` (two unexpanded members) with an Expand(Into), which walks the smaller
# end's relationships. Members are matched by element id, which needs no property read;
# ``IN`` on a list parameter is a hashed lookup. The work is the total degree of
# ``$forward`` and ``$backward`` plus the pairs' smaller degrees, which the caller
# bounds (paths/middle.py).
MIDDLE_LINKS: LiteralString = (
    """
CALL () {
  UNWIND $forward AS from_id
  MATCH (x)-[r:KNOWS]-(y)
  WHERE elementId(x) = from_id AND elementId(y) IN $near_target
  RETURN from_id AS source_side, elementId(y) AS target_side, r
  UNION ALL
  UNWIND $backward AS from_id
  MATCH (y)-[r:KNOWS]-(x)
  WHERE elementId(y) = from_id AND elementId(x) IN $unexpanded
  RETURN elementId(x) AS source_side, from_id AS target_side, r
  UNION ALL
  UNWIND $pairs AS pair
  MATCH (x)-[r:KNOWS]-(y)
  WHERE elementId(x) = pair[0] AND elementId(y) = pair[1]
  RETURN pair[0] AS source_side, pair[1] AS target_side, r
}
WITH source_side, target_side, """
    + cypher_link_inputs("r", "a", "b", "since_ms")
    + """
RETURN collect([source_side, target_side, """
    + cypher_weaker("a", "b")
    + """, since_ms]) AS links
"""
)

# Common connections of two members, expanding from ``$start`` (the caller passes the
# one with fewer connections) and checking each neighbour against ``$other`` with an
# Expand(Into), which walks the smaller side. ``$cap`` bounds the neighbours scanned.
# As [member_id, lowest rating with start, since_ms, lowest rating with other, since_ms].
MUTUALS: LiteralString = (
    """
MATCH (s:Member {member_id: $start})
CALL (s) {
  MATCH (s)-[r:KNOWS]-(x)
  RETURN x, r
  LIMIT $cap
}
MATCH (x)-[q:KNOWS]-(o:Member {member_id: $other})
WITH x, """
    + cypher_link_inputs("r", "a", "b", "start_since_ms")
    + """,
     """
    + cypher_link_inputs("q", "c", "d", "other_since_ms")
    + """
RETURN collect([x.member_id, """
    + cypher_weaker("a", "b")
    + """, start_since_ms, """
    + cypher_weaker("c", "d")
    + """, other_since_ms]) AS mutuals
"""
)

DEGREES: LiteralString = """
UNWIND $member_ids AS member_id
OPTIONAL MATCH (m:Member {member_id: member_id})
RETURN member_id, CASE WHEN m IS NULL THEN 0 ELSE COUNT { (m)-[:KNOWS]-() } END AS degree
"""
