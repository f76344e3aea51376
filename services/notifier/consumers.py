"""Who hears about each outbox event, and the worker's jobs and cron jobs.

A consumer is ``async (ctx, envelope, session) -> None`` and idempotent (the queue
delivers at least once). Each runs, and is recorded as done, on its own: one that raises
does not keep the others from the event, and a retry runs only the ones not done
(``TransientError`` says a retry may help; any other exception is retried all the same,
until the event is dead-lettered). The session is the event job's own: a consumer commits
what must be durable before it acts outside PostgreSQL (an email, a queued job); what it
leaves uncommitted is committed before the next consumer runs, or rolled back if it
fails.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from arq.cron import CronJob, cron
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import EventEnvelope
from services.notifier.accounts.emails import send_account_email
from services.notifier.erasure.guard import skip_deleted_members
from services.notifier.erasure.jobs import FINISH_CRON
from services.notifier.errors import TransientError
from services.notifier.exports.consumer import build_export
from services.notifier.exports.crons import sweep_exports
from services.notifier.graph_projection import project_to_graph
from services.notifier.notifications import crons, digest
from services.notifier.notifications.consumer import notify
from services.notifier.notifications.join_emails import send_join_email
from services.notifier.webhooks.consumer import fan_out
from services.notifier.webhooks.jobs import SWEEP_CRON, deliver_webhook

Consumer = Callable[[dict[str, Any], EventEnvelope, AsyncSession], Awaitable[None]]

# Keyed by the name recorded in ``outbox_events.consumed_by``: renaming one makes every
# unfinished event run it again (harmless, it is idempotent), nothing worse.
CONSUMERS: dict[str, Consumer] = {
    "graph": project_to_graph,
    "notifications": notify,
    "webhooks": fan_out,
    "join_emails": send_join_email,
    "account_emails": send_account_email,
    "exports": build_export,
}
# Each skips an event about a deleted account (services/notifier/erasure/guard.py).
CONSUMERS = {name: skip_deleted_members(consumer) for name, consumer in CONSUMERS.items()}
# Extra arq functions and cron jobs, registered by the worker.
JOBS: list[Callable[..., Awaitable[Any]]] = [deliver_webhook]
CRON_JOBS: list[CronJob] = [
    cron(crons.return_deferred_invitations, minute=None, second=10),
    cron(crons.expire_questions, minute=None, second=20),
    cron(crons.send_unsent_emails, minute=None, second=30),
    cron(crons.send_nudges, minute={0, 15, 30, 45}, second=40),
    # Each member's digest goes at the first run after their digest hour, in their zone
    # (zones 30 or 45 minutes off the hour wait until the next run).
    cron(digest.send_digests, minute={0, 30}, second=50),
    SWEEP_CRON,
    cron(sweep_exports, minute=50, second=50),
    FINISH_CRON,
]

__all__ = ["CONSUMERS", "CRON_JOBS", "JOBS", "Consumer", "TransientError"]
