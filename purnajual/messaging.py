"""Publishing a service's event log to JetStream and consuming the others' streams.

Publishing (the relay). A service never writes to NATS in the same breath as
its database: its event log is the outbox. The relay reads the log after the
last published position, translates each domain event into its integration
event (or skips a private one), publishes it with ``Nats-Msg-Id =
<service>:<position>`` and only then moves on. A crash between publish and the
saved position re-publishes at most one page, which JetStream drops as a
duplicate. A committed event is therefore published even if NATS was down at
commit time: the relay just keeps retrying.

Consuming. One durable pull consumer per (service, upstream stream), with one
message in flight (``max_ack_pending=1``) so each upstream is processed in the
order of its log. The upstream position travels in ``ce-sequence``; it is
recorded in the tracking table in the same transaction as the events the
message causes, so a redelivered message is recognised and only acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import nats
import nats.errors
import nats.js.errors
from eventsourcing.domain import CanMutateAggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Notification, Tracking
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from purnajual.contracts import (
    DEAD_LETTER_STREAM_NAME,
    DEAD_LETTER_SUBJECT_PREFIX,
    IntegrationEvent,
    StreamSpec,
)
from purnajual.envelope import (
    CE_SEQUENCE,
    Envelope,
    EnvelopeError,
    envelope_for,
    open_envelope,
)
from purnajual.persistence import ServiceApplication

logger = logging.getLogger(__name__)

RELAY_TRACKING_NAME = "nats-relay"
DUPLICATE_WINDOW_SECONDS = 120
RELAY_PAGE_SIZE = 100
RELAY_POLL_SECONDS = 0.5
FETCH_TIMEOUT_SECONDS = 1.0
# Short, so a message left in flight by a killed consumer comes back within
# seconds; a slow handler keeps its message with in-progress heartbeats.
ACK_WAIT_SECONDS = 5.0
MAX_RETRY_DELAY_SECONDS = 5.0
PROCESSING_ATTEMPTS_BEFORE_DEAD_LETTER = 5
STOP_TIMEOUT_SECONDS = 5.0
STALL_CHECK_SECONDS = 5.0
STALL_SECONDS = 10.0
DEAD_LETTER_REASON_HEADER = "Purnajual-Dead-Letter-Reason"
ORIGINAL_SUBJECT_HEADER = "Purnajual-Original-Subject"
CONSUMER_HEADER = "Purnajual-Consumer"
REPLAY_FOR_HEADER = "Purnajual-Replay-For"

Translator = Callable[[DomainEventProtocol[UUID]], IntegrationEvent | None]


def stream_config(spec_name: str, subjects: list[str], replicas: int) -> StreamConfig:
    return StreamConfig(
        name=spec_name,
        subjects=subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Creates the stream, or brings an existing one to this configuration."""
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError as error:
        if error.err_code != 10058:
            raise
        await js.update_stream(config)


