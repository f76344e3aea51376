"""Worker jobs. The queue delivers at least once, so each job here is idempotent."""

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

from arq import Retry
from sqlalchemy import String, Table, bindparam, case, func, literal_column, null, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rapport_common.db import DriverStatement, connection_lost
from rapport_common.events import EventEnvelope
from rapport_common.logging import request_id_var
from rapport_common.outbox import OutboxEvent, envelope_of
from services.notifier import driver
from services.notifier.consumers import CONSUMERS, RUN_ORDER, TransientError
from services.notifier.notifications.store import RECORD, RECORD_WRITE
from services.notifier.queue import JobQueue
from services.notifier.relay import enqueue_events, requeue_stalled

logger = logging.getLogger(__name__)

# Seconds before try n+1; the last value repeats.
RETRY_BACKOFF_SECONDS = (1, 5, 15, 60, 300)
ERROR_LENGTH = 1000
# What became of each event of a job.
COMPLETED, FAILED, DEAD, HANDED_ON = "completed", "failed", "dead-lettered", "handed on"


_OUTBOX = cast(Table, OutboxEvent.__table__)
_COMPLETION = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("event_id"))
    .values(
        completed_at=func.now(),
        attempts=_OUTBOX.c.attempts + literal_column("1"),
        last_error=null(),
        consumed_by=bindparam("done", type_=ARRAY(String())),
    )
)
_COMPLETE = DriverStatement(_COMPLETION)
# The completion with the last email's record (``store.RECORD``), in one statement.
_COMPLETE_WITH_RECORD = DriverStatement(_COMPLETION.add_cte(RECORD.cte("record")))


def backoff(job_try: int) -> int:
    return RETRY_BACKOFF_SECONDS[min(job_try, len(RETRY_BACKOFF_SECONDS)) - 1]


@dataclass(frozen=True)
class _Event:
    """What a job needs of an outbox row."""

    envelope: EventEnvelope
    consumed_by: list[str]
    requeues: int
    completed: bool
    dead: bool


async def handle_events(ctx: dict[str, Any], event_ids: list[str]) -> str:
    """Deliver each of these outbox events, one after the other in their order, to each
    consumer not yet done with it, and mark each completed once all are. When a consumer
    fails, the others still run; the attempt is counted on its event and the job
    retried, until ``worker.max_tries`` failed attempts dead-letter that event.

    Idempotent: a completed or dead event is skipped, a consumer recorded as done is not
    run again, and every consumer is idempotent itself (the graph projection ignores an
    event it has already applied), so a rerun after a crash at any point yields one
    effect. That is also why losing PostgreSQL midway is only a retry. The events not
    started once half the job's timeout is gone go on in a job of their own, so that a
    big batch on a slow day never times out for being big.
    """
    started = time.monotonic()
    budget = ctx["settings"].worker.job_timeout_seconds / 2
    try:
        events = await _load(ctx["sessionmaker"], [uuid.UUID(i) for i in event_ids])
    except Exception as exc:
        _retry_if_connection_lost(ctx, exc)
        raise
    outcomes: Counter[str] = Counter()
    errors: list[Exception] = []
    for n, event in enumerate(events):
        if n and time.monotonic() - started > budget:
            await _hand_on(ctx, events[n:])
            outcomes[HANDED_ON] += len(events) - n
            break
        try:
            outcomes[await _run(ctx, event)] += 1
        except Exception as exc:
            _retry_if_connection_lost(ctx, exc)  # the others would meet it too
            errors.append(exc)
    if errors:
        raise errors[0]
    if outcomes[FAILED]:
        raise Retry(defer=backoff(ctx["job_try"]))
    return ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items()) or "no such event"


async def handle_event(ctx: dict[str, Any], event_id: str) -> str:
    """One event: the job relays queued before a job carried several."""
    return await handle_events(ctx, [event_id])


def _retry_if_connection_lost(ctx: dict[str, Any], exc: BaseException) -> None:
    if isinstance(exc, Exception) and connection_lost(exc):
        logger.warning("events could not reach postgres: %s", exc)
        raise Retry(defer=backoff(ctx["job_try"])) from exc


async def _load(
    sessionmaker: async_sessionmaker[AsyncSession], event_ids: list[uuid.UUID]
) -> list[_Event]:
    """The events, in their order; one query for the whole job, rows not objects."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(
                OutboxEvent.id,
                OutboxEvent.sequence,
                OutboxEvent.type,
                OutboxEvent.version,
                OutboxEvent.created_at,
                OutboxEvent.request_id,
                OutboxEvent.payload,
                OutboxEvent.consumed_by,
                OutboxEvent.requeues,
                OutboxEvent.completed_at,
                OutboxEvent.dead_at,
            )
            .where(OutboxEvent.id.in_(event_ids))
            .order_by(OutboxEvent.sequence)
        )
        return [
            _Event(
                envelope=envelope_of(row),
                consumed_by=list(row.consumed_by),
                requeues=row.requeues,
                completed=row.completed_at is not None,
                dead=row.dead_at is not None,
            )
            for row in rows
        ]


async def _run(ctx: dict[str, Any], event: _Event) -> str:
    if event.completed:
        return "already completed"
    if event.dead:
        return "dead-lettered before; an operator retries it with `rapport outbox retry`"
    return await _handle(ctx, event)


async def _hand_on(ctx: dict[str, Any], events: list[_Event]) -> None:
    """Queue these events in a job of their own; its id is salted with this job's, as
    the same events may be all of this job's."""
    salt = f"{ctx.get('job_id')}:{ctx.get('job_try')}"
    pairs = [(event.envelope.event_id, event.requeues) for event in events]
    await enqueue_events(JobQueue(ctx["redis"]), pairs, salt)


