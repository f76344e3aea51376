"""Cypher for introduction paths, mutual connections and degree of separation.

No variable-length pattern anywhere: paths are found by meeting in the middle (each
endpoint's neighbours, then the links between the two neighbourhoods), every expansion
is bounded by a cap passed as a parameter, and each query runs under the transaction
timeout. See docs/graph.md, "Paths".
"""

from typing import LiteralString

from rapport_common.strength import (
    cypher_keyed,
    cypher_link_inputs,
    cypher_rank_order,
    cypher_weaker,
)


# One endpoint's neighbourhood, inside ``SEARCH``: its strongest ``$cap`` connections, as
# compact lists [member_id, element id, allows_introductions, connections_visible_to,
# weaker rating, the endpoint's own rating of them, since_ms, degree]. Settings come
# back raw: Python applies the rule (rapport_common/domain/privacy.py). The order is by
# strength, then member id, so a capped hub keeps its strongest links and the same ones
# every time: by each link's stored rank key where ``keyed`` (rapport_common/strength.py,
# ``cypher_rank_order``), its inputs read only for the links kept. Degrees are read
# from the members kept (``degree``, kept by the projection and the importers,
# services/graph/queries.py), or counted where unknown. ``startNode(r) = m``: the
# relationship runs from the lower member id to the higher, so the endpoint's own rating
# is ``rating_low`` exactly when it is the start node. Also, for the middle step, the
# members who may stand in the middle (``$consents`` mirrors ``privacy.may_introduce`` on
# the stored settings, their defaults when unset; neither endpoint) and how many
# relationships they have in all.
def _neighbourhood(endpoint: LiteralString, other: LiteralString) -> LiteralString:
    return (
        """
CALL ("""
        + endpoint
        + """, """
        + other
        + """, keyed) {
  MATCH ("""
        + endpoint
        + """)-[r:KNOWS]-(o)
  WITH o, r
  ORDER BY """
        + cypher_rank_order("r", "keyed")
        + """ DESC, o.member_id
  LIMIT $cap
  WITH o, startNode(r) = """
        + endpoint
        + """ AS mine_is_low, """
        + cypher_link_inputs("r", "a", "b", "since_ms")
        + """
  WITH o, since_ms, """
        + cypher_weaker("a", "b")
        + """ AS rating, CASE WHEN mine_is_low THEN a ELSE b END AS own
  WITH o, since_ms, rating, own,
       CASE WHEN o.degree IS NULL THEN COUNT { (o)-[:KNOWS]-() } ELSE o.degree END AS degree,
       ("""
        + other
        + """ IS NULL OR o <> """
        + other
        + """)
       AND coalesce(o.allows_introductions, $consents.allows_introductions)
       AND coalesce(o.connections_visible_to, $consents.visible_to) IN $consents.visible AS usable
  RETURN collect([o.member_id, elementId(o), o.allows_introductions,
                  o.connections_visible_to, rating, own, since_ms, degree]) AS neighbours,
         collect(CASE WHEN usable THEN elementId(o) END) AS usable,
         sum(CASE WHEN usable THEN degree ELSE 0 END) AS reads
}"""
    )


# The whole search in one query (docs/graph.md, "Paths"): both neighbourhoods, whether
# the endpoints are directly connected (checked directly, so the cap cannot hide it),
# the target's settings [connections_visible_to, allows_introductions, reachable_by],
# and, when ``$middle`` and not directly connected, every link between the two
# neighbourhoods' usable members as [source-side element id, target-side element id,
# lowest rating, since_ms] when one side's usable members have at most ``$budget``
# relationships in all: that side is expanded, hubs included, and each relationship
# kept when its other end is a usable member of the other side. Any link between the
# two sides has an end on the expanded side, so this is every link, found by reading
# the fewest relationships any expansion could (bench/README.md, "Findings": the
# former mix of expansions and pair tests read about three times as many). ``links`` is
# null otherwise (the caller plans the middle step then, ``paths/middle.py``). The
# expansion meets the other side in a hash join (``USING JOIN``) on element ids: an
# ``IN`` on a list built in the query is scanned, a join's table is hashed.
SEARCH: LiteralString = (
    """
OPTIONAL MATCH (s:Member {member_id: $source})
OPTIONAL MATCH (t:Member {member_id: $target})
WITH s, t, """
    + cypher_keyed()
    + """ AS keyed"""
    + _neighbourhood("s", "t")
    + """
WITH s, t, keyed, neighbours AS near_source, usable AS source_usable, reads AS source_reads"""
    + _neighbourhood("t", "s")
    + """
WITH s, t, near_source, source_usable, source_reads,
     neighbours AS near_target, usable AS target_usable, reads AS target_reads,
     s IS NOT NULL AND t IS NOT NULL AND EXISTS { (s)-[:KNOWS]-(t) } AS direct
WITH *, $middle AND NOT direct AND (source_reads <= $budget OR target_reads <= $budget) AS whole,
     source_reads <= target_reads AS from_source
CALL (whole, from_source, source_usable, target_usable) {
  WITH * WHERE whole
  WITH from_source,
       CASE WHEN from_source THEN source_usable ELSE target_usable END AS a_usable,
       CASE WHEN from_source THEN target_usable ELSE source_usable END AS b_usable
  MATCH (x)-[r:KNOWS]-(y)
  USING JOIN ON y
  WHERE elementId(x) IN a_usable AND elementId(y) IN b_usable
  WITH from_source, x, y, """
    + cypher_link_inputs("r", "a", "b", "since_ms")
    + """
  WITH CASE WHEN from_source THEN [x, y] ELSE [y, x] END AS ends, a, b, since_ms
  RETURN collect([elementId(ends[0]), elementId(ends[1]), """
    + cypher_weaker("a", "b")
    + """, since_ms]) AS links
}
RETURN near_source, near_target, direct,
       [t.connections_visible_to, t.allows_introductions, t.reachable_by] AS consent,
       CASE WHEN whole THEN links END AS links
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
RETURN member_id,
       CASE WHEN m IS NULL THEN 0 WHEN m.degree IS NULL THEN COUNT { (m)-[:KNOWS]-() }
            ELSE m.degree END AS degree,
       [m.connections_visible_to, m.allows_introductions, m.reachable_by] AS consent
"""
