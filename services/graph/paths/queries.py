"""Cypher for introduction paths, mutual connections and degree of separation.

No variable-length pattern anywhere: paths are found by meeting in the middle (each
endpoint's neighbours, then the links between the two neighbourhoods), every expansion
is bounded by a cap passed as a parameter, and each query runs under the transaction
timeout. See docs/graph.md, "Paths".
"""

from typing import LiteralString

from rapport_common.strength import cypher_link_inputs, cypher_rank, cypher_weaker

# One endpoint's strongest ``$cap`` connections, as compact lists [member_id, element id,
# allows_introductions, connections_visible_to, weaker rating, the endpoint's own rating
# of them, since_ms, degree], plus whether it is connected to ``$other_id`` at all
# (checked directly, so the cap cannot hide it) and its own privacy settings
# [connections_visible_to, allows_introductions, reachable_by]. Settings come back raw:
# Python applies the rule (rapport_common/domain/privacy.py). The order is by strength
# (rapport_common/strength.py), then member id, so a capped hub keeps its strongest links
# and the same ones every time; degrees are only counted for the members kept.
# ``startNode(r) = m``: the relationship runs from the lower member id to the higher, so
# the endpoint's own rating is ``rating_low`` exactly when it is the start node.
NEIGHBOURHOOD: LiteralString = (
    """
MATCH (m:Member {member_id: $member_id})
CALL (m) {
  MATCH (m)-[r:KNOWS]-(o)
  WITH o, startNode(r) = m AS mine_is_low, """
    + cypher_link_inputs("r", "a", "b", "since_ms")
    + """
  WITH o, since_ms, """
    + cypher_weaker("a", "b")
    + """ AS rating, CASE WHEN mine_is_low THEN a ELSE b END AS own
  ORDER BY """
    + cypher_rank("rating", "since_ms")
    + """ DESC, o.member_id
  LIMIT $cap
  RETURN collect([o.member_id, elementId(o), o.allows_introductions,
                  o.connections_visible_to, rating, own, since_ms,
                  COUNT { (o)-[:KNOWS]-() }]) AS neighbours
}
RETURN neighbours, EXISTS { (m)-[:KNOWS]-(:Member {member_id: $other_id}) } AS direct,
       [m.connections_visible_to, m.allows_introductions, m.reachable_by] AS consent
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
# Expand(Into), which walks the smaller side. ``$cap`` bounds the neighbours scanned,
# the same ones every time (by member id). As [member_id, allows_introductions,
# connections_visible_to, weaker rating with start, since_ms, weaker rating with other,
# since_ms, start's own rating of them, other's own rating of them].
MUTUALS: LiteralString = (
    """
MATCH (s:Member {member_id: $start})
CALL (s) {
  MATCH (s)-[r:KNOWS]-(x)
  RETURN x, r
  ORDER BY x.member_id
  LIMIT $cap
}
MATCH (x)-[q:KNOWS]-(o:Member {member_id: $other})
WITH x, startNode(r) = s AS start_is_low, startNode(q) = o AS other_is_low, """
    + cypher_link_inputs("r", "a", "b", "start_since_ms")
    + """,
     """
    + cypher_link_inputs("q", "c", "d", "other_since_ms")
    + """
RETURN collect([x.member_id, x.allows_introductions, x.connections_visible_to, """
    + cypher_weaker("a", "b")
    + """, start_since_ms, """
    + cypher_weaker("c", "d")
    + """, other_since_ms,
                CASE WHEN start_is_low THEN a ELSE b END,
                CASE WHEN other_is_low THEN c ELSE d END]) AS mutuals
"""
)

# Each member's number of connections and privacy settings (null when unknown).
DEGREES: LiteralString = """
UNWIND $member_ids AS member_id
OPTIONAL MATCH (m:Member {member_id: member_id})
RETURN member_id, CASE WHEN m IS NULL THEN 0 ELSE COUNT { (m)-[:KNOWS]-() } END AS degree,
       [m.connections_visible_to, m.allows_introductions, m.reachable_by] AS consent
"""
