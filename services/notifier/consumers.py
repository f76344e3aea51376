"""Who hears about each outbox event, and the worker's jobs and cron jobs.

A consumer is ``async (ctx, envelope, session) -> None`` and idempotent (the queue
delivers at least once). Each runs, and is recorded as done, on its own: one that raises
does not keep the others from the event, and a retry runs only the ones not done
(``TransientError`` says a retry may help; any other exception is retried all the same,
until the event is dead-lettered). The session is the event job's own: a consumer commits
what must be durable before it acts outside PostgreSQL (an email, a queued job); what it
leaves uncommitted is committed before the next consumer runs, or rolled back if it
fails, and the last one's is committed with the event's completion.

Each entry also says which events concern it (``concerns``): the others it would return
from at once, so the job skips it for them, without the guard's lock and its transaction;
and whether it leaves nothing uncommitted (``commits_own_work``): such consumers run
first, and the next one shares their transaction, and with it the guard's lock on the
event's members (``services/notifier/erasure/guard.py``), without a commit between them.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

ConsumerFunction = Callable[[dict[str, Any], EventEnvelope, AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Consumer:
    run: ConsumerFunction
    # Whether an event concerns it: one that does not is done with it without running.
    concerns: Callable[[EventEnvelope], bool]
    # It commits whatever it writes (or writes nothing in PostgreSQL).
    commits_own_work: bool = False


def _entry(
    run: ConsumerFunction, concerns: Callable[[EventEnvelope], bool], commits_own_work: bool
) -> Consumer:
    # Each skips an event about a deleted account (services/notifier/erasure/guard.py).
    return Consumer(skip_deleted_members(run), concerns, commits_own_work)


# Keyed by the name recorded in ``outbox_events.consumed_by``: renaming one makes every
# unfinished event run it again (harmless, it is idempotent), nothing worse. The job runs
# those that commit their own work first (``RUN_ORDER``) and records them in this order.
CONSUMERS: dict[str, Consumer] = {
    "graph": _entry(graph_projection.project_to_graph, graph_projection.concerns, True),
    "notifications": _entry(notifications.notify, notifications.concerns, False),
    "webhooks": _entry(webhooks.fan_out, webhooks.concerns, True),
    "join_emails": _entry(join_emails.send_join_email, join_emails.concerns, False),
    "account_emails": _entry(account_emails.send_account_email, account_emails.concerns, False),
    "exports": _entry(exports.build_export, exports.concerns, False),
}
RUN_ORDER: list[str] = sorted(CONSUMERS, key=lambda name: not CONSUMERS[name].commits_own_work)
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

__all__ = ["CONSUMERS", "CRON_JOBS", "JOBS", "RUN_ORDER", "Consumer", "TransientError"]
