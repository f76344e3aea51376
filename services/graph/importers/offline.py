"""The initial load of a large network, offline: the input converted into the CSV files
of ``neo4j-admin database import full``, which writes the store files of a *stopped*
database directly (about 3x the online importer's rate; docs/graph.md, "Offline
import"). It replaces that database, so it is for a first load only.

The graph it writes is the online importer's (``network.py``): ``Member`` nodes with
``member_id``, ``name``, ``is_recruiter`` and ``allows_introductions`` (a member named
only by a connection gets a bare node with its ``member_id``), one ``KNOWS`` per pair
from the lower ``member_id`` to the higher with ``rating_low``, ``rating_high`` (absent
when unrated), ``how_we_met``, ``created_at`` and ``last_interaction_at`` (absent when
none) as UTC datetimes to the millisecond. A member or pair listed twice keeps its last
row. The constraints (``services.graph.queries.SCHEMA``) are created once Neo4j runs
again (``rapport graph schema``; ``stack.sh import-offline`` does all of it).
"""

import asyncio
import csv
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import LiteralString, TextIO

from rapport_common.settings import StrengthSettings, get_settings
from rapport_common.strength import rank_key, rank_parameters
from services.graph import queries as schema
from services.graph.database import Graph
from services.graph.importers import ldbc, plain_csv
from services.graph.importers.plain_csv import ImportFormatError
from services.graph.importers.writer import Loaded, Row

# The jars `make install` resolves (deploy/local/neo4j); a Neo4j server installation
# has the same tool as its `neo4j-admin` script (``--neo4j-admin``).
LOCAL_JARS = Path(__file__).resolve().parents[3] / "deploy" / "local" / "neo4j" / "target" / "lib"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
DATABASE = "neo4j"
# The tool keeps its id maps and caches off the heap; by default it takes 90% of the
# machine's free memory, too much on a machine the stores and services share.
ADMIN_HEAP = os.environ.get("NEO4J_ADMIN_HEAP", "1g")
ADMIN_OFF_HEAP = os.environ.get("NEO4J_ADMIN_OFF_HEAP", "2g")

MEMBER_HEADER = "member_id:ID(Member),name,is_recruiter:boolean,allows_introductions:boolean\n"
BARE_MEMBER_HEADER = "member_id:ID(Member)\n"
KNOWS_HEADER = (
    ":START_ID(Member),:END_ID(Member),rating_low:long,rating_high:long,how_we_met,"
    "created_at:datetime,last_interaction_at:datetime,since_ms:long,rank_key:double\n"
)
RANK_MODEL_HEADER = "half_life_ms:double,unrated:long\n"
RATINGS = frozenset(str(rating) for rating in range(1, 11))
SECONDS_OR_MS = (19, 23)  # "2026-01-01T00:00:00" and "2026-01-01T00:00:00.000"

# A connection as the admin tool reads it: [low_id, high_id, rating_low, rating_high,
# how_we_met, created_at, last_interaction_at, since_ms, rank_key], every value text (""
# for none); the last two as the online importer derives them (rapport_common/strength.py,
# "The rank key"), of the model in the settings.
TextRow = list[str]


@dataclass(frozen=True)
class AdminFiles:
    folder: Path
    members: int
    bare_members: int
    connections: int  # distinct pairs
    rows: int  # connection rows read
    multiline: bool  # a name spans lines: the tool must be told (it is slower then)
    seconds: float


def _iso(epoch_ms: int) -> str:
    return (plain_csv.AWARE_EPOCH + timedelta(milliseconds=epoch_ms)).isoformat(
        timespec="milliseconds"
    )


def _admin_time(value: str) -> tuple[str, int]:
    """The plain format's time as the admin tool reads it, the same instant the online
    importer stores (without an offset it is UTC, and it is kept to the millisecond),
    and as epoch milliseconds."""
    moment = datetime.fromisoformat(value)  # also the check the online importer makes
    epoch = plain_csv.NAIVE_EPOCH if moment.tzinfo is None else plain_csv.AWARE_EPOCH
    epoch_ms = (moment - epoch) // plain_csv.ONE_MS
    if moment.tzinfo is None and len(value) in SECONDS_OR_MS and value[10] == "T":
        return value + "Z", epoch_ms  # the generator's form: no arithmetic needed
    return _iso(epoch_ms), epoch_ms


