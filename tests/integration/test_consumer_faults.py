"""A consumer against a real nats-server: slow, failing, restarted, stalled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import nats
from eventsourcing.application import ProcessingEvent
from nats.js import JetStreamContext

from purnajual.contracts import INTAKE_STREAM
from purnajual.envelope import Envelope
from purnajual.messaging import (
    ACK_WAIT_SECONDS,
    UpstreamConsumer,
    ensure_stream,
    stream_config,
)
from purnajual.persistence import ServiceApplication, event_store_env
from tests.builders import request_submitted
from tests.support import Broker, NatsServer


class Recorder(ServiceApplication):
    """A service whose policy only notes what it saw, slowly or failing if told."""

    name = "recorder"

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.seen: list[int] = []
        self.slow_seconds = 0.0
        self.failures_left: dict[int, int] = {}

    def apply_upstream_event(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        position = envelope.sequence
        if self.failures_left.get(position, 0) > 0:
            self.failures_left[position] -= 1
            raise RuntimeError(f"position {position} not yet")
        time.sleep(self.slow_seconds)
        self.seen.append(position)


def recorder(tmp_path: Path) -> Recorder:
    return Recorder(
        event_store_env(service="recorder", database_url=None, var_dir=tmp_path)
    )


async def consume_until(
    nats_url: str,
    consumer: UpstreamConsumer,
    done: Callable[[], bool],
    meanwhile: Callable[[JetStreamContext], Awaitable[Any]] | None = None,
    timeout: float = 40,
) -> None:
    client = await nats.connect(
        nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2
    )
    js = client.jetstream(timeout=5)
    await ensure_stream(
        js, stream_config(INTAKE_STREAM.name, INTAKE_STREAM.subjects, 1)
    )
    task = asyncio.create_task(consumer.run(js))
    try:
        if meanwhile is not None:
            await meanwhile(js)
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"not done: {consumer.status}"
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()


def a_consumer(app: Recorder) -> UpstreamConsumer:
    return UpstreamConsumer(
        app=app, service="recorder", upstream=INTAKE_STREAM, subjects=["intake.>"]
    )


async def _create_stream(nats_url: str) -> None:
    client = await nats.connect(nats_url)
    spec = INTAKE_STREAM
    await ensure_stream(client.jetstream(), stream_config(spec.name, spec.subjects, 1))
    await client.close()


def publish(broker: Broker, *positions: int) -> None:
    asyncio.run(_create_stream(broker.url))
    for position in positions:
        broker.publish("intake", position, request_submitted(uuid4()))


def test_a_handler_slower_than_the_ack_wait_has_one_effect(
    tmp_path: Path, fresh_nats: NatsServer
) -> None:
    app = recorder(tmp_path)
    app.slow_seconds = ACK_WAIT_SECONDS + 2
    consumer = a_consumer(app)
    publish(Broker(fresh_nats.url), 1, 2)

    asyncio.run(consume_until(fresh_nats.url, consumer, lambda: app.seen == [1, 2]))

    assert consumer.status.duplicates == 0
    assert app.position_of("intake") == 2


def test_a_failing_event_is_retried_in_place_and_nothing_overtakes_it(
    tmp_path: Path, fresh_nats: NatsServer
) -> None:
    app = recorder(tmp_path)
    app.failures_left = {1: 2}
    consumer = a_consumer(app)
    publish(Broker(fresh_nats.url), 1, 2, 3)

    asyncio.run(consume_until(fresh_nats.url, consumer, lambda: len(app.seen) == 3))

    assert app.seen == [1, 2, 3]


def test_a_restarted_nats_server_does_not_stop_a_waiting_consumer(
    tmp_path: Path, fresh_nats: NatsServer
) -> None:
    app = recorder(tmp_path)
    consumer = a_consumer(app)
    broker = Broker(fresh_nats.url)
    publish(broker, 1)

    async def restart_while_fetching(js: JetStreamContext) -> None:
        while app.seen != [1]:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(fresh_nats.stop)
        await asyncio.sleep(1)
        await asyncio.to_thread(fresh_nats.start)
        await asyncio.to_thread(publish, broker, 2)

    asyncio.run(
        consume_until(
            fresh_nats.url, consumer, lambda: app.seen == [1, 2], restart_while_fetching
        )
    )


def test_a_subscription_that_silently_stops_receiving_is_replaced(
    tmp_path: Path, fresh_nats: NatsServer
) -> None:
    app = recorder(tmp_path)
    consumer = a_consumer(app)
    broker = Broker(fresh_nats.url)
    publish(broker, 1)
    deaf: list[object] = []
    attach = consumer._attach

    async def attach_then_go_deaf(
        js: JetStreamContext,
    ) -> JetStreamContext.PullSubscription:
        # The first subscription loses its inbox: fetches go out, nothing comes back.
        subscription = await attach(js)
        if not deaf:
            deaf.append(subscription)
            await subscription._sub.unsubscribe()
        return subscription

    consumer._attach = attach_then_go_deaf  # type: ignore[method-assign]

    asyncio.run(
        consume_until(fresh_nats.url, consumer, lambda: app.seen == [1], timeout=60)
    )

    assert consumer.status.stalls == 1
