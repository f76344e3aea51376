"""Webhook signing secrets are stored sealed: the database holds no secret a partner
verifies with, and the operator's keys rotate without losing one."""

import asyncio
import uuid

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from rapport_common.models.webhooks import WebhookEndpoint
from rapport_common.settings import (
    DEVELOPMENT_WEBHOOK_KEY,
    AuthSettings,
    EmailInvitationSettings,
    GraphServiceSettings,
    PostgresSettings,
    Settings,
    WebhookSettings,
    get_settings,
)
from rapport_common.webhooks.reseal import reseal_all
from rapport_common.webhooks.sealing import SealingError, SecretBox, secret_box
from tests.conftest import recreate_database
from tests.factories import sign_in
from tests.test_schema import SCRATCH_DATABASE, _migrate
from tests.webhooks.conftest import register

OLD_KEY = "an-old-webhook-sealing-key-of-more-than-32-characters"
NEW_KEY = "a-new-webhook-sealing-key-of-more-than-32-characters"
BEFORE_SEALING = "f5a6b7c8d9e0"
STORED_MEMBER = text(
    "INSERT INTO members (id, email, password_hash, name, is_recruiter, networking_stance,"
    " connections_visible_to, allows_introductions) VALUES (gen_random_uuid(),"
    " 'ada@example.com', 'not-a-hash', 'Ada', false, 'closed', 'connections', true)"
    " RETURNING id"
)
BOTH_SECRETS = text("SELECT secret, previous_secret FROM webhook_endpoints")
STORED = text("SELECT secret, previous_secret FROM webhook_endpoints WHERE id = :id")


def test_a_sealed_secret_opens_with_its_key_and_with_no_other() -> None:
    secret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="
    old = SecretBox([OLD_KEY])
    sealed = old.seal(secret)
    assert secret not in sealed and sealed != old.seal(secret)  # a fresh nonce each time
    assert old.open(sealed) == secret
    assert SecretBox([NEW_KEY, OLD_KEY]).open(sealed) == secret
    with pytest.raises(SealingError, match="lacks"):
        SecretBox([NEW_KEY]).open(sealed)
    version, key_id, body = sealed.split(".")
    changed = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(SealingError, match="does not open"):
        old.open(f"{version}.{key_id}.{changed}")
    with pytest.raises(SealingError, match="not a sealed"):
        old.open(secret)


async def test_the_stored_secret_is_sealed_and_the_endpoint_reads_it_back(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    ada = await sign_in(client, "Ada")
    created = await register(client, ada, "http://127.0.0.1:9/hooks")
    endpoint_id = uuid.UUID(created["endpoint_id"])
    stored, _ = (await db_session.execute(STORED, {"id": endpoint_id})).one()
    assert stored.startswith("v1.") and created["secret"] not in stored
    endpoint = await db_session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None and endpoint.secret == created["secret"]


async def test_resealing_moves_every_secret_to_the_first_key(
    committed_client: httpx.AsyncClient,
    committed_db: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = committed_client
    ada = await sign_in(client, "Ada")
    created = await register(client, ada, "http://127.0.0.1:9/hooks")
    endpoint = f"/v1/webhooks/endpoints/{created['endpoint_id']}"
    rotated = (await client.post(f"{endpoint}/rotate-secret", headers=ada.headers)).json()
    # The operator puts a new key first and keeps the one the secrets were sealed with.
    running = [key.get_secret_value() for key in settings.webhooks.secret_keys]
    monkeypatch.setenv("RAPPORT_WEBHOOKS__SECRET_KEYS", ",".join([NEW_KEY, *running]))
    get_settings.cache_clear()
    try:
        assert await reseal_all(settings) == 1
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    async with committed_db() as session:
        params = {"id": uuid.UUID(created["endpoint_id"])}
        secret, previous = (await session.execute(STORED, params)).one()
    new_only = SecretBox([NEW_KEY])
    assert new_only.sealed_with_first_key(secret) and new_only.sealed_with_first_key(previous)
    assert new_only.open(secret) == rotated["secret"]
    assert new_only.open(previous) == created["secret"]


def test_production_refuses_a_development_or_short_sealing_key() -> None:
    def production(keys: str) -> Settings:
        return Settings(
            environment="production",
            auth=AuthSettings(jwt_secret=SecretStr("j" * 40)),
            postgres=PostgresSettings(password=SecretStr("a-real-database-password")),
            graph=GraphServiceSettings(service_token=SecretStr("t" * 40)),
            email_invitations=EmailInvitationSettings(
                address_key=SecretStr("k" * 40), link_key=SecretStr("l" * 40)
            ),
            webhooks=WebhookSettings.model_validate({"secret_keys": keys}),
        )

    with pytest.raises(ValidationError, match="RAPPORT_WEBHOOKS__SECRET_KEYS"):
        production(DEVELOPMENT_WEBHOOK_KEY)
    with pytest.raises(ValidationError, match="RAPPORT_WEBHOOKS__SECRET_KEYS"):
        production(f"{NEW_KEY},short")
    with pytest.raises(ValidationError, match="at least one key"):
        production("")
    keys = production(f"{NEW_KEY},{OLD_KEY}").webhooks.secret_keys
    assert [key.get_secret_value() for key in keys] == [NEW_KEY, OLD_KEY]


async def test_the_migration_seals_the_secrets_already_stored_and_opens_them_going_down(
    settings: Settings,
) -> None:
    """The secrets stored before sealing existed are sealed by the migration, in place."""
    secret, previous = "whsec_stored-before-sealing", "whsec_the-one-before"
    await recreate_database(settings, SCRATCH_DATABASE, create=True)
    engine = create_async_engine(settings.postgres.url(SCRATCH_DATABASE))
    try:
        await asyncio.to_thread(_migrate, settings, ("upgrade", BEFORE_SEALING))
        async with engine.begin() as connection:
            member = await connection.scalar(STORED_MEMBER)
            await connection.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, member_id, url, event_types, secret,"
                    " previous_secret) VALUES (gen_random_uuid(), :member,"
                    " 'http://127.0.0.1:9/hooks', '{connection.created}', :secret, :previous)"
                ),
                {"member": member, "secret": secret, "previous": previous},
            )
        await asyncio.to_thread(_migrate, settings, ("upgrade", "head"))
        async with engine.connect() as connection:
            sealed = (
                await connection.execute(
                    text("SELECT secret, previous_secret FROM webhook_endpoints")
                )
            ).one()
        box = secret_box(settings)
        assert [box.open(value) for value in sealed] == [secret, previous]
        assert secret not in sealed[0] and previous not in sealed[1]
        await asyncio.to_thread(_migrate, settings, ("downgrade", BEFORE_SEALING))
        await engine.dispose()  # its connections prepared the read for the sealed columns
        async with engine.connect() as connection:
            plain = (
                await connection.execute(
                    text("SELECT secret, previous_secret FROM webhook_endpoints")
                )
            ).one()
        assert tuple(plain) == (secret, previous)
    finally:
        await engine.dispose()
        await recreate_database(settings, SCRATCH_DATABASE, create=False)
