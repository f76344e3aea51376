"""Our one door to the job queue.

arq is in maintenance-only mode, so nothing outside this module imports it for
enqueuing: swapping the queue means rewriting this file and ``worker.py``. Jobs are
serialized as JSON (never pickle), so a payload is readable and cannot run code.
"""

import json
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis
from arq.connections import RedisSettings as ArqRedisSettings
from arq.constants import default_queue_name, job_key_prefix

from rapport_common.settings import RedisSettings


def serialize(value: dict[str, Any]) -> bytes:
    return json.dumps(value, default=str).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


def arq_redis_settings(settings: RedisSettings) -> ArqRedisSettings:
    """Where the queue is: one Redis, or with Sentinels, whichever server they name as
    ``sentinel_master``'s primary. redis-py asks them again for every new connection, so
    after a failover the worker's and the relay's clients find the promoted replica by
    themselves (docs/operations.md, "Redis Sentinel failover")."""
    if settings.sentinels:
        return ArqRedisSettings(
            host=settings.sentinel_addresses,
            sentinel=True,
            sentinel_master=settings.sentinel_master,
            database=settings.database,
            conn_timeout=2,
            conn_retries=2,
        )
    return ArqRedisSettings(
        host=settings.host,
        port=settings.port,
        database=settings.database,
        conn_timeout=2,
        conn_retries=2,
    )


class JobQueue:
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    @classmethod
    async def connect(cls, settings: RedisSettings) -> "JobQueue":
        pool = await create_pool(
            arq_redis_settings(settings), job_serializer=serialize, job_deserializer=deserialize
        )
        return cls(pool)

    async def enqueue(self, job: str, job_id: str, **kwargs: Any) -> bool:
        """Queue ``job`` once per ``job_id``: a second call with the same id is a no-op.

        Returns False when a job with that id is already queued or has a kept result.
        """
        queued = await self.redis.enqueue_job(job, _job_id=job_id, **kwargs)
        return queued is not None

    async def waiting(self, *jobs: str) -> list[tuple[str, dict[str, Any]]]:
        """Each job of these functions still queued, deferred for a retry or running (arq
        keeps a job in its queue until it finishes), as (function, its arguments); not one
        that finished, whatever its outcome, or that Redis lost. Reads the whole queue, in
        two round trips."""
        job_ids = await self.redis.zrange(default_queue_name, 0, -1)
        if not job_ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.get(job_key_prefix + job_id.decode())
            found = await pipe.execute()
        waiting = []
        for raw in found:
            if raw is None:
                continue  # finished between the two reads
            queued = deserialize(raw)
            if queued.get("f") in jobs:
                waiting.append((str(queued["f"]), dict(queued.get("k") or {})))
        return waiting

    async def close(self) -> None:
        await self.redis.aclose()
