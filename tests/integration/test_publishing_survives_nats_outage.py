"""No dual write: what is committed while NATS is away is published when it is back."""

from __future__ import annotations

import time

import pytest

from purnajual.contracts import RequestSubmitted
from tests.builders import submission
from tests.conftest import ServiceFactory
from tests.support import Broker, NatsServer, running, wait_for

pytestmark = pytest.mark.postgres


def test_requests_accepted_while_nats_is_down_are_published_once_it_is_back(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> None:
    intake = service_process(
        "intake", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    intake.start()
    fresh_nats.stop()

    answers = [intake.post("/requests", json=submission()) for _ in range(3)]
    lag = wait_for(lambda: intake.get("/ready").json()["relay_lag"])
    not_ready = intake.get("/ready")
    fresh_nats.start()

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert lag >= 3
    assert not_ready.status_code == 503
    assert not_ready.json()["nats_connected"] is False
    broker = Broker(fresh_nats.url)
    published = wait_for(
        lambda: len(broker.envelopes("INTAKE")) == 3 and broker.envelopes("INTAKE")
    )
    assert all(isinstance(envelope.data, RequestSubmitted) for envelope in published)
    assert sorted(e.data.reference for e in published) == sorted(
        answer.json()["reference"] for answer in answers
    )
    wait_for(lambda: intake.get("/ready").status_code == 200, timeout=30)
    assert intake.get("/ready").json()["relay_lag"] == 0


def test_a_nats_outage_longer_than_the_reconnect_budget_loses_nothing(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> None:
    """Down for 130 s: past nats-py's default 60 attempts and the dedup window."""
    env = {"DATABASE_URL": database_url, "NATS_URL": fresh_nats.url}
    intake = service_process("intake", **env)
    approval = service_process("approval", **env)
    with running(intake, approval):
        fresh_nats.stop()
        answers = []
        for _ in range(14):
            answers.append(intake.post("/requests", json=submission()))
            time.sleep(10)
        fresh_nats.start()

        assert {answer.status_code for answer in answers} == {201}
        broker = Broker(fresh_nats.url)
        wait_for(lambda: len(broker.envelopes("INTAKE")) == 14, timeout=60)
        wait_for(
            lambda: len(approval.get("/approvals", status="pending").json()) == 14,
            timeout=60,
        )
        time.sleep(2)
        assert len(broker.envelopes("INTAKE")) == 14
        assert intake.get("/ready").status_code == 200
        assert approval.get("/ready").status_code == 200
