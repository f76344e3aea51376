"""Alembic on asyncpg. The URL comes from the same settings the services use;
``-x database=NAME`` targets another database (the test suite uses it)."""

import asyncio
import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from rapport_common.models import metadata
from rapport_common.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = metadata


def _url() -> str:
    database = context.get_x_argument(as_dictionary=True).get("database")
    return config.attributes.get("url") or get_settings().postgres.url(database)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    settings = get_settings().postgres
    engine = create_async_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    except OSError as exc:
        sys.exit(
            f"migrations: postgres at {settings.address} is unreachable ({exc}); "
            "start it with 'make up' or fix RAPPORT_POSTGRES__* settings"
        )
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    existing = config.attributes.get("connection")
    if existing is not None:
        _run(existing)
    else:
        asyncio.run(_run_online())
