"""Who hears about each outbox event, and the worker's jobs and cron jobs.

A consumer is ``async (ctx, envelope) -> None``, idempotent (the queue delivers at least
once), and raises ``TransientError`` for a failure worth retrying.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from arq.cron import CronJob

from rapport_common.events import EventEnvelope
from services.notifier.errors import TransientError
from services.notifier.graph_projection import project_to_graph

Consumer = Callable[[dict[str, Any], EventEnvelope], Awaitable[None]]

CONSUMERS: list[Consumer] = [project_to_graph]
# Extra arq functions and cron jobs, registered by the worker.
JOBS: list[Callable[..., Awaitable[Any]]] = []
CRON_JOBS: list[CronJob] = []

__all__ = ["CONSUMERS", "CRON_JOBS", "JOBS", "Consumer", "TransientError"]
