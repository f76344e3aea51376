"""The stores' failover settings as the environment gives them: several PostgreSQL hosts,
Redis Sentinels, and the Neo4j URI schemes (the drills in tests/drills run them)."""

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import create_async_engine

from rapport_common.settings import Settings
from services.notifier.queue import arq_redis_settings


def test_several_postgres_hosts_from_a_comma_list_reach_asyncpg_with_read_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAPPORT_POSTGRES__HOSTS", "10.0.0.1:5432, 10.0.0.2:5433")
    settings = Settings().postgres

    engine = create_async_engine(settings.url())
    _, arguments = engine.dialect.create_connect_args(engine.url)

    assert arguments["host"] == ["10.0.0.1", "10.0.0.2"]
    assert arguments["port"] == [5432, 5433]
    assert arguments["target_session_attrs"] == "read-write"
    assert settings.connect_arguments()["port"] == [5432, 5433]
    assert settings.address == "10.0.0.1:5432,10.0.0.2:5433"


def test_postgres_hosts_may_be_a_json_list_and_must_name_a_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAPPORT_POSTGRES__HOSTS", '["db-a:5432"]')
    assert Settings().postgres.servers == [("db-a", 5432)]
    monkeypatch.setenv("RAPPORT_POSTGRES__HOSTS", "db-a,db-b:5432")
    with pytest.raises(ValidationError, match="expected host:port"):
        Settings()


def test_redis_sentinels_make_the_queue_ask_them_for_the_primary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAPPORT_REDIS__SENTINELS", "s-0:26379,s-1:26379")
    monkeypatch.setenv("RAPPORT_REDIS__SENTINEL_MASTER", "queue")

    arq = arq_redis_settings(Settings().redis)

    assert arq.sentinel is True
    assert arq.host == [("s-0", 26379), ("s-1", 26379)]
    assert arq.sentinel_master == "queue"


@pytest.mark.parametrize("uri", ["neo4j://graph:7687", "neo4j+s://graph", "bolt://graph:7687"])
def test_neo4j_accepts_routing_and_direct_uris(monkeypatch: pytest.MonkeyPatch, uri: str) -> None:
    monkeypatch.setenv("RAPPORT_NEO4J__URI", uri)
    assert Settings().neo4j.uri == uri


def test_neo4j_refuses_another_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_NEO4J__URI", "http://graph:7474")
    with pytest.raises(ValidationError, match="scheme"):
        Settings()
