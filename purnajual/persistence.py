"""Event store set-up shared by the services: SQLite by default, PostgreSQL when set.

Every service is an ``EventSourcedProjection``: its recorder holds its events
and a tracking table. The tracking table records, per upstream service, the
last position whose effects are committed, in the same transaction as those
effects; that is what makes a redelivered message harmless.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    Recording,
    Tracking,
    Transcoding,
)
from eventsourcing.projection import EventSourcedProjection
from eventsourcing.utils import EnvType
from psycopg import sql

from purnajual.envelope import Envelope
from purnajual.errors import BusyError
from purnajual.numbering import NumberSeries

logger = logging.getLogger(__name__)

SQLITE_LOCK_TIMEOUT_SECONDS = 30
SAVE_ATTEMPTS = 20


class DateAsISO(Transcoding):
    """Stores ``datetime.date`` values, which the library does not transcode."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


# What libpq says when the address answers but refuses who or what we asked for.
_NO_WAIT_CURES = (
    "does not exist",
    "authentication failed",
    "no pg_hba.conf entry",
    "password",
    "invalid connection option",
    "invalid dsn",
)


@dataclass(frozen=True)
class PostgresLocation:
    """Where a service's tables live in PostgreSQL."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    schema: str

    @classmethod
    def from_url(cls, url: str, schema: str) -> PostgresLocation:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise ValueError(f"not a PostgreSQL URL: {url!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
            schema=schema,
        )

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
            connect_timeout=5,
            autocommit=True,
        )

    def answers(self) -> bool:
        """Whether the server takes a connection within a second, right now."""
        try:
            with psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                dbname=self.dbname,
                connect_timeout=1,
            ) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def wait_until_it_answers(self, *, longest_pause: float = 10.0) -> None:
        """Blocks until the server takes a connection, however long that is.

        A service started while its database restarts waits for it, as it
        waits for NATS, instead of exiting. A wrong database name, user or
        password raises at once: no wait cures it. libpq gives a failed
        connection no SQLSTATE, so its words tell the two apart; anything
        else (a refused or dropped connection, a server starting up, a host
        not found yet) is waited out, logged each time with the reason.
        """
        pause = 0.5
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError as error:
                reason = str(error)
                if any(words in reason.lower() for words in _NO_WAIT_CURES):
                    raise
                logger.warning(
                    "event store not reachable, waiting for it",
                    extra={"error": reason, "retry_in_seconds": pause},
                )
                time.sleep(pause)
                pause = min(pause * 2, longest_pause)

    def ensure_schema(self) -> None:
        """Creates the service's schema; the library creates only tables."""
        with self.connect() as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(self.schema)
                )
            )


def event_store_env(
    *, service: str, database_url: str | None, var_dir: Path
) -> dict[str, str]:
    """The ``eventsourcing`` environment for one service.

    With a PostgreSQL URL the service gets its own schema, named after it, in
    that database; without one it gets its own SQLite file under ``var_dir``.
    """
    if database_url:
        location = PostgresLocation.from_url(database_url, schema=service)
        location.ensure_schema()
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": location.host,
            "POSTGRES_PORT": str(location.port),
            "POSTGRES_USER": location.user,
            "POSTGRES_PASSWORD": location.password,
            "POSTGRES_DBNAME": location.dbname,
            "POSTGRES_SCHEMA": location.schema,
            "POSTGRES_CONNECT_TIMEOUT": "2",
            "POSTGRES_PRE_PING": "y",
            # One warm connection, more on demand: when a server dropped
            # several idle connections at once, a pool keeping them all warm
            # stalled for tens of seconds (psycopg_pool 3.3, seen in a test).
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "40",
            "POSTGRES_LOCK_TIMEOUT": "10",
        }
    var_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(var_dir / f"{service}.db"),
        "SQLITE_LOCK_TIMEOUT": str(SQLITE_LOCK_TIMEOUT_SECONDS),
    }


def store_probe(database_url: str | None) -> Callable[[], bool]:
    """A quick check that the event store answers; SQLite always does."""
    if database_url:
        return PostgresLocation.from_url(database_url, schema="public").answers
    return lambda: True


CommitListener = Callable[[], None]
AggregateT = TypeVar("AggregateT", bound=Aggregate)