def _raise_if_stopping() -> None:
    """Re-raises a cancellation that a library turned into another error.

    A fetch or publish cancelled at shutdown may surface as a timeout or a
    closed connection; without this, a retry loop would go on forever and
    hold the service's shutdown.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _next_delay(delay: float) -> float:
    return min(delay * 2, MAX_RETRY_DELAY_SECONDS)


class Relay:
    """Publishes one service's event log to its stream, in order, forever."""

    def __init__(
        self, *, app: ServiceApplication, stream: StreamSpec, translate: Translator
    ) -> None:
        self.app = app
        self.stream = stream
        self.service = stream.service
        self.translate = translate
        self.published_position = 0
        self._wakeup = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        app.add_commit_listener(self.wake)

    def wake(self) -> None:
        """Called from any thread after a commit: look at the log now."""
        self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self, js: JetStreamContext) -> None:
        position = await self._resume_position(js)
        self.published_position = position
        logger.info("relay resumes", extra={"position": position})
        while True:
            # Clear before reading so a commit during the read wakes us again.
            self._wakeup.clear()
            page = await asyncio.to_thread(
                self.app.notifications_after, position, RELAY_PAGE_SIZE
            )
            if not page:
                await self._sleep_until_woken()
                continue

            for notification in page:
                await self._publish(js, notification)
                position = notification.id
                self.published_position = position

            # Remember the position so a restart need not ask the stream.
            await asyncio.to_thread(self._save_position, position)

    def lag(self) -> int:
        """How many log positions are committed but not yet published."""
        newest = self.app.recorder.max_notification_id() or 0
        return max(0, newest - self.published_position)

    async def _sleep_until_woken(self) -> None:
        try:
            await asyncio.wait_for(self._wakeup.wait(), RELAY_POLL_SECONDS)
        except TimeoutError:
            pass

    async def _resume_position(self, js: JetStreamContext) -> int:
        """The later of our saved position and the last message in the stream.

        The stream covers a crash after publishing and before saving; the
        saved position covers a stream that was purged on purpose.
        """
        saved = await asyncio.to_thread(self.app.position_of, RELAY_TRACKING_NAME)
        in_stream = 0
        try:
            last = await js.get_last_msg(self.stream.name, f"{self.service}.>")
            in_stream = int((last.headers or {}).get(CE_SEQUENCE, "0"))
        except nats.js.errors.NotFoundError:
            in_stream = 0
        return max(saved, in_stream)

    def _save_position(self, position: int) -> None:
        try:
            self.app.recorder.insert_tracking(Tracking(RELAY_TRACKING_NAME, position))
        except IntegrityError:
            # A position at or below the saved one: nothing to move.
            return

    async def _publish(self, js: JetStreamContext, notification: Notification) -> None:
        domain_event = self.app.mapper.to_domain_event(notification)
        if not isinstance(domain_event, CanMutateAggregate):
            raise TypeError(f"not an aggregate event: {notification.topic}")
        integration_event = self.translate(domain_event)
        if integration_event is None:
            return
        envelope = envelope_for(
            producer=self.service,
            position=notification.id,
            time=domain_event.timestamp,
            event=integration_event,
        )
        await publish_until_stored(js, envelope)


async def publish_until_stored(js: JetStreamContext, envelope: Envelope) -> None:
    """Publishes until JetStream acknowledges; the same id on every attempt."""
    delay = 0.2
    while True:
        try:
            ack = await js.publish(
                envelope.data.SUBJECT,
                envelope.payload(),
                timeout=5,
                headers=envelope.headers(),
            )
            logger.debug(
                "published",
                extra={
                    "event_type": envelope.type,
                    "request_id": envelope.subject,
                    "stream_sequence": ack.seq,
                    "duplicate": bool(ack.duplicate),
                },
            )
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _raise_if_stopping()
            logger.warning(
                "publish failed, retrying",
                extra={"event_type": envelope.type, "error": repr(error)},
            )
            await asyncio.sleep(delay)
            delay = _next_delay(delay)


@dataclass
class ConsumerStatus:
    attached: bool = False
    last_fetch_monotonic: float = 0.0
    last_message_monotonic: float = 0.0
    pending: int = 0
    processed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    stalls: int = 0
    last_error: str | None = None


class ConsumerStalledError(Exception):
    """The server holds messages for us, but fetches bring none."""


