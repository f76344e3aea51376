"""Every Cypher statement the graph service runs, as named constants."""

from typing import LiteralString

SCHEMA: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT member_id_unique IF NOT EXISTS FOR (m:Member) REQUIRE m.member_id IS UNIQUE",
)

# ``event_seq`` is the outbox sequence of the last event applied to a node, so a
# replayed or out-of-order older event changes nothing.
UPSERT_MEMBER: LiteralString = """
MERGE (m:Member {member_id: $member_id})
WITH m
WHERE coalesce(m.event_seq, -1) < $sequence
SET m.name = $name,
    m.is_recruiter = $is_recruiter,
    m.allows_introductions = $allows_introductions,
    m.event_seq = $sequence
RETURN m.member_id AS member_id
"""

COUNT_MEMBERS: LiteralString = "MATCH (m:Member) RETURN count(m) AS members"

GET_MEMBER: LiteralString = """
MATCH (m:Member {member_id: $member_id})
RETURN m.member_id AS member_id, m.name AS name, m.is_recruiter AS is_recruiter,
       m.allows_introductions AS allows_introductions, m.event_seq AS event_seq
"""
