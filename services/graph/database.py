"""Running named Cypher against Neo4j: parameters only, a timeout and routing on every call.

Neo4j that is down, restarting, cold or overloaded answers with transient errors
(dropped connections, leader switches, transactions out of time); every query here is
idempotent (reads, and writes that MERGE or are guarded by the projection's sequences),
so each is tried again until its patience runs out, then reported as a 503 problem.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, LiteralString, TypeVar

from neo4j import (
    READ_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    NotificationMinimumSeverity,
    Query,
    Record,
    RoutingControl,
    unit_of_work,
)
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from rapport_common.metrics import NEO4J_QUERY_LATENCY
from rapport_common.settings import Neo4jSettings
from rapport_common.web.problems import ServiceUnavailable as ServiceUnavailableProblem

T = TypeVar("T")
logger = logging.getLogger("rapport.graph")

RETRY_AFTER_SECONDS = 2
# How long one connection attempt may take: a Neo4j that accepts the TCP connection
# while it starts must not hold a request for the driver's default of 30 s.
CONNECT_TIMEOUT_SECONDS = 5.0
DRIVER_RETRY_SECONDS = 1.0


class GraphStoreUnavailable(ServiceUnavailableProblem):
    slug, title = "graph-store-unavailable", "The graph store is unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Neo4j did not answer in time (it is down, restarting or overloaded) and "
            "nothing was changed; retry in a moment.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def worth_retrying(exc: BaseException) -> bool:
    """A failure that says nothing about the query: the store was unreachable, lost the
    connection, switched leaders, or ran the transaction out of time while cold or
    overloaded (the transaction then rolled back, so running it again is safe)."""
    if isinstance(exc, Neo4jError | DriverError) and exc.is_retryable():
        return True
    if isinstance(exc, Neo4jError) and "TransactionTimedOut" in (exc.code or ""):
        return True
    return isinstance(exc, OSError)


def store_unavailable(exc: BaseException) -> bool:
    """``worth_retrying``, or a commit whose outcome is unknown: not the caller's fault."""
    return worth_retrying(exc) or isinstance(exc, ServiceUnavailable | SessionExpired)


def create_driver(settings: Neo4jSettings) -> AsyncDriver:
    auth = (
        (settings.user, settings.password.get_secret_value())
        if settings.user and settings.password
        else None
    )
    # Server notifications (such as a property key no node has yet, on a new graph) are
    # advice for query authors, not events worth a warning in every request's log.
    # The driver's own retries (managed transactions) stop after a second;
    # Graph._patiently decides whether to go on, so a query's whole wait stays near
    # its patience instead of the two adding up.
    return AsyncGraphDatabase.driver(
        settings.uri,
        auth=auth,
        notifications_min_severity=NotificationMinimumSeverity.OFF,
        connection_timeout=CONNECT_TIMEOUT_SECONDS,
        connection_acquisition_timeout=2 * CONNECT_TIMEOUT_SECONDS,
        max_transaction_retry_time=DRIVER_RETRY_SECONDS,
    )


