"""Races and retries at the edges: the same message many times, many at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.builders import submission
from tests.conftest import ServiceFactory
from tests.support import Broker, NatsServer, ServiceProcess, wait_for


@pytest.fixture(params=["sqlite", "postgres"])
def intake(
    request: pytest.FixtureRequest,
    service_process: ServiceFactory,
    fresh_nats: NatsServer,
) -> ServiceProcess:
    env = {"NATS_URL": fresh_nats.url}
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("database_url")
    service = service_process("intake", **env)
    service.start()
    return service


def at_once(
    count: int, call: Callable[[], httpx.Response]
) -> list[tuple[int, str, float]]:
    """Runs ``call`` from ``count`` threads released together."""
    gate = threading.Barrier(count)

    def timed() -> tuple[int, str, float]:
        gate.wait()
        started = time.monotonic()
        response = call()
        return response.status_code, response.text, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: timed(), range(count)))


def test_the_same_whatsapp_message_posted_20_times_at_once_is_one_request(
    intake: ServiceProcess, fresh_nats: NatsServer
) -> None:
    body = submission(
        channel="whatsapp", channel_message_id="wamid.HBgLNjI4MTI5OTk5MDAwFQIAEhgU"
    )

    answers = at_once(20, lambda: intake.post("/requests", json=body))
    time.sleep(30)
    later = intake.post("/requests", json=body)

    statuses = Counter(status for status, _, _ in answers)
    assert statuses == Counter({201: 1, 200: 19})
    assert max(seconds for _, _, seconds in answers) < 5
    references = {
        httpx.Response(200, text=text).json()["reference"] for _, text, _ in answers
    }
    assert len(references) == 1
    assert later.status_code == 200
    assert later.json()["reference"] in references
    assert len(Broker(fresh_nats.url).envelopes("INTAKE")) == 1


def test_an_email_gateway_retrying_after_its_own_failure_makes_one_request(
    intake: ServiceProcess, fresh_nats: NatsServer
) -> None:
    body = submission(channel="email", channel_message_id="<retry-1@mail.example.id>")

    # The gateway gives up on its first attempt before reading the answer.
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{intake.url}/requests", json=body, timeout=0.001)
    retries = [intake.post("/requests", json=body) for _ in range(3)]

    assert {answer.json()["reference"] for answer in retries} == {
        retries[0].json()["reference"]
    }
    assert intake.get("/requests").json()["total"] == 1
    wait_for(lambda: Broker(fresh_nats.url).envelopes("INTAKE"))
    assert len(Broker(fresh_nats.url).envelopes("INTAKE")) == 1


def test_30_parallel_submissions_and_reads_all_succeed_with_distinct_references(
    intake: ServiceProcess,
) -> None:
    bodies = [submission() for _ in range(30)]
    posted: list[httpx.Response] = []
    read: list[httpx.Response] = []

    def post(index: int) -> None:
        posted.append(intake.post("/requests", json=bodies[index]))

    def read_list(_: int) -> None:
        read.append(intake.get("/requests", limit=100))

    with ThreadPoolExecutor(max_workers=60) as pool:
        futures = [pool.submit(post, i) for i in range(30)] + [
            pool.submit(read_list, i) for i in range(30)
        ]
        for future in futures:
            future.result()

    assert {answer.status_code for answer in posted} == {201}
    assert {answer.status_code for answer in read} == {200}
    assert len({answer.json()["reference"] for answer in posted}) == 30
