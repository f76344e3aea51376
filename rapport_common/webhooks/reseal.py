"""``python -m rapport_common.webhooks.reseal``: every stored webhook signing secret
sealed again under the first of ``webhooks.secret_keys``, so that the keys after it can
be retired (docs/operations.md, "Webhook secret keys")."""

import asyncio

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from rapport_common.db import create_engine, create_sessionmaker
from rapport_common.models.webhooks import WebhookEndpoint
from rapport_common.settings import Settings, get_settings


async def reseal_all(settings: Settings | None = None) -> int:
    """The number of endpoints whose secrets were sealed again, under the first key of
    the running configuration."""
    engine = create_engine((settings or get_settings()).postgres)
    try:
        async with create_sessionmaker(engine)() as session:
            endpoints = (await session.execute(select(WebhookEndpoint).with_for_update())).scalars()
            count = 0
            for endpoint in endpoints:
                # Loading opened them; marked written, they are sealed again on flush.
                flag_modified(endpoint, "secret")
                if endpoint.previous_secret is not None:
                    flag_modified(endpoint, "previous_secret")
                count += 1
            await session.commit()
            return count
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(f"sealed the secrets of {asyncio.run(reseal_all())} webhook endpoints again")
