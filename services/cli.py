"""The ``rapport`` command: bulk imports into the graph, its rebuild from the outbox, the
outbox's dead letters, and a preview of every email.

    rapport import ldbc DIR
    rapport import csv MEMBERS_CSV CONNECTIONS_CSV
    rapport import csv|ldbc ... --offline NEO4J_HOME --yes   (Neo4j stopped; a first load)
    rapport graph schema
    rapport graph rebuild
    rapport outbox dead
    rapport outbox retry EVENT_ID...
    rapport emails preview DIR

Settings come from the environment (``RAPPORT_*``), as for the services.
"""

import argparse
import asyncio
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.db import create_engine, create_sessionmaker
from rapport_common.settings import Settings, get_settings
from services.graph.database import Graph, create_driver
from services.graph.importers.ldbc import import_ldbc
from services.graph.importers.offline import (
    AdminImportFailed,
    create_schema,
    import_csv_offline,
    import_ldbc_offline,
)
from services.graph.importers.plain_csv import ImportFormatError, import_csv
from services.graph.importers.rebuild import rebuild
from services.graph.importers.writer import BATCH_SIZE
from services.notifier.dead_letters import dead_events, retry_dead
from services.notifier.notifications.samples import write_previews


async def _with_graph(settings: Settings, work: Callable[[Graph], Awaitable[object]]) -> None:
    driver = create_driver(settings.neo4j)
    try:
        await work(Graph(driver, settings.neo4j))
    finally:
        await driver.close()


def _offline(args: argparse.Namespace) -> bool:
    """With ``--offline``: refuse without ``--yes`` (the database is replaced)."""
    if args.offline is None:
        return False
    if not args.yes:
        sys.exit(
            f"rapport: an offline import replaces the database under {args.offline} (Neo4j "
            "must be stopped); run again with --yes to go ahead"
        )
    return True


def _stop_first(args: argparse.Namespace) -> Callable[[], None] | None:
    """``--stop-first``: the command that stops Neo4j, run once the input is converted."""
    command: list[str] | None = args.stop_first
    if not command:
        return None

    def stop() -> None:
        subprocess.run(command, check=True)  # noqa: S603 (the operator's own command)

    return stop


async def _import(
    settings: Settings,
    args: argparse.Namespace,
    offline: Callable[[Callable[[], None] | None], Sequence[object]],
    online: Callable[[Graph], Awaitable[Sequence[object]]],
) -> None:
    """Either import, printing what each loaded: ``offline`` (given the command that
    stops Neo4j, if any) through neo4j-admin, or ``online`` through the driver."""
    if _offline(args):
        for loaded in await asyncio.to_thread(offline, _stop_first(args)):
            print(loaded)
        return

    async def work(graph: Graph) -> None:
        for loaded in await online(graph):
            print(loaded)

    await _with_graph(settings, work)


async def _import_ldbc(settings: Settings, args: argparse.Namespace) -> None:
    await _import(
        settings,
        args,
        lambda stop: import_ldbc_offline(
            args.directory, args.offline, args.neo4j_admin, before_admin=stop
        ),
        lambda graph: import_ldbc(graph, args.directory, args.batch_size),
    )


async def _import_csv(settings: Settings, args: argparse.Namespace) -> None:
    await _import(
        settings,
        args,
        lambda stop: import_csv_offline(
            args.members, args.connections, args.offline, args.neo4j_admin, before_admin=stop
        ),
        lambda graph: import_csv(graph, args.members, args.connections, args.batch_size),
    )


async def _schema(settings: Settings, args: argparse.Namespace) -> None:
    async def work(graph: Graph) -> None:
        print(f"constraints: {', '.join(await create_schema(graph))}; their indexes are online")

    await _with_graph(settings, work)


async def _rebuild(settings: Settings, args: argparse.Namespace) -> None:
    if not args.yes:
        sys.exit(
            f"rapport: this wipes the graph at {settings.neo4j.uri} before replaying the outbox; "
            "run again with --yes to go ahead"
        )
    engine = create_engine(settings.postgres)

    async def work(graph: Graph) -> None:
        print(await rebuild(graph, create_sessionmaker(engine)))

    try:
        await _with_graph(settings, work)
    finally:
        await engine.dispose()


class NotDone(Exception):
    """What was asked cannot be done; the message says why."""


