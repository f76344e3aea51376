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
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

from rapport_common.events import HowWeMet
from services.graph.database import Graph
from services.graph.importers.network import load_network
from services.graph.importers.writer import BATCH_SIZE, Loaded, Row

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
# The form ``str(uuid.UUID(...))`` gives; a match needs no parsing (5x quicker), and
# any other spelling uuid.UUID accepts is normalised to it.
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NAIVE_EPOCH = datetime(1970, 1, 1)
AWARE_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


class ImportFormatError(ValueError):
    """A row that does not follow the format; names the file and line."""


def _records(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """Each row's values in the order of ``columns``, stripped, with its line number."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        missing = set(columns) - set(header)
        if missing:
            raise ImportFormatError(f"{path}: missing columns {', '.join(sorted(missing))}")
        positions = [header.index(column) for column in columns]
        width = max(positions) + 1
        for values in reader:
            if not values:
                continue  # a blank line, as csv.DictReader skips it
            values += [""] * (width - len(values))
            yield reader.line_num, [values[at].strip() for at in positions]


def _uuid(value: str) -> str:
    return value if CANONICAL_UUID.fullmatch(value) else str(uuid.UUID(value))


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
    """Milliseconds since the epoch; a time without an offset is UTC."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return (moment - (NAIVE_EPOCH if moment.tzinfo is None else AWARE_EPOCH)) // ONE_MS


def _members(path: Path) -> Iterator[Row]:
    for line, (member_id, name, is_recruiter, allows) in _records(path, MEMBER_COLUMNS):
        try:
            yield [_uuid(member_id), name, _flag(is_recruiter, False), _flag(allows, True)]
        except ValueError as exc:
            raise ImportFormatError(f"{path}:{line}: {exc}") from exc


def _connection(values: list[str]) -> Row:
    member_id, other_id, member_rating, other_rating, how_we_met, connected, last = values
    member, other = _uuid(member_id), _uuid(other_id)
    if member == other:
        raise ValueError("a member cannot be connected to themselves")
    if how_we_met not in HOW_WE_MET:
        raise ValueError(f"how_we_met is one of {', '.join(sorted(HOW_WE_MET))}")
    connected_ms = _epoch_ms(connected)
    if connected_ms is None:
        raise ValueError("connected_at is required")
    ratings = (_rating(member_rating), _rating(other_rating))
    low, high = (member, other) if member < other else (other, member)
    rating_low, rating_high = ratings if member < other else ratings[::-1]
    return [low, high, rating_low, rating_high, how_we_met, connected_ms, _epoch_ms(last)]


def _connections(path: Path) -> Iterator[Row]:
    for line, values in _records(path, CONNECTION_COLUMNS):
        try:
            yield _connection(values)
        except ValueError as exc:
            raise ImportFormatError(f"{path}:{line}: {exc}") from exc


async def import_csv(
    graph: Graph, members_csv: Path, connections_csv: Path, batch_size: int = BATCH_SIZE
) -> list[Loaded]:
    """Safe to rerun (see ``network.load_network``). A format error stops the load at
    the batch holding it; batches before it are written."""
    return await load_network(
        graph, _members(members_csv), _connections(connections_csv), batch_size
    )
