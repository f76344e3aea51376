"""Loads members and connections from two plain CSV files (comma-separated, UTF-8,
with a header row; docs/graph.md, "Import formats").

``members.csv``: ``member_id,name,is_recruiter,allows_introductions``; the id is a UUID,
the flags ``true``/``false`` (empty: not a recruiter, allows introductions).

``connections.csv``:
``member_id,other_member_id,member_rating,other_rating,how_we_met,connected_at,last_interaction_at``;
``member_rating`` is ``member_id``'s private 1-10 rating of ``other_member_id`` (empty:
unrated), times are ISO 8601 (without an offset: UTC; kept to the millisecond),
``last_interaction_at`` may be empty. A pair listed twice keeps its last row.
"""

import csv
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

from rapport_common.events import HowWeMet
from services.graph.database import Graph
from services.graph.importers import queries
from services.graph.importers.writer import BATCH_SIZE, Loaded, write_batches
from services.graph.strength import epoch_ms

MEMBER_COLUMNS = ("member_id", "name", "is_recruiter", "allows_introductions")
CONNECTION_COLUMNS = (
    "member_id",
    "other_member_id",
    "member_rating",
    "other_rating",
    "how_we_met",
    "connected_at",
    "last_interaction_at",
)
HOW_WE_MET = frozenset(get_args(HowWeMet))


class ImportFormatError(ValueError):
    """A row that does not follow the format; names the file and line."""


def _records(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise ImportFormatError(f"{path}: missing columns {', '.join(sorted(missing))}")
        for record in reader:
            yield reader.line_num, {k: (record[k] or "").strip() for k in columns}


def _uuid(value: str) -> str:
    return str(uuid.UUID(value))


def _flag(value: str, default: bool) -> bool:
    if not value:
        return default
    if value.lower() not in ("true", "false"):
        raise ValueError(f"expected true or false, got {value!r}")
    return value.lower() == "true"


def _rating(value: str) -> int | None:
    if not value:
        return None
    rating = int(value)
    if not 1 <= rating <= 10:
        raise ValueError(f"a rating is 1-10, got {rating}")
    return rating


def _epoch_ms(value: str) -> int | None:
    return epoch_ms(datetime.fromisoformat(value)) if value else None


def _members(path: Path) -> Iterator[dict[str, Any]]:
    for line, record in _records(path, MEMBER_COLUMNS):
        try:
            yield {
                "member_id": _uuid(record["member_id"]),
                "name": record["name"],
                "is_recruiter": _flag(record["is_recruiter"], False),
                "allows_introductions": _flag(record["allows_introductions"], True),
            }
        except ValueError as exc:
            raise ImportFormatError(f"{path}:{line}: {exc}") from exc


def _connection(record: dict[str, str]) -> dict[str, Any]:
    member, other = _uuid(record["member_id"]), _uuid(record["other_member_id"])
    if member == other:
        raise ValueError("a member cannot be connected to themselves")
    if record["how_we_met"] not in HOW_WE_MET:
        raise ValueError(f"how_we_met is one of {', '.join(sorted(HOW_WE_MET))}")
    connected_ms = _epoch_ms(record["connected_at"])
    if connected_ms is None:
        raise ValueError("connected_at is required")
    ratings = (_rating(record["member_rating"]), _rating(record["other_rating"]))
    low_first = member < other
    return {
        "low_id": member if low_first else other,
        "high_id": other if low_first else member,
        "rating_low": ratings[0] if low_first else ratings[1],
        "rating_high": ratings[1] if low_first else ratings[0],
        "how_we_met": record["how_we_met"],
        "created_ms": connected_ms,
        "last_interaction_ms": _epoch_ms(record["last_interaction_at"]),
    }


def _connections(path: Path) -> Iterator[dict[str, Any]]:
    for line, record in _records(path, CONNECTION_COLUMNS):
        try:
            yield _connection(record)
        except ValueError as exc:
            raise ImportFormatError(f"{path}:{line}: {exc}") from exc


async def import_csv(
    graph: Graph, members_csv: Path, connections_csv: Path, batch_size: int = BATCH_SIZE
) -> list[Loaded]:
    """Safe to rerun: every write is a MERGE on a constrained key. A format error stops
    the load at the batch holding it; batches before it are written."""
    members = await write_batches(
        graph, queries.IMPORT_MEMBERS, "members", _members(members_csv), batch_size
    )
    connections = await write_batches(
        graph, queries.IMPORT_CONNECTIONS, "connections", _connections(connections_csv), batch_size
    )
    return [members, connections]
