"""The migrated schema is the models' schema, down to the CHECK constraints that hold the
statuses; the latest migration goes down and up again, and so does the whole chain."""

import asyncio
import re

import httpx
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import CheckConstraint, Connection, inspect, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from rapport_common.models import metadata
from rapport_common.settings import Settings
from tests.conftest import recreate_database
from tests.factories import invitation_id, sign_in_all

SCRATCH_DATABASE = "rapport_test_migrations"
QUOTED = re.compile(r"'([^']*)'")


def _model_checks(dialect: Dialect) -> dict[tuple[str, str], set[str]]:
    """Each CHECK constraint of the models, with the values it quotes."""
    checks: dict[tuple[str, str], set[str]] = {}
    for table in metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                sql = constraint.sqltext.compile(
                    dialect=dialect, compile_kwargs={"literal_binds": True}
                )
                checks[(table.name, str(constraint.name))] = set(QUOTED.findall(str(sql)))
    return checks


def _database_checks(connection: Connection) -> dict[tuple[str, str], set[str]]:
    inspector = inspect(connection)
    return {
        (table, str(check["name"])): set(QUOTED.findall(check["sqltext"]))
        for table in inspector.get_table_names()
        for check in inspector.get_check_constraints(table)
    }


async def test_check_constraints_match_the_models(engine: AsyncEngine) -> None:
    """Alembic's comparison skips CHECK constraints, so they are compared here."""
    async with engine.connect() as connection:
        in_database = await connection.run_sync(_database_checks)
    assert in_database == _model_checks(connection.dialect)


async def test_a_status_outside_its_enum_is_refused(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada, bob = await sign_in_all(client, "Ada", "Bob")
    invitation = await invitation_id(client, ada, bob)
    with pytest.raises(IntegrityError, match="ck_invitations_status"):
        async with db_session.begin_nested():
            await db_session.execute(
                text("UPDATE invitations SET status = 'lost' WHERE id = :id"),
                {"id": invitation},
            )


def _migrate(settings: Settings, *steps: tuple[str, str]) -> None:
    config = Config("alembic.ini")
    config.attributes["url"] = settings.postgres.url(SCRATCH_DATABASE)
    config.attributes["configure_logger"] = False
    for direction, revision in steps:
        getattr(command, direction)(config, revision)


async def test_the_latest_migration_goes_down_and_up_again(settings: Settings) -> None:
    await recreate_database(settings, SCRATCH_DATABASE, create=True)
    try:
        await asyncio.to_thread(
            _migrate, settings, ("upgrade", "head"), ("downgrade", "-1"), ("upgrade", "head")
        )
    finally:
        await recreate_database(settings, SCRATCH_DATABASE, create=False)


def _leftovers(connection: Connection) -> dict[str, list[str]]:
    """What a fully downgraded database still holds besides Alembic's own table."""
    inspector = inspect(connection)
    types = connection.execute(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')"
            " AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)"
        )
    ).scalars()
    return {
        "tables": [name for name in inspector.get_table_names() if name != "alembic_version"],
        "types": sorted(types),
    }


async def test_every_migration_goes_down_to_base_and_up_again(settings: Settings) -> None:
    """An operator rolling a database all the way back must be able to roll it forward."""
    await recreate_database(settings, SCRATCH_DATABASE, create=True)
    try:
        await asyncio.to_thread(_migrate, settings, ("upgrade", "head"), ("downgrade", "base"))
        engine = create_async_engine(settings.postgres.url(SCRATCH_DATABASE))
        try:
            async with engine.connect() as connection:
                assert await connection.run_sync(_leftovers) == {"tables": [], "types": []}
        finally:
            await engine.dispose()
        await asyncio.to_thread(_migrate, settings, ("upgrade", "head"))
    finally:
        await recreate_database(settings, SCRATCH_DATABASE, create=False)
