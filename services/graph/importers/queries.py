"""Cypher for bulk loads: ``UNWIND $rows`` batches, one transaction each.

Rows travel as lists, not maps (Neo4j decodes them with about 10% less CPU, the driver
packs them with 40% less), in the layouts of ``network.py``:
member ``[member_id, name, is_recruiter, allows_introductions]``, connection
``[low, high, rating_low, rating_high, how_we_met, created_ms, last_interaction_ms]``
where ``low`` and ``high`` are the members' element ids. Times travel as epoch
milliseconds: the Python driver packs a datetime several times slower than an integer.
"""

from typing import LiteralString

from rapport_common.strength import cypher_store_rank

# The connections pass writes relationships without counting them, so both member
# passes mark every member they name as of unknown ``degree`` (a member the projection
# wrote has one), as the offline import leaves them; the graph service counts them
# (``network.fill_degrees``, services/graph/queries.py ``FILL_DEGREES``).

# Returns each member's element id, so the connection pass finds both ends by id
# rather than by an index seek on member_id (a third less CPU per connection).
IMPORT_MEMBERS: LiteralString = """
UNWIND $rows AS row
MERGE (m:Member {member_id: row[0]})
SET m.name = row[1],
    m.is_recruiter = row[2],
    m.allows_introductions = row[3]
REMOVE m.degree
RETURN collect([row[0], elementId(m)]) AS nodes
"""

# A member named only by a connection gets a bare node (the projection fills it in).
IMPORT_BARE_MEMBERS: LiteralString = """
UNWIND $member_ids AS member_id
MERGE (m:Member {member_id: member_id})
REMOVE m.degree
RETURN collect([member_id, elementId(m)]) AS nodes
"""

HAS_CONNECTIONS: LiteralString = "MATCH ()-[r:KNOWS]->() RETURN count(r) > 0 AS any"

# Imported connections carry no outbox sequences: the projection reads that as
# sequence 0, older than any event. ``written`` lets the caller notice an end that
# vanished since the member pass (a wipe running at the same time).
# datetime.fromepochmillis costs about 5% less than datetime({epochMillis: ...}), which
# builds a map per row; it refuses null, hence the CASE.
# ``since_ms`` and ``rank_key`` follow from the rest (``rank_parameters``; the load records
# their model first, ``network.py``).
_CONNECTION_PROPERTIES: LiteralString = (
    """
SET r.rating_low = row[2],
    r.rating_high = row[3],
    r.how_we_met = row[4],
    r.created_at = datetime.fromepochmillis(row[5]),
    r.last_interaction_at = CASE WHEN row[6] IS NOT NULL
                                 THEN datetime.fromepochmillis(row[6]) END
SET """
    + cypher_store_rank("r")
    + """
RETURN count(*) AS written
"""
)

# Both ends of each connection row, found by element id (no index seek).
_BOTH_ENDS: LiteralString = """
UNWIND $rows AS row
MATCH (low) WHERE elementId(low) = row[0]
MATCH (high) WHERE elementId(high) = row[1]
"""

# Only for pairs that cannot be linked yet (see network.py): no check for an existing
# relationship, which was the MERGE's main cost (an Expand(Into) per row).
CREATE_CONNECTIONS: LiteralString = (
    _BOTH_ENDS + "CREATE (low)-[r:KNOWS]->(high)\n" + _CONNECTION_PROPERTIES
)

# KNOWS runs from the lower member_id to the higher, so each pair has one relationship.
MERGE_CONNECTIONS: LiteralString = (
    _BOTH_ENDS + "MERGE (low)-[r:KNOWS]->(high)\n" + _CONNECTION_PROPERTIES
)

COUNT_GRAPH: LiteralString = """
CALL () { MATCH (m:Member) RETURN count(m) AS members }
CALL () { MATCH ()-[r:KNOWS]->() RETURN count(r) AS connections }
RETURN members, connections
"""

# One bounded transaction per call, repeated until nothing is left: relationships
# first, so no node deletion has a hub's thousands of relationships to detach. (A single
# CALL { ... } IN TRANSACTIONS runs inside an outer transaction that lives as long as
# the whole wipe, and the server's transaction timeout ended it on a 2.5M-connection
# graph.)
WIPE_RELATIONSHIPS: LiteralString = """
MATCH ()-[r]->()
WITH r LIMIT $limit
DELETE r
RETURN count(*) AS deleted
"""

WIPE_NODES: LiteralString = """
MATCH (n)
WITH n LIMIT $limit
DETACH DELETE n
RETURN count(*) AS deleted
"""

# Planned before a load starts (Graph.warm_up), so that a cold Neo4j does not spend the
# first batches' timeout on planning them.
WARM_UP: tuple[LiteralString, ...] = (
    IMPORT_MEMBERS,
    IMPORT_BARE_MEMBERS,
    HAS_CONNECTIONS,
    CREATE_CONNECTIONS,
    MERGE_CONNECTIONS,
)
