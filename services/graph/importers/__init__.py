"""Bulk loads into Neo4j (LDBC SNB, a plain CSV format) and the rebuild from the outbox."""