class ServiceApplication(EventSourcedProjection[UUID]):
    """Base of every service's application.

    Adds to the library's projection what every service needs: a ``date``
    transcoding (events otherwise carry only what JSON and the library's own
    transcodings keep exactly; enums travel as their values), listeners told
    after every commit (the relay and the notifier's dispatcher use them to act
    without waiting for a poll), upstream envelopes handed to
    ``apply_upstream_event``, lookups that only find the expected kind,
    official numbers taken in turn, retries of commands that lost a race, and
    rebuilding the read model from the log.
    """

    snapshotting_intervals = {NumberSeries: 50}

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        self._commit_listeners: list[CommitListener] = []
        self._listeners_lock = threading.Lock()
        self._numbering_lock = threading.Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def add_commit_listener(self, listener: CommitListener) -> None:
        with self._listeners_lock:
            self._commit_listeners.append(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if not recordings:
            return
        with self._listeners_lock:
            listeners = list(self._commit_listeners)
        for listener in listeners:
            listener()

    def metric_lines(self) -> list[str]:
        """Prometheus lines of the service's own; none by default."""
        return []

    def rebuild_views(self) -> bool:
        """Rebuilds every read model from the whole log and swaps it in.

        Answers whether each rebuilt model equals the one it replaces.
        """
        equal = True
        for name, value in list(vars(self).items()):
            rebuilt = getattr(value, "rebuilt", None)
            if not callable(rebuilt):
                continue
            fresh, same = rebuilt()
            setattr(self, name, fresh)
            if not same:
                logger.warning("a rebuilt view differed", extra={"view": name})
            equal = equal and same
        return equal

    def policy(
        self,
        domain_event: DomainEventProtocol[UUID],
        processing_event: ProcessingEvent[UUID],
    ) -> None:
        """Hands an upstream event's envelope to the service's own rule."""
        if isinstance(domain_event, Envelope):
            self.apply_upstream_event(domain_event, processing_event)

    def apply_upstream_event(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        """What this service does when an upstream event arrives; by default
        nothing but recording that it was seen."""

    def process_upstream(self, envelope: Envelope, tracking: Tracking) -> None:
        """Runs the policy on an upstream event and records its position with it.

        The library's type hints ask for one of its domain events, but it passes
        the object straight to ``policy``; our policies take integration-event
        envelopes.
        """
        self.process_event(cast(DomainEventProtocol[UUID], envelope), tracking)

    def replay_upstream(self, envelope: Envelope) -> None:
        """Runs the policy on a replayed dead letter whose position has passed.

        The tracking position only moves forward, so a replay of an older
        position is recorded without it; the policies' own checks (a request
        already in the inbox, a message already composed) keep it to one effect.
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        self.policy(cast(DomainEventProtocol[UUID], envelope), processing_event)
        self._notify(self._record(processing_event))

    def position_of(self, upstream: str) -> int:
        """The last upstream position whose effects are committed here."""
        return self.recorder.max_tracking_id(upstream) or 0

    def has_processed(self, upstream: str, position: int) -> bool:
        return position <= self.position_of(upstream)

    def notifications_after(
        self, position: int, limit: int = 500
    ) -> list[Notification]:
        """A page of this service's own event log after ``position``."""
        return list(
            self.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
        )

    def events_after(
        self, position: int, limit: int = 500
    ) -> Iterator[tuple[int, DomainEventProtocol[UUID]]]:
        for notification in self.notifications_after(position, limit):
            yield notification.id, self.mapper.to_domain_event(notification)

    def find(self, aggregate_id: UUID, kind: type[AggregateT]) -> AggregateT | None:
        """The aggregate with this id if it exists and is a ``kind``, else None.

        Ids arrive from outside (URLs, events); one that names an aggregate of
        another kind is as unknown as one that names nothing.
        """
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def take_number(self, series: str, issued_for: str) -> NumberSeries:
        """The series with its next number taken; save it with the document.

        Call it inside ``save_numbered`` so writers in this process take turns.
        """
        numbers = self.find(NumberSeries.create_id(series), NumberSeries)
        if numbers is None:
            numbers = NumberSeries(series)
        numbers.issue_number(issued_for)
        return numbers

    def save_numbered(self, command: Callable[[], list[Any]]) -> None:
        """Like ``save_with_retry``, one at a time within this process.

        Every numbered document of a kind writes the same series aggregate, so
        concurrent writers would mostly collide; taking turns here leaves
        retries only for writers in other processes.
        """
        with self._numbering_lock:
            self.save_with_retry(command)

    def save_with_retry(
        self, command: Callable[[], list[Any]], attempts: int = SAVE_ATTEMPTS
    ) -> None:
        """Runs a load-decide-save command again when a concurrent writer won.

        ``command`` loads what it needs, decides and returns the aggregates to
        save. A version conflict means another writer committed first; the
        command then sees their state on its next attempt, after a short random
        pause so the racers spread out. Raises ``BusyError`` if it never wins.
        """
        for attempt in range(1, attempts + 1):
            try:
                self.save(*command())
                return
            except IntegrityError:
                logger.warning(
                    "retrying a command after a concurrent write",
                    extra={"attempt": attempt},
                )
                time.sleep(random.uniform(0, 0.005 * attempt))
        raise BusyError(
            "Too many simultaneous changes to the same record; try again.",
            attempts=attempts,
        )
