"""Who hears about each outbox event, and the worker's jobs and cron jobs.

A consumer is ``async (ctx, envelope, session) -> None`` and idempotent (the queue
delivers at least once). Each runs, and is recorded as done, on its own: one that raises
does not keep the others from the event, and a retry runs only the ones not done
(``TransientError`` says a retry may help; any other exception is retried all the same,
until the event is dead-lettered). The session is the event job's own: a consumer commits
what must be durable before it acts outside PostgreSQL (an email, a queued job); what it
leaves uncommitted is committed before the next consumer runs, or rolled back if it
fails.

Each also says which events concern it (``CONCERNS``): the others it would return from
at once, so the job skips it for them, without the guard's lock and its transaction.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from arq.cron import CronJob, cron
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.events import EventEnvelope
from services.notifier import graph_projection
from services.notifier.accounts import emails as account_emails
from services.notifier.erasure.guard import skip_deleted_members
from services.notifier.erasure.jobs import FINISH_CRON
from services.notifier.errors import TransientError
from services.notifier.exports import consumer as exports
from services.notifier.exports.crons import sweep_exports
from services.notifier.notifications import consumer as notifications
from services.notifier.notifications import crons, digest, join_emails
from services.notifier.webhooks import consumer as webhooks
from services.notifier.webhooks.jobs import SWEEP_CRON, deliver_webhook

Consumer = Callable[[dict[str, Any], EventEnvelope, AsyncSession], Awaitable[None]]
Concerns = Callable[[EventEnvelope], bool]

# Keyed by the name recorded in ``outbox_events.consumed_by``: renaming one makes every
# unfinished event run it again (harmless, it is idempotent), nothing worse.
CONSUMERS: dict[str, Consumer] = {
    "graph": graph_projection.project_to_graph,
    "notifications": notifications.notify,
    "webhooks": webhooks.fan_out,
    "join_emails": join_emails.send_join_email,
    "account_emails": account_emails.send_account_email,
    "exports": exports.build_export,
}
# Each skips an event about a deleted account (services/notifier/erasure/guard.py).
CONSUMERS = {name: skip_deleted_members(consumer) for name, consumer in CONSUMERS.items()}
# Whether an event concerns each: one that does not is done with it without running.
CONCERNS: dict[str, Concerns] = {
    "graph": graph_projection.concerns,
    "notifications": notifications.concerns,
    "webhooks": webhooks.concerns,
    "join_emails": join_emails.concerns,
    "account_emails": account_emails.concerns,
    "exports": exports.concerns,
}
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

__all__ = ["CONCERNS", "CONSUMERS", "CRON_JOBS", "JOBS", "Consumer", "TransientError"]