def _rating(value: str) -> str:
    if not value or value in RATINGS:
        return value
    rating = plain_csv._rating(value)
    return "" if rating is None else str(rating)


def _derived(
    strength: StrengthSettings, rating_low: str, rating_high: str, since_ms: int
) -> list[str]:
    """``since_ms`` and ``rank_key`` as text (``repr`` gives the double back exactly)."""
    low = int(rating_low) if rating_low else None
    high = int(rating_high) if rating_high else None
    return [str(since_ms), repr(rank_key(strength, low, high, since_ms))]


def _text_connection(values: list[str], strength: StrengthSettings) -> TextRow:
    """``plain_csv._connection``'s checks, in its order, giving text for the tool."""
    member_id, other_id, member_rating, other_rating, how_we_met, connected, last = values
    member, other = plain_csv._uuid(member_id), plain_csv._uuid(other_id)
    if member == other:
        raise ValueError("a member cannot be connected to themselves")
    if how_we_met not in plain_csv.HOW_WE_MET:
        raise ValueError(f"how_we_met is one of {', '.join(sorted(plain_csv.HOW_WE_MET))}")
    if not connected:
        raise ValueError("connected_at is required")
    created, since_ms = _admin_time(connected)
    ratings = (_rating(member_rating), _rating(other_rating))
    last_text = ""
    if last:
        last_text, since_ms = _admin_time(last)
    if member > other:
        member, other, ratings = other, member, (ratings[1], ratings[0])
    derived = _derived(strength, ratings[0], ratings[1], since_ms)
    return [member, other, ratings[0], ratings[1], how_we_met, created, last_text, *derived]


def csv_connections(path: Path) -> Iterator[TextRow]:
    strength = get_settings().strength
    for line, values in plain_csv._records(path, plain_csv.CONNECTION_COLUMNS):
        try:
            yield _text_connection(values, strength)
        except ValueError as exc:
            raise ImportFormatError(f"{path}:{line}: {exc}") from exc


def as_text(rows: Iterable[Row]) -> Iterator[TextRow]:
    """Connections in the online importer's layout (``network.py``) as text."""
    strength = get_settings().strength
    for low, high, rating_low, rating_high, how_we_met, created_ms, last_ms in rows:
        since_ms = created_ms if last_ms is None else last_ms
        yield [
            low,
            high,
            "" if rating_low is None else str(rating_low),
            "" if rating_high is None else str(rating_high),
            how_we_met,
            _iso(created_ms),
            "" if last_ms is None else _iso(last_ms),
            str(since_ms),
            repr(rank_key(strength, rating_low, rating_high, since_ms)),
        ]


def _write_knows(handle: TextIO, rows: Iterable[TextRow], repeated: set[int] | None) -> int:
    """Writes the first row of each pair and returns how many pairs; with ``repeated``
    (hashes of pairs listed more than once), those pairs' last rows instead."""
    handle.write(KNOWS_HEADER)
    seen: set[int] = set()
    last: dict[tuple[str, str], TextRow] = {}
    written = 0
    lines: list[str] = []
    for row in rows:
        key = hash((row[0], row[1]))
        if repeated is None:
            if key in seen:
                last[(row[0], row[1])] = row  # only noted: a second pass rewrites the file
                continue
            seen.add(key)
        elif key in repeated:
            last[(row[0], row[1])] = row
            continue
        lines.append(",".join(row) + "\n")
        if len(lines) >= 10_000:
            handle.writelines(lines)
            written += len(lines)
            lines.clear()
    if repeated is not None:
        lines += [",".join(row) + "\n" for row in last.values()]
    handle.writelines(lines)
    written += len(lines)
    if repeated is None and last:
        raise _Repeats({hash(pair) for pair in last})
    return written