async def _handle(ctx: dict[str, Any], event: _Event) -> str:
    # One session for the whole event: each checkout and transaction is a round trip.
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    envelope = event.envelope
    async with sessionmaker() as session:
        token = request_id_var.set(envelope.request_id)
        try:
            done, failures = await _consume(ctx, envelope, session, event.consumed_by)
        finally:
            request_id_var.reset(token)
        if not failures:
            await _complete(session, envelope, done)
            await session.commit()
            return COMPLETED
        dead = await _note_failure(
            session, envelope, done, failures, ctx["settings"].worker.max_tries
        )
    return DEAD if dead else FAILED


async def _complete(session: AsyncSession, envelope: EventEnvelope, done: list[str]) -> None:
    """Mark the event completed, with the writes its consumers left waiting
    (``driver.later``): the last email's record goes in the same statement."""
    writes = driver.take_later(session)
    params: dict[str, Any] = {"event_id": envelope.event_id, "done": done}
    statement = _COMPLETE
    if writes and writes[-1][0] is RECORD_WRITE:
        statement = _COMPLETE_WITH_RECORD
        params |= writes.pop()[1]
    for write, values in writes:
        await driver.fetch(session, write, values)
    await driver.fetch(session, statement, params)


async def _consume(
    ctx: dict[str, Any], envelope: EventEnvelope, session: AsyncSession, done_before: list[str]
) -> tuple[list[str], dict[str, Exception]]:
    """Run each consumer not done yet; return those done (in ``CONSUMERS``' order), and
    the failures by name. One the event does not concern is done with it at once (it
    would do nothing). What the last one leaves uncommitted is committed by the caller,
    with the event's completion."""
    done, failures = set(done_before), {}
    uncommitted = False
    for name in RUN_ORDER:
        consumer = CONSUMERS[name]
        if name in done:
            continue
        if not consumer.concerns(envelope):
            done.add(name)
            continue
        if uncommitted and session.in_transaction():
            # What the previous consumer left uncommitted is its own finished work: this
            # one's failure must not roll it back.
            await driver.write_later(session)
            await session.commit()
        try:
            await consumer.run(ctx, envelope, session)
        except Exception as exc:
            if connection_lost(exc):
                raise
            await session.rollback()
            failures[name] = exc
            uncommitted = False
            _log_failure(envelope, name, exc)
        else:
            done.add(name)
            uncommitted = not consumer.commits_own_work
    return _in_order(done, done_before), failures


def _in_order(done: set[str], done_before: list[str]) -> list[str]:
    """The consumers done, as ``CONSUMERS`` lists them; names no longer there (a renamed
    consumer's old name) after them, as they were recorded."""
    return [name for name in CONSUMERS if name in done] + [
        name for name in done_before if name not in CONSUMERS
    ]


def _log_failure(envelope: EventEnvelope, consumer: str, exc: Exception) -> None:
    details = {"event_id": str(envelope.event_id), "type": envelope.type, "consumer": consumer}
    if isinstance(exc, TransientError):
        logger.warning("consumer failed, will retry: %s", exc, extra=details)
    else:
        logger.error("consumer failed", exc_info=exc, extra=details)


async def _note_failure(
    session: AsyncSession,
    envelope: EventEnvelope,
    done: list[str],
    failures: dict[str, Exception],
    max_attempts: int,
) -> bool:
    """Record what is done, count the attempt and say why it failed; return whether the
    event is now dead-lettered."""
    error = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in failures.items())
    await driver.write_later(session)  # what the consumers that did not fail left
    attempts = OutboxEvent.attempts + 1
    dead_at = (
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == envelope.event_id)
            .values(
                attempts=attempts,
                last_error=error[:ERROR_LENGTH],
                consumed_by=done,
                dead_at=case((attempts >= max_attempts, func.now()), else_=None),
            )
            .returning(OutboxEvent.dead_at)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    await session.commit()
    if dead_at is not None:
        logger.error(
            "outbox event dead-lettered",
            extra={"event_id": str(envelope.event_id), "type": envelope.type, "error": error},
        )
    return dead_at is not None


async def reconcile_outbox(ctx: dict[str, Any]) -> int:
    """Cron: put events that never completed, and whose job is gone, back in front of the
    relay; dead-letter one put back ``worker.max_tries`` times already. Idempotent."""
    stalled = await requeue_stalled(
        ctx["sessionmaker"],
        ctx["settings"].outbox.reconcile_after_seconds,
        JobQueue(ctx["redis"]),
        max_requeues=ctx["settings"].worker.max_tries,
    )
    if stalled:
        logger.warning("re-relaying stalled events", extra={"count": len(stalled)})
        ctx["relay"].wake.set()
    return len(stalled)
