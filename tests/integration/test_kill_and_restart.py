"""``kill -9`` at any moment: after a restart, every effect happens exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import psycopg
import pytest

from tests.builders import request_submitted, submission
from tests.conftest import ServiceFactory
from tests.support import Broker, NatsServer, wait_for

pytestmark = pytest.mark.postgres


def count_topic(database_url: str, table: str, topic: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            f"SELECT count(*) FROM {table} WHERE topic = %s", (topic,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_intake_killed_while_accepting_requests_publishes_each_once(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> None:
    intake = service_process(
        "intake", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    intake.start()
    accepted: list[str] = []
    bodies = [submission() for _ in range(60)]

    def submit_all() -> None:
        with httpx.Client(timeout=5) as client:
            for body in bodies:
                try:
                    response = client.post(f"{intake.url}/requests", json=body)
                except httpx.HTTPError:
                    return
                accepted.append(response.json()["reference"])

    sender = threading.Thread(target=submit_all)
    sender.start()
    wait_for(lambda: len(accepted) >= 20)
    intake.kill()
    sender.join()
    intake.start()

    for body in bodies:
        intake.post("/requests", json=body)
    broker = Broker(fresh_nats.url)
    published = wait_for(
        lambda: len(broker.envelopes("INTAKE")) >= 60 and broker.envelopes("INTAKE")
    )
    time.sleep(1)
    references = Counter(
        envelope.data.reference for envelope in broker.envelopes("INTAKE")
    )
    assert len(published) == 60
    assert set(references.values()) == {1}
    assert set(accepted) <= set(references)


def test_a_consumer_killed_mid_stream_catches_up_without_new_traffic(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> None:
    approval = service_process(
        "approval", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    approval.start()
    broker = Broker(fresh_nats.url)
    submitted = [request_submitted() for _ in range(40)]
    for position, event in enumerate(submitted, start=1):
        broker.publish("intake", position, event)

    wait_for(lambda: len(approval.get("/approvals").json()) >= 5, interval=0.01)
    approval.kill()
    approval.start()

    wait_for(lambda: len(approval.get("/approvals", status="pending").json()) == 40)
    assert (
        count_topic(
            database_url, "approval.approval_events", "approval.Approval.Requested"
        )
        == 40
    )
