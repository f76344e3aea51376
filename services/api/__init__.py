"""The public HTTP API; PostgreSQL is its system of record."""