async def _with_session(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    engine = create_engine(settings.postgres)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await work(session)
    finally:
        await engine.dispose()


async def _list_dead(settings: Settings, args: argparse.Namespace) -> None:
    async def work(session: AsyncSession) -> None:
        events = await dead_events(session, args.limit)
        if not events:
            print("no dead events")
        for event in events:
            assert event.dead_at is not None
            done = ",".join(event.consumed_by) or "none"
            print(
                f"{event.id}  {event.type}  sequence {event.sequence}  "
                f"dead since {event.dead_at:%Y-%m-%d %H:%M:%S %Z}  attempts {event.attempts}  "
                f"consumers done: {done}\n    {event.last_error or 'no error recorded'}"
            )

    await _with_session(settings, work)


async def _retry_dead(settings: Settings, args: argparse.Namespace) -> None:
    async def work(session: AsyncSession) -> None:
        missing = [event for event in args.event_ids if not await retry_dead(session, event)]
        if missing:
            # Nothing is retried: the transaction rolls back.
            raise NotDone(f"not a dead outbox event: {', '.join(map(str, missing))}")
        for event_id in args.event_ids:
            print(f"{event_id} sent back to the relay")

    await _with_session(settings, work)


async def _preview(settings: Settings, args: argparse.Namespace) -> None:
    written = write_previews(args.directory)
    print(f"{len(written)} files in {args.directory}: <language>/<kind>.html and .txt")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapport",
        description="Bulk imports into the graph, its rebuild from the outbox, the "
        "outbox's dead letters, and a preview of every email.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    imports = commands.add_parser("import", help="bulk-load a network into Neo4j (rerun-safe)")
    formats = imports.add_subparsers(dest="format", required=True)
    ldbc = formats.add_parser("ldbc", help="LDBC SNB CSV files (person, person_knows_person)")
    ldbc.add_argument("directory", type=Path)
    ldbc.set_defaults(run=_import_ldbc)
    plain = formats.add_parser("csv", help="the plain CSV format of docs/graph.md")
    plain.add_argument("members", type=Path, metavar="MEMBERS_CSV")
    plain.add_argument("connections", type=Path, metavar="CONNECTIONS_CSV")
    plain.set_defaults(run=_import_csv)
    for sub in (ldbc, plain):
        sub.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per UNWIND")
        sub.add_argument(
            "--offline",
            type=Path,
            metavar="NEO4J_HOME",
            help="a first load of a large network: neo4j-admin writes the database under "
            "NEO4J_HOME, which must be stopped, replacing it; then start Neo4j and run "
            "'rapport graph schema' (stack.sh import-offline does all three)",
        )
        sub.add_argument(
            "--neo4j-admin",
            type=str.split,
            metavar="COMMAND",
            help="the neo4j-admin of a Neo4j installation (default: the jars of make install)",
        )
        sub.add_argument(
            "--stop-first",
            type=str.split,
            metavar="COMMAND",
            help="with --offline, Neo4j still running: the command that stops it, run once "
            "the input is converted (so the graph is served meanwhile)",
        )
        sub.add_argument("--yes", action="store_true", help="confirm --offline's replacement")

    graph = commands.add_parser("graph", help="maintain the graph")
    actions = graph.add_subparsers(dest="action", required=True)
    schema_parser = actions.add_parser(
        "schema", help="create the constraints (after an offline import) and wait for them"
    )
    schema_parser.set_defaults(run=_schema)
    rebuild_parser = actions.add_parser(
        "rebuild", help="wipe Neo4j and replay every outbox event from PostgreSQL"
    )
    rebuild_parser.add_argument(
        "--yes", action="store_true", help="confirm: the current graph is wiped first"
    )
    rebuild_parser.set_defaults(run=_rebuild)

    outbox = commands.add_parser("outbox", help="events the notifier gave up on")
    outbox_actions = outbox.add_subparsers(dest="action", required=True)
    dead = outbox_actions.add_parser(
        "dead", help="list dead-lettered events, with the consumers done and the last error"
    )
    dead.add_argument("--limit", type=int, default=100, help="at most this many, oldest first")
    dead.set_defaults(run=_list_dead)
    retry = outbox_actions.add_parser(
        "retry", help="send dead events back to the relay; consumers already done are skipped"
    )
    retry.add_argument("event_ids", nargs="+", type=uuid.UUID, metavar="EVENT_ID")
    retry.set_defaults(run=_retry_dead)

    emails = commands.add_parser("emails", help="the emails members get")
    email_actions = emails.add_subparsers(dest="action", required=True)
    preview = email_actions.add_parser(
        "preview",
        help="write every kind of email, with sample data, in every shipped language, "
        "as HTML and text files",
    )
    preview.add_argument("directory", type=Path, metavar="DIR")
    preview.set_defaults(run=_preview)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        asyncio.run(args.run(get_settings(), args))
    except (ImportFormatError, FileNotFoundError, NotDone, AdminImportFailed) as exc:
        sys.exit(f"rapport: {exc}")


if __name__ == "__main__":
    main()
