"""Keeps rated connections in Neo4j and answers graph queries; internal to Rapport."""