class Graph:
    """The graph service's handle on Neo4j, owned by the app's lifespan.

    ``patience_seconds`` is how long a query keeps being retried on transient errors
    (default: one query timeout, about what a caller of the service waits); a bulk
    import asks for more with ``with_patience``."""

    def __init__(
        self, driver: AsyncDriver, settings: Neo4jSettings, patience_seconds: float | None = None
    ) -> None:
        self.driver = driver
        self.settings = settings
        self.database = settings.database
        self.timeout = settings.query_timeout_seconds
        self.patience = self.timeout if patience_seconds is None else patience_seconds
        self.schema_ready = False
        self.warm = False

    def with_patience(self, seconds: float) -> "Graph":
        graph = Graph(self.driver, self.settings, seconds)
        graph.schema_ready, graph.warm = self.schema_ready, self.warm
        return graph

    async def ensure_schema(self, statements: tuple[LiteralString, ...]) -> None:
        """Create constraints once; retried on the next call if Neo4j was down."""
        if self.schema_ready:
            return
        for statement in statements:
            await self.write(statement)
        self.schema_ready = True

    async def warm_up(self, queries: Iterable[LiteralString]) -> None:
        """Bring a cold Neo4j (just started, or restarted) up to speed before the service
        calls itself ready: wait for the indexes to be online and have every query
        planned (``EXPLAIN`` plans without running), so that the first real request does
        not spend its timeout on planning and on loading the indexes. Done again after
        any sign that Neo4j went away."""
        if self.warm:
            return
        started = time.perf_counter()
        await self.read("CALL db.awaitIndexes($seconds)", seconds=max(1, int(self.timeout) - 1))
        await self.read("MATCH (m:Member) WHERE m.member_id = '' RETURN count(m) AS members")
        for cypher in queries:
            await self.read("EXPLAIN " + cypher)
        self.warm = True
        logger.info("neo4j warmed up in %.1f s", time.perf_counter() - started)

    async def read(self, cypher: LiteralString, **parameters: Any) -> list[dict[str, Any]]:
        with NEO4J_QUERY_LATENCY.labels("read").time():
            return await self._read(cypher, parameters)

    async def _read(
        self, cypher: LiteralString, parameters: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """One query in an auto-commit transaction: its RUN and PULL go out in one
        write, where a managed transaction adds BEGIN and COMMIT exchanges. On loopback
        each exchange's socket writes were a third of the graph service's CPU (py-spy,
        paths at concurrency 16). Only when that fails on a transient error is the read
        run again, as a managed transaction that the driver retries."""
        try:
            async with self.driver.session(
                database=self.database, default_access_mode=READ_ACCESS
            ) as session:
                result = await session.run(Query(cypher, timeout=self.timeout), parameters)
                return _as_dicts([record async for record in result])
        except Exception as exc:
            self._classify(exc, cypher)

        async def managed_read() -> list[dict[str, Any]]:
            async with self.driver.session(database=self.database) as session:
                records: list[Record] = await session.execute_read(
                    unit_of_work(timeout=self.timeout)(_fetch_all), cypher, parameters
                )
                return _as_dicts(records)

        return await self._patiently(managed_read, cypher)

    async def write(self, cypher: LiteralString, **parameters: Any) -> list[dict[str, Any]]:
        async def managed_write() -> list[dict[str, Any]]:
            records, _, _ = await self.driver.execute_query(
                Query(cypher, timeout=self.timeout),
                parameters,
                database_=self.database,
                routing_=RoutingControl.WRITE,
            )
            return _as_dicts(records)

        with NEO4J_QUERY_LATENCY.labels("write").time():
            return await self._patiently(managed_write, cypher)

    async def write_transaction(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction, retried on transient errors (deadlocks,
        leader changes, a dropped connection), so ``work`` must only touch the database."""

        async def managed() -> T:
            async with self.driver.session(database=self.database) as session:
                return await session.execute_write(unit_of_work(timeout=self.timeout)(work))

        with NEO4J_QUERY_LATENCY.labels("transaction").time():
            return await self._patiently(managed, getattr(work, "__name__", "transaction"))

    async def _patiently(self, attempt: Callable[[], Awaitable[T]], what: str) -> T:
        deadline = time.monotonic() + self.patience
        pause = 0.2
        while True:
            try:
                return await attempt()
            except Exception as exc:
                self._classify(exc, what)
                if time.monotonic() + pause > deadline:
                    logger.warning("neo4j unavailable, giving up: %s", _describe(exc))
                    raise GraphStoreUnavailable() from exc
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _classify(self, exc: Exception, what: str) -> None:
        """Re-raise what is not worth retrying (a 503 problem if Neo4j is at fault); note
        that Neo4j must be warmed up again."""
        if not store_unavailable(exc):
            raise exc
        self.warm = False
        if not worth_retrying(exc):
            raise GraphStoreUnavailable() from exc
        logger.info("neo4j transient error, retrying %s: %s", what[:60], _describe(exc))


async def _fetch_all(
    tx: AsyncManagedTransaction, cypher: LiteralString, parameters: dict[str, Any]
) -> list[Record]:
    result = await tx.run(cypher, parameters)
    return [record async for record in result]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _as_dicts(records: list[Record]) -> list[dict[str, Any]]:
    # Record.data() walks every nested value to convert graph types; our queries return
    # plain values (ids, numbers, lists), and on a hub's 1,000-row neighbourhood that
    # walk cost ~10 ms where zipping the keys costs ~5 us.
    return [dict(zip(record.keys(), record.values(), strict=True)) for record in records]
