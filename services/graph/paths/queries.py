"""Cypher for introduction paths, mutual connections and degree of separation.

No variable-length pattern anywhere: paths are found by meeting in the middle (each
endpoint's neighbours, then the links between the two neighbourhoods), every expansion
is bounded by a cap passed as a parameter, and each query runs under the transaction
timeout. See docs/graph.md, "Paths".
"""

from typing import LiteralString

from rapport_common.strength import cypher_link_inputs, cypher_rank, cypher_weaker


# One endpoint's neighbourhood, inside ``SEARCH``: its strongest ``$cap`` connections, as
# compact lists [member_id, element id, allows_introductions, connections_visible_to,
# weaker rating, the endpoint's own rating of them, since_ms, degree]. Settings come
# back raw: Python applies the rule (rapport_common/domain/privacy.py). The order is by
# strength (rapport_common/strength.py), then member id, so a capped hub keeps its
# strongest links and the same ones every time; degrees are only counted for the
# members kept. ``startNode(r) = m``: the relationship runs from the lower member id to
# the higher, so the endpoint's own rating is ``rating_low`` exactly when it is the start
# node. Also, for the middle step, the members who may stand in the middle (``$consents``
# mirrors ``privacy.may_introduce`` on the stored settings, their defaults when unset;
# neither endpoint), split into those that may be expanded (no hub) and the hubs, and
# the relationships the expandable ones would read.
def _neighbourhood(endpoint: LiteralString, other: LiteralString) -> LiteralString:
    return (
        """
CALL ("""
        + endpoint
        + """, """
        + other
        + """) {
  MATCH ("""
        + endpoint
        + """)-[r:KNOWS]-(o)
  WITH o, startNode(r) = """
        + endpoint
        + """ AS mine_is_low, """
        + cypher_link_inputs("r", "a", "b", "since_ms")
        + """
  WITH o, since_ms, """
        + cypher_weaker("a", "b")
        + """ AS rating, CASE WHEN mine_is_low THEN a ELSE b END AS own
  ORDER BY """
        + cypher_rank("rating", "since_ms")
        + """ DESC, o.member_id
  LIMIT $cap
  WITH o, since_ms, rating, own, COUNT { (o)-[:KNOWS]-() } AS degree,
       ("""
        + other
        + """ IS NULL OR o <> """
        + other
        + """)
       AND coalesce(o.allows_introductions, $consents.allows_introductions)
       AND coalesce(o.connections_visible_to, $consents.visible_to) IN $consents.visible AS usable
  RETURN collect([o.member_id, elementId(o), o.allows_introductions,
                  o.connections_visible_to, rating, own, since_ms, degree]) AS neighbours,
         collect(CASE WHEN usable AND degree <= $hub_degree THEN o END) AS expandable,
         collect(CASE WHEN usable AND degree > $hub_degree THEN o END) AS hubs,
         collect(CASE WHEN usable THEN o END) AS usable,
         sum(CASE WHEN usable AND degree <= $hub_degree THEN degree ELSE 0 END) AS reads
}"""
    )


# The whole search in one query (docs/graph.md, "Paths"): both neighbourhoods, whether
# the endpoints are directly connected (checked directly, so the cap cannot hide it),
# the target's settings [connections_visible_to, allows_introductions, reachable_by],
# and, when ``$middle`` and not directly connected, the links between the two
# neighbourhoods as [source-side element id, target-side element id, lowest rating,
# since_ms] in the case where every link between their usable members can be read
# within the bounds: each side's expandable members read at most ``$budget``
# relationships and there are at most ``$pair_cap`` pairs of hubs. Then side ``a`` (the
# one without hubs, the one that reads less if neither has any, else the source's) is
# expanded forward to any usable member of side ``b``, ``b``'s expandable members
# backward to ``a``'s hubs, and each pair of hubs is tested with an Expand(Into): every
# link the planned query (``MIDDLE_LINKS``) could read. ``links`` is null otherwise (the
# caller plans the middle step then, ``paths/middle.py``). The expansions meet the other
# side in a hash join (``USING JOIN``): filtering each expanded relationship with ``IN``
# on a list built in the query scans the list (it is hashed only when a parameter), and
# that was half of Neo4j's CPU for a search.
SEARCH: LiteralString = (
    """
OPTIONAL MATCH (s:Member {member_id: $source})
OPTIONAL MATCH (t:Member {member_id: $target})"""
    + _neighbourhood("s", "t")
    + """
WITH s, t, neighbours AS near_source, expandable AS source_expandable,
     hubs AS source_hubs, usable AS source_usable, reads AS source_reads"""
    + _neighbourhood("t", "s")
    + """
WITH s, t, near_source, source_expandable, source_hubs, source_usable, source_reads,
     neighbours AS near_target, expandable AS target_expandable, hubs AS target_hubs,
     usable AS target_usable, reads AS target_reads,
     s IS NOT NULL AND t IS NOT NULL AND EXISTS { (s)-[:KNOWS]-(t) } AS direct
WITH *, $middle AND NOT direct AND source_reads <= $budget AND target_reads <= $budget
        AND size(source_hubs) * size(target_hubs) <= $pair_cap AS whole,
     CASE WHEN size(source_hubs) = 0 AND size(target_hubs) = 0 THEN source_reads <= target_reads
          ELSE size(source_hubs) = 0 OR size(target_hubs) > 0 END AS from_source
CALL (whole, from_source, source_expandable, source_hubs, source_usable,
      target_expandable, target_hubs, target_usable) {
  WITH * WHERE whole
  WITH CASE WHEN from_source THEN source_expandable ELSE target_expandable END AS a_expand,
       CASE WHEN from_source THEN target_usable ELSE source_usable END AS b_usable,
       CASE WHEN from_source THEN source_hubs ELSE target_hubs END AS a_hubs,
       CASE WHEN from_source THEN target_expandable ELSE source_expandable END AS b_expand,
       CASE WHEN from_source THEN target_hubs ELSE source_hubs END AS b_hubs,
       from_source
  CALL (a_expand, b_usable, a_hubs, b_expand, b_hubs) {
    MATCH (x)-[r:KNOWS]-(y)
    USING JOIN ON y
    WHERE elementId(x) IN [n IN a_expand | elementId(n)]
      AND elementId(y) IN [n IN b_usable | elementId(n)]
    RETURN x, y, r
    UNION ALL
    WITH a_hubs, b_expand WHERE size(a_hubs) > 0
    MATCH (y)-[r:KNOWS]-(x)
    USING JOIN ON x
    WHERE elementId(y) IN [n IN b_expand | elementId(n)]
      AND elementId(x) IN [n IN a_hubs | elementId(n)]
    RETURN x, y, r
    UNION ALL
    UNWIND a_hubs AS x
    UNWIND b_hubs AS y
    WITH x, y WHERE x <> y
    MATCH (x)-[r:KNOWS]-(y)
    RETURN x, y, r
  }
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
RETURN member_id, CASE WHEN m IS NULL THEN 0 ELSE COUNT { (m)-[:KNOWS]-() } END AS degree,
       [m.connections_visible_to, m.allows_introductions, m.reachable_by] AS consent
"""