class _Repeats(Exception):
    def __init__(self, hashes: set[int]) -> None:
        self.hashes = hashes


def write_admin_files(
    members: Iterable[Row], connections: Callable[[], Iterable[TextRow]], folder: Path
) -> AdminFiles:
    """``members.csv``, ``bare_members.csv`` and ``knows.csv`` in ``folder``.
    ``connections`` is called again, for a second pass, only when a pair is listed twice
    (the tool would write two relationships; the last row must win, as online)."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, Row] = {}
    for member in members:
        rows[member[0]] = member  # the last row of a member wins, as MERGE + SET does
    multiline = any("\n" in row[1] or "\r" in row[1] for row in rows.values())
    with (folder / "members.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(MEMBER_HEADER)
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        # Every value quoted: an empty name is "" (an empty string, as online), never null.
        writer.writerows(
            [member_id, name, str(recruiter).lower(), str(allows).lower()]
            for member_id, name, recruiter, allows in rows.values()
        )
    known = set(rows)
    bare: set[str] = set()
    counted = [0]

    def with_bare(source: Iterable[TextRow]) -> Iterator[TextRow]:
        counted[0] = 0
        for row in source:
            counted[0] += 1
            for end in row[:2]:
                if end not in known:
                    bare.add(end)
            yield row

    path = folder / "knows.csv"
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            pairs = _write_knows(handle, with_bare(connections()), None)
    except _Repeats as repeats:
        with path.open("w", encoding="utf-8", newline="") as handle:
            pairs = _write_knows(handle, with_bare(connections()), repeats.hashes)
    with (folder / "bare_members.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(BARE_MEMBER_HEADER)
        handle.writelines(f"{member_id}\n" for member_id in sorted(bare))
    # The model of the connections' rank keys, as the online importer records it.
    rank = rank_parameters(get_settings().strength)
    with (folder / "rank_model.csv").open("w", encoding="utf-8", newline="") as handle:
        handle.write(RANK_MODEL_HEADER + f"{rank['half_life_ms']!r},{rank['unrated']}\n")
    seconds = time.perf_counter() - started
    return AdminFiles(folder, len(rows), len(bare), pairs, counted[0], multiline, seconds)


def admin_command(
    files: AdminFiles, neo4j_admin: list[str] | None = None, database: str = DATABASE
) -> list[str]:
    tool = neo4j_admin or [
        "java",
        f"-Xmx{ADMIN_HEAP}",
        "-cp",
        f"{LOCAL_JARS}/*",
        ADMIN_TOOL,
    ]
    return [
        *tool,
        "database",
        "import",
        "full",
        database,  # first: the file options take every argument up to the next option
        "--overwrite-destination=true",
        f"--max-off-heap-memory={ADMIN_OFF_HEAP}",
        f"--report-file={files.folder / 'import.report'}",
        f"--nodes=Member={files.folder / 'members.csv'}",
        f"--nodes=Member={files.folder / 'bare_members.csv'}",
        f"--nodes=RankModel={files.folder / 'rank_model.csv'}",
        f"--relationships=KNOWS={files.folder / 'knows.csv'}",
        *(["--multiline-fields=true"] if files.multiline else []),
    ]


class AdminImportFailed(RuntimeError):
    """neo4j-admin refused or failed; the message carries the end of its output."""


def admin_import(
    files: AdminFiles,
    neo4j_home: Path,
    neo4j_admin: list[str] | None = None,
    database: str = DATABASE,
) -> float:
    """Runs the tool against the database under ``neo4j_home`` (which must be stopped:
    the tool takes the store's lock, and fails while Neo4j holds it). Returns seconds."""
    started = time.perf_counter()
    log = files.folder / "neo4j-admin.log"
    with log.open("wb") as output:
        finished = subprocess.run(  # noqa: S603 (our own arguments, no shell)
            admin_command(files, neo4j_admin, database),
            env={**os.environ, "NEO4J_HOME": str(neo4j_home.resolve())},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if finished.returncode != 0:
        tail = log.read_text(errors="replace")[-2_000:]
        raise AdminImportFailed(
            f"neo4j-admin database import failed (exit {finished.returncode}); is Neo4j "
            f"for {neo4j_home} stopped? The end of its output:\n{tail}"
        )
    return time.perf_counter() - started


# Run between the conversion and the tool: stops Neo4j, so that it serves the old graph
# while the input is converted (137 s of the downtime at a million members).
BeforeAdmin = Callable[[], None]


def _import(
    members: Iterable[Row],
    connections: Callable[[], Iterable[TextRow]],
    neo4j_home: Path,
    neo4j_admin: list[str] | None,
    staging: Path | None,
    before_admin: BeforeAdmin | None = None,
) -> list[Loaded]:
    with tempfile.TemporaryDirectory(prefix="rapport-offline-", dir=staging) as folder:
        files = write_admin_files(members, connections, Path(folder))
        if before_admin is not None:
            before_admin()
        seconds = admin_import(files, neo4j_home, neo4j_admin)
    return [
        Loaded("converted to neo4j-admin's files", files.rows, files.seconds),
        Loaded("members (neo4j-admin)", files.members + files.bare_members, seconds),
        Loaded("connections (neo4j-admin)", files.connections, seconds),
    ]


def import_csv_offline(
    members_csv: Path,
    connections_csv: Path,
    neo4j_home: Path,
    neo4j_admin: list[str] | None = None,
    staging: Path | None = None,
    before_admin: BeforeAdmin | None = None,
) -> list[Loaded]:
    """The plain CSV format into the stopped database under ``neo4j_home``, replacing it
    (stopped by then: ``before_admin`` may stop it once the input is converted). A format
    error stops before the database is touched."""
    return _import(
        plain_csv._members(members_csv),
        lambda: csv_connections(connections_csv),
        neo4j_home,
        neo4j_admin,
        staging,
        before_admin,
    )


def import_ldbc_offline(
    directory: Path,
    neo4j_home: Path,
    neo4j_admin: list[str] | None = None,
    staging: Path | None = None,
    before_admin: BeforeAdmin | None = None,
) -> list[Loaded]:
    """LDBC SNB files (``ldbc.py``) into the stopped database under ``neo4j_home``
    (``before_admin`` as for ``import_csv_offline``)."""
    for name in (ldbc.PERSONS, ldbc.KNOWS):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory / name} is missing (see docs/graph.md)")
    return _import(
        ldbc._persons(directory),
        lambda: as_text(ldbc._knows(directory)),
        neo4j_home,
        neo4j_admin,
        staging,
        before_admin,
    )


INDEX_STATES: LiteralString = "SHOW INDEXES YIELD name, state RETURN name, state"
SCHEMA_PATIENCE_SECONDS = 900.0


async def create_schema(graph: Graph) -> list[str]:
    """After an offline import, with Neo4j running: the constraints the online importer
    creates first, and a wait until their indexes are populated (minutes at a million
    members), so that the first reads do not scan. Returns the constraints' names."""
    # A uniqueness constraint is created with its index populated: far more than a
    # request's timeout at a million members.
    patient = Graph(
        graph.driver,
        graph.settings.model_copy(update={"query_timeout_seconds": SCHEMA_PATIENCE_SECONDS}),
        SCHEMA_PATIENCE_SECONDS,
    )
    await patient.ensure_schema(schema.SCHEMA)
    graph.schema_ready = True
    deadline = time.monotonic() + SCHEMA_PATIENCE_SECONDS
    while any(row["state"] != "ONLINE" for row in await graph.read(INDEX_STATES)):
        if time.monotonic() > deadline:
            raise TimeoutError("the constraints' indexes are still populating; see SHOW INDEXES")
        await asyncio.sleep(1.0)
    return [row["name"] for row in await graph.read("SHOW CONSTRAINTS YIELD name RETURN name")]
