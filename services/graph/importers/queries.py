"""Cypher for bulk loads: ``UNWIND $rows`` batches, MERGE on constrained keys only, so a
rerun finds what the last run wrote and overwrites it with the same values."""

from typing import LiteralString

IMPORT_MEMBERS: LiteralString = """
UNWIND $rows AS row
MERGE (m:Member {member_id: row.member_id})
SET m.name = row.name,
    m.is_recruiter = row.is_recruiter,
    m.allows_introductions = row.allows_introductions
"""

# Rows come in canonical order (low_id < high_id), so each connection is one
# relationship whichever way round the file lists it. Imported connections carry no
# outbox sequences: the projection reads that as sequence 0, older than any event.
# Times travel as epoch milliseconds: the Python driver packs a datetime parameter
# several times slower than an integer, which made it the bottleneck of a load.
IMPORT_CONNECTIONS: LiteralString = """
UNWIND $rows AS row
MERGE (low:Member {member_id: row.low_id})
MERGE (high:Member {member_id: row.high_id})
MERGE (low)-[r:KNOWS]->(high)
SET r.rating_low = row.rating_low,
    r.rating_high = row.rating_high,
    r.how_we_met = row.how_we_met,
    r.created_at = datetime({epochMillis: row.created_ms}),
    r.last_interaction_at = CASE WHEN row.last_interaction_ms IS NOT NULL
                                 THEN datetime({epochMillis: row.last_interaction_ms}) END
"""

COUNT_GRAPH: LiteralString = """
CALL () { MATCH (m:Member) RETURN count(m) AS members }
CALL () { MATCH ()-[r:KNOWS]->() RETURN count(r) AS connections }
RETURN members, connections
"""

# Batched, so wiping millions of nodes never needs them all in one transaction.
WIPE: LiteralString = """
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""