class UpstreamConsumer:
    """Applies one upstream stream to a service, in order, once per event."""

    def __init__(
        self,
        *,
        app: ServiceApplication,
        service: str,
        upstream: StreamSpec,
        subjects: Sequence[str],
    ) -> None:
        self.app = app
        self.service = service
        self.upstream = upstream
        self.subjects = list(subjects)
        self.durable = f"{service}-from-{upstream.service}"
        self.status = ConsumerStatus()

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT_SECONDS,
            max_ack_pending=1,
            max_deliver=-1,
            filter_subjects=self.subjects,
        )

    async def run(self, js: JetStreamContext) -> None:
        """Consumes forever; any failure re-attaches after a pause."""
        delay = 0.2
        while True:
            try:
                subscription = await self._attach(js)
                delay = 0.2
                await self._consume(js, subscription)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                _raise_if_stopping()
                self.status.attached = False
                self.status.last_error = repr(error)
                logger.warning(
                    "consumer detached, re-attaching",
                    extra={"consumer": self.durable, "error": repr(error)},
                )
                await asyncio.sleep(delay)
                delay = _next_delay(delay)

    async def _attach(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        await js.add_consumer(self.upstream.name, self.config())
        subscription = await js.pull_subscribe_bind(
            durable=self.durable, stream=self.upstream.name
        )
        self.status.attached = True
        self.status.last_error = None
        self.status.last_fetch_monotonic = time.monotonic()
        logger.info("consumer attached", extra={"consumer": self.durable})
        return subscription

    async def _consume(
        self, js: JetStreamContext, subscription: JetStreamContext.PullSubscription
    ) -> None:
        self.status.last_message_monotonic = time.monotonic()
        next_check = time.monotonic() + STALL_CHECK_SECONDS
        while True:
            # Now and then, ask the server whether it holds messages we miss.
            if time.monotonic() >= next_check:
                await self._check_for_stall(subscription)
                next_check = time.monotonic() + STALL_CHECK_SECONDS

            try:
                messages = await subscription.fetch(1, timeout=FETCH_TIMEOUT_SECONDS)
            except nats.errors.TimeoutError:
                _raise_if_stopping()
                self.status.last_fetch_monotonic = time.monotonic()
                continue
            self.status.last_fetch_monotonic = time.monotonic()
            self.status.last_message_monotonic = time.monotonic()
            for message in messages:
                await self._handle(js, message)

    async def _check_for_stall(
        self, subscription: JetStreamContext.PullSubscription
    ) -> None:
        """Raises ``ConsumerStalledError`` when messages wait but none arrive.

        A pull subscription can survive a reconnect and yet never receive
        again; only the server's count of pending messages shows it. Raising
        makes ``run`` attach a fresh subscription, without a restart.
        """
        info = await subscription.consumer_info()
        self.status.pending = info.num_pending or 0
        quiet_for = time.monotonic() - self.status.last_message_monotonic
        if (
            self.status.pending
            and not info.num_ack_pending
            and quiet_for > STALL_SECONDS
        ):
            self.status.stalls += 1
            logger.warning(
                "consumer stalled, re-attaching",
                extra={"consumer": self.durable, "pending": self.status.pending},
            )
            raise ConsumerStalledError(f"{self.status.pending} messages wait")

    async def _handle(self, js: JetStreamContext, message: Msg) -> None:
        # A replayed dead letter is for the one service that set it aside;
        # the others must not read it, nor set it aside a second time.
        replay_for = (message.headers or {}).get(REPLAY_FOR_HEADER)
        if replay_for is not None and replay_for != self.service:
            await message.ack_sync()
            return

        # A message we cannot even read will never get better: set it aside.
        try:
            envelope = open_envelope(message.headers, message.data)
        except EnvelopeError as error:
            await self._dead_letter(js, message, str(error))
            return

        if replay_for is not None:
            await self._replay(message, envelope)
            return

        # A redelivery of something already applied is only acknowledged.
        if self.app.has_processed(self.upstream.service, envelope.sequence):
            self.status.duplicates += 1
            logger.info(
                "duplicate delivery acknowledged",
                extra=_log_fields(envelope, message),
            )
            await message.ack_sync()
            return

        # Apply it, retrying in place: letting the server redeliver it later
        # would let the next message overtake it. Set it aside if it persists.
        for attempt in range(1, PROCESSING_ATTEMPTS_BEFORE_DEAD_LETTER + 1):
            try:
                await self._apply_keeping_message(message, envelope)
                break
            except Exception as error:
                _raise_if_stopping()
                if attempt == PROCESSING_ATTEMPTS_BEFORE_DEAD_LETTER:
                    logger.exception(
                        "event failed repeatedly",
                        exc_info=error,
                        extra=_log_fields(envelope, message),
                    )
                    await self._dead_letter(
                        js, message, f"processing failed: {error!r}"
                    )
                    return
                logger.warning(
                    "event failed, retrying",
                    extra={**_log_fields(envelope, message), "error": repr(error)},
                )
                await self._wait_keeping_message(message, min(2.0**attempt, 30.0))
        self.status.processed += 1
        logger.debug("event applied", extra=_log_fields(envelope, message))
        await message.ack_sync()

    async def _replay(self, message: Msg, envelope: Envelope) -> None:
        logger.warning(
            "applying a replayed dead letter", extra=_log_fields(envelope, message)
        )
        if self.app.has_processed(self.upstream.service, envelope.sequence):
            await asyncio.to_thread(self.app.replay_upstream, envelope)
        else:
            await self._apply_keeping_message(message, envelope)
        await message.ack_sync()

    async def _apply_keeping_message(self, message: Msg, envelope: Envelope) -> None:
        """Applies in a thread, telling the server meanwhile that we still work."""
        work = asyncio.ensure_future(asyncio.to_thread(self._apply, envelope))
        while True:
            done, _ = await asyncio.wait({work}, timeout=ACK_WAIT_SECONDS / 2)
            if done:
                work.result()
                return
            await message.in_progress()

    def _apply(self, envelope: Envelope) -> None:
        tracking = Tracking(self.upstream.service, envelope.sequence)
        for attempt in range(1, 6):
            try:
                self.app.process_upstream(envelope, tracking)
                return
            except IntegrityError:
                # Either someone applied it first, or an aggregate moved on.
                if self.app.has_processed(self.upstream.service, envelope.sequence):
                    return
                if attempt == 5:
                    raise
                time.sleep(0.01 * attempt)

    async def _wait_keeping_message(self, message: Msg, seconds: float) -> None:
        """Pauses before a retry without letting the message go back."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, ACK_WAIT_SECONDS / 2))
            await message.in_progress()

    async def _dead_letter(
        self, js: JetStreamContext, message: Msg, reason: str
    ) -> None:
        """Copies the message to the dead-letter stream, then drops it here."""
        headers = dict(message.headers or {})
        headers.pop("Nats-Msg-Id", None)
        headers[DEAD_LETTER_REASON_HEADER] = reason.replace("\n", " ")[:500]
        headers[ORIGINAL_SUBJECT_HEADER] = message.subject
        headers[CONSUMER_HEADER] = self.durable
        subject = f"{DEAD_LETTER_SUBJECT_PREFIX}.{self.service}.{self.upstream.service}"
        await js.publish(subject, message.data, headers=headers, timeout=5)
        await message.term()
        self.status.dead_lettered += 1
        logger.error(
            "message dead-lettered",
            extra={
                "consumer": self.durable,
                "subject": message.subject,
                "reason": reason,
            },
        )


def _log_fields(envelope: Envelope, message: Msg) -> dict[str, Any]:
    return {
        "event_type": envelope.type,
        "request_id": envelope.subject,
        "upstream_position": envelope.sequence,
        "stream_sequence": message.metadata.sequence.stream,
        "deliveries": message.metadata.num_delivered,
    }


@dataclass
class MessagingStatus:
    streams_ready: bool = False


class Messaging:
    """The service's NATS side: connection, streams, relay and consumers."""

    def __init__(
        self,
        *,
        service: str,
        nats_url: str,
        app: ServiceApplication,
        translate: Translator,
        own_stream: StreamSpec,
        consumes: Sequence[tuple[StreamSpec, Sequence[str]]],
        stream_replicas: int = 1,
    ) -> None:
        self.service = service
        self.nats_urls = [url.strip() for url in nats_url.split(",") if url.strip()]
        self.app = app
        self.translate = translate
        self.own_stream = own_stream
        self.stream_replicas = stream_replicas
        self.consumers = [
            UpstreamConsumer(app=app, service=service, upstream=spec, subjects=subjects)
            for spec, subjects in consumes
        ]
        self.status = MessagingStatus()
        self.relay: Relay | None = None
        self._client: NatsClient | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        """Starts in the background; the service answers HTTP meanwhile."""
        self.relay = Relay(
            app=self.app, stream=self.own_stream, translate=self.translate
        )
        self._tasks.append(asyncio.create_task(self._run(), name="messaging"))

    async def stop(self) -> None:
        """Stops the relay and consumers, then the connection, within seconds."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)
            if stuck:
                logger.warning("messaging tasks did not stop in time")
        self._tasks.clear()
        if self._client is not None and not self._client.is_closed:
            await self._client.close()

    @property
    def client(self) -> NatsClient | None:
        return self._client

    def is_ready(self) -> tuple[bool, dict[str, Any]]:
        """Ready means: connected, streams provisioned, every consumer fetching."""
        now = time.monotonic()
        connected = self._client is not None and self._client.is_connected
        consumers = {
            consumer.durable: {
                "attached": consumer.status.attached,
                "seconds_since_fetch": round(
                    now - consumer.status.last_fetch_monotonic, 1
                ),
                "processed": consumer.status.processed,
                "duplicates": consumer.status.duplicates,
                "dead_lettered": consumer.status.dead_lettered,
                "pending": consumer.status.pending,
                "stalls": consumer.status.stalls,
                "last_error": consumer.status.last_error,
            }
            for consumer in self.consumers
        }
        consumers_fetching = all(
            consumer.status.attached
            and now - consumer.status.last_fetch_monotonic
            < 5 * FETCH_TIMEOUT_SECONDS + 5
            for consumer in self.consumers
        )
        ready = connected and self.status.streams_ready and consumers_fetching
        return ready, {
            "nats_connected": connected,
            "streams_ready": self.status.streams_ready,
            "consumers": consumers,
        }

    async def _run(self) -> None:
        self._client = await self._connect()
        js = self._client.jetstream(timeout=5)
        await self._provision_until_done(js)
        assert self.relay is not None
        workers: list[Awaitable[None]] = [self.relay.run(js)]
        workers += [consumer.run(js) for consumer in self.consumers]
        await asyncio.gather(*workers)

    async def _connect(self) -> NatsClient:
        """Connects, retrying forever; reconnection is then the client's job."""
        delay = 0.2
        while True:
            try:
                return await nats.connect(
                    servers=self.nats_urls,
                    name=f"purnajual-{self.service}",
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    connect_timeout=2,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                _raise_if_stopping()
                logger.warning(
                    "NATS not reachable, retrying",
                    extra={"servers": self.nats_urls, "error": repr(error)},
                )
                await asyncio.sleep(delay)
                delay = _next_delay(delay)

    async def _provision_until_done(self, js: JetStreamContext) -> None:
        delay = 0.2
        while True:
            try:
                await self.provision(js)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                _raise_if_stopping()
                logger.warning(
                    "stream provisioning failed", extra={"error": repr(error)}
                )
                await asyncio.sleep(delay)
                delay = _next_delay(delay)

    async def provision(self, js: JetStreamContext) -> None:
        """Creates our stream and the ones we read, so start order never matters."""
        specs = [self.own_stream] + [consumer.upstream for consumer in self.consumers]
        for spec in {spec.name: spec for spec in specs}.values():
            await ensure_stream(
                js, stream_config(spec.name, spec.subjects, self.stream_replicas)
            )
        await ensure_stream(
            js,
            stream_config(
                DEAD_LETTER_STREAM_NAME,
                [f"{DEAD_LETTER_SUBJECT_PREFIX}.>"],
                self.stream_replicas,
            ),
        )
        self.status.streams_ready = True

    async def _on_error(self, error: Exception) -> None:
        logger.warning("NATS error", extra={"error": repr(error)})

    async def _on_disconnected(self) -> None:
        if self._stopping:
            logger.info("NATS connection closed")
            return
        logger.warning("NATS disconnected")

    async def _on_reconnected(self) -> None:
        logger.info("NATS reconnected")
        # A restarted server without its store has lost our streams.
        if self._client is not None:
            try:
                await self.provision(self._client.jetstream(timeout=5))
            except Exception as error:
                logger.warning(
                    "re-provisioning after reconnect failed",
                    extra={"error": repr(error)},
                )
