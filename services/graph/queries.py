"""The schema, and the Cypher of the projection (outbox events to the graph).

Read queries live beside the domain that runs them (``connections/queries.py``,
``paths/queries.py``), bulk loads in ``importers/queries.py``.
"""

from typing import LiteralString

from rapport_common.strength import cypher_store_rank

# A uniqueness constraint behind every MERGE key: MERGE alone is not safe under
# concurrent writers, and the constraint's index also serves the lookups.
SCHEMA: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT member_id_unique IF NOT EXISTS FOR (m:Member) REQUIRE m.member_id IS UNIQUE",
    "CREATE CONSTRAINT connection_tombstone_pair_unique IF NOT EXISTS "
    "FOR (t:ConnectionTombstone) REQUIRE t.pair_key IS UNIQUE",
)

# ``event_seq`` on a Member is the outbox sequence of the last *member* event applied,
# so a replayed or out-of-order older member event changes nothing. Connection events
# MERGE member nodes but never write it, so a member first seen through a connection is
# still filled in by its own (older) member.registered. The first SET takes the node's
# write lock before the guard reads ``event_seq``: without it two concurrent member
# events could both pass the guard and the older could win.
UPSERT_MEMBER: LiteralString = """
MERGE (m:Member {member_id: $member_id})
ON CREATE SET m.degree = 0
SET m.projection_lock = true
REMOVE m.projection_lock
WITH m
WHERE coalesce(m.event_seq, -1) < $sequence
SET m.name = $name,
    m.is_recruiter = $is_recruiter,
    m.allows_introductions = $allows_introductions,
    m.connections_visible_to = $connections_visible_to,
    m.reachable_by = $reachable_by,
    m.event_seq = $sequence
RETURN m.member_id AS member_id
"""

COUNT_MEMBERS: LiteralString = "MATCH (m:Member) RETURN count(m) AS members"

GET_MEMBER: LiteralString = """
MATCH (m:Member {member_id: $member_id})
RETURN m.member_id AS member_id, m.name AS name, m.is_recruiter AS is_recruiter,
       m.allows_introductions AS allows_introductions,
       m.connections_visible_to AS connections_visible_to, m.reachable_by AS reachable_by,
       m.event_seq AS event_seq
"""

# Locks both members (lower id first, so two pair events never deadlock), then reads
# what is stored about the pair; the projection merges the event in Python and writes
# back within the same transaction.
LOCK_AND_READ_PAIR: LiteralString = """
MERGE (low:Member {member_id: $low_id})
ON CREATE SET low.degree = 0
MERGE (high:Member {member_id: $high_id})
ON CREATE SET high.degree = 0
SET low.projection_lock = true
SET high.projection_lock = true
REMOVE low.projection_lock, high.projection_lock
WITH low, high
OPTIONAL MATCH (low)-[r:KNOWS]->(high)
OPTIONAL MATCH (t:ConnectionTombstone {pair_key: $pair_key})
RETURN properties(r) AS knows, properties(t) AS tombstone
"""

# The model of the rank keys written with ``rank_parameters`` (``$half_life_ms``,
# ``$unrated``), recorded as a ``RankModel`` unless it is already: a search uses the
# stored keys only while no other model is recorded (``strength.cypher_keyed``), so a
# change of the strength settings cannot leave it sorting by keys of another model. Two
# writers racing may both record it; a duplicate is harmless.
RECORD_RANK_MODEL: LiteralString = """
CALL () {
  OPTIONAL MATCH (model:RankModel {half_life_ms: $half_life_ms, unrated: $unrated})
  WITH model LIMIT 1
  WITH model WHERE model IS NULL
  CREATE (:RankModel {half_life_ms: $half_life_ms, unrated: $unrated})
}
"""

# ``degree`` on a Member is its number of KNOWS, kept by every write that adds or removes
# one, in the same transaction and under both members' write locks (the pair's events
# hold them; a SET whose value reads the property takes the lock before reading), so it
# stays exact under concurrent events. Absent means unknown (a member loaded by an
# importer before ``FILL_DEGREES``, or a graph from before degrees were kept): null + 1
# stays null, and a reader counts the relationships instead. The path search reads it
# (paths/queries.py) rather than walking each neighbour's relationships.
#
# ``since_ms`` and ``rank_key`` are derived from the relationship's other properties
# (rapport_common/strength.py, "The rank key"), so they are written from them in the same
# statement, which also records their model (``RECORD_RANK_MODEL``).
SAVE_KNOWS: LiteralString = (
    """
MATCH (low:Member {member_id: $low_id}), (high:Member {member_id: $high_id})
MERGE (low)-[r:KNOWS]->(high)
ON CREATE SET low.degree = low.degree + 1, high.degree = high.degree + 1
SET r = $properties
SET """
    + cypher_store_rank("r")
    + """
WITH count(*) AS saved"""
    + RECORD_RANK_MODEL
)

DELETE_KNOWS: LiteralString = """
MATCH (low:Member {member_id: $low_id})-[r:KNOWS]->(high:Member {member_id: $high_id})
DELETE r
SET low.degree = low.degree - 1, high.degree = high.degree - 1
"""

SAVE_TOMBSTONE: LiteralString = """
MERGE (t:ConnectionTombstone {pair_key: $pair_key})
SET t = $properties
"""

DELETE_TOMBSTONE: LiteralString = """
MATCH (t:ConnectionTombstone {pair_key: $pair_key})
DELETE t
"""

# A deleted account: the member, every relationship (links and their ratings) and every
# tombstone of a pair they were in. Matching nothing is fine: deleting twice, or a member
# the graph never saw, is the same no-op.
DELETE_MEMBER: LiteralString = """
OPTIONAL MATCH (m:Member {member_id: $member_id})
CALL (m) {
  MATCH (m)-[:KNOWS]-(other)
  SET other.degree = other.degree - 1
}
DETACH DELETE m
WITH count(*) AS done
MATCH (t:ConnectionTombstone)
WHERE t.low_id = $member_id OR t.high_id = $member_id
DELETE t
"""

# Fills in ``degree`` where it is unknown, for up to ``$limit`` members after ``$after``
# in member_id order (keyset pages on the constraint's index): after an import, an
# offline import (``rapport graph schema``), and at the service's start for a graph from
# before degrees were kept. Each member's write lock is taken before its relationships
# are counted, so a connection the projection adds or removes meanwhile is either
# counted here or applied to the stored value after, never both or neither.
FILL_DEGREES: LiteralString = """
MATCH (m:Member) WHERE m.member_id > $after
WITH m ORDER BY m.member_id LIMIT $limit
CALL (m) {
  WITH m WHERE m.degree IS NULL
  SET m.projection_lock = true
  REMOVE m.projection_lock
  WITH m
  SET m.degree = COUNT { (m)-[:KNOWS]-() }
  RETURN count(*) AS filled
}
RETURN max(m.member_id) AS last, count(m) AS seen, sum(filled) AS filled
"""
