"""Scheduling and fieldwork as processes, on PostgreSQL, with a nats-server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from purnajual.contracts import BeritaAcaraFiled, ScheduleIssued
from purnajual.messaging import ensure_stream, stream_config
from tests.builders import (
    berita_acara_report,
    request_approved,
    schedule_issued,
    schedule_revised,
)
from tests.conftest import ServiceFactory
from tests.support import (
    Broker,
    NatsServer,
    ServiceProcess,
    today_in_jakarta,
    wait_for,
)

pytestmark = pytest.mark.postgres


def a_schedule(
    days: int = 0, employee_number: str = "198203112006041001"
) -> dict[str, object]:
    today = today_in_jakarta()

    first = today + timedelta(days=days)
    return {
        "visit_start": first.isoformat(),
        "visit_end": (first + timedelta(days=1)).isoformat(),
        "location": "Depo Garut",
        "officers": [{"name": "Asep Suryana", "employee_number": employee_number}],
        "equipment": ["mikroskop"],
        "scheduled_by": "Kasi Jasa Produksi",
    }


@pytest.fixture
def scheduling(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> ServiceProcess:
    service = service_process(
        "scheduling", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    service.start()
    return service


@pytest.fixture
def fieldwork(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> ServiceProcess:
    service = service_process(
        "fieldwork", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    service.start()
    return service


def test_a_schedule_is_issued_and_an_overlapping_booking_refused(
    scheduling: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    first, second = uuid4(), uuid4()
    broker.publish("approval", 1, request_approved(first))
    broker.publish("approval", 2, request_approved(second))
    wait_for(lambda: len(scheduling.get("/schedules", status="awaiting").json()) == 2)

    plan = a_schedule(0)
    issued = scheduling.post(f"/schedules/{first}", json=plan)
    overlapping = scheduling.post(f"/schedules/{second}", json=a_schedule(1))

    assert issued.status_code == 201
    assert overlapping.status_code == 409
    assert overlapping.json()["officer"] == "Asep Suryana"
    assert overlapping.json()["booked_for"] == "PPJ-2026-00001"
    published = wait_for(lambda: broker.envelopes("SCHEDULING"))
    assert [type(e.data) for e in published] == [ScheduleIssued]
    assert published[0].data.visit_start.isoformat() == plan["visit_start"]


def test_a_schedule_for_a_request_not_approved_is_refused(
    scheduling: ServiceProcess,
) -> None:
    response = scheduling.post(f"/schedules/{uuid4()}", json=a_schedule())

    assert response.status_code == 409
    assert response.json()["current_status"] == "not_approved"


def test_a_visit_ending_before_it_starts_is_refused(
    scheduling: ServiceProcess, fresh_nats: NatsServer
) -> None:
    today = today_in_jakarta()

    request_id = uuid4()
    Broker(fresh_nats.url).publish("approval", 1, request_approved(request_id))
    wait_for(lambda: scheduling.get(f"/schedules/{request_id}").status_code == 200)

    response = scheduling.post(
        f"/schedules/{request_id}",
        json={**a_schedule(), "visit_end": (today - timedelta(days=3)).isoformat()},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "visit_end"


def test_a_berita_acara_is_filed_judged_published_and_printable(
    fieldwork: ServiceProcess, fresh_nats: NatsServer
) -> None:
    today = today_in_jakarta()

    broker = Broker(fresh_nats.url)
    request_id = uuid4()
    broker.publish("scheduling", 1, schedule_issued(request_id, today))
    wait_for(lambda: fieldwork.get("/visits", status="scheduled").json())

    filed = fieldwork.post(
        f"/visits/{request_id}/berita-acara", json=berita_acara_report(today)
    )

    assert filed.status_code == 201
    samples = filed.json()["berita_acara"]["samples"]
    assert [s["verdict"] for s in samples] == ["meets_standard", "below_standard"]
    published = wait_for(lambda: broker.envelopes("FIELDWORK"))
    assert isinstance(published[0].data, BeritaAcaraFiled)
    assert (
        published[0].data.samples_tested,
        published[0].data.samples_meeting_standard,
    ) == (2, 1)
    page = fieldwork.get(f"/visits/{request_id}/berita-acara", format="html")
    assert page.headers["content-type"].startswith("text/html")
    assert filed.json()["berita_acara"]["number"] in page.text
    assert "Di bawah standar" in page.text


def test_a_berita_acara_with_bad_measurements_names_the_field(
    fieldwork: ServiceProcess, fresh_nats: NatsServer
) -> None:
    today = today_in_jakarta()

    request_id = uuid4()
    Broker(fresh_nats.url).publish("scheduling", 1, schedule_issued(request_id, today))
    wait_for(lambda: fieldwork.get(f"/visits/{request_id}").status_code == 200)
    report = berita_acara_report(today)
    report["samples"][0]["post_thaw_motility_percent"] = [45, 150]

    response = fieldwork.post(f"/visits/{request_id}/berita-acara", json=report)

    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert "body.samples.0.post_thaw_motility_percent.1" in fields
    assert fieldwork.get(f"/visits/{request_id}/berita-acara").status_code == 404


def test_a_berita_acara_for_a_visit_not_scheduled_is_refused(
    fieldwork: ServiceProcess,
) -> None:
    today = today_in_jakarta()

    response = fieldwork.post(
        f"/visits/{uuid4()}/berita-acara", json=berita_acara_report(today)
    )

    assert response.status_code == 409
    assert response.json()["current_status"] == "not_scheduled"


def test_a_consumer_left_from_an_older_version_takes_the_new_subjects(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> None:
    today = today_in_jakarta()
    request_id = uuid4()

    # As fieldwork 1.0 left it: reading issued schedules only.
    async def leave_old_consumer() -> None:
        client = await nats.connect(fresh_nats.url)
        js = client.jetstream()
        await ensure_stream(js, stream_config("SCHEDULING", ["scheduling.>"], 1))
        await js.add_consumer(
            "SCHEDULING",
            ConsumerConfig(
                durable_name="fieldwork-from-scheduling",
                ack_policy=AckPolicy.EXPLICIT,
                filter_subjects=["scheduling.schedule.issued"],
            ),
        )
        await client.close()

    asyncio.run(leave_old_consumer())
    fieldwork = service_process(
        "fieldwork", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    fieldwork.start()
    broker = Broker(fresh_nats.url)
    broker.publish("scheduling", 1, schedule_issued(request_id, today))
    broker.publish("scheduling", 2, schedule_revised(request_id, today))

    moved = wait_for(
        lambda: (
            fieldwork.get(f"/visits/{request_id}").json()["location"] == "Depo Sumedang"
        )
    )
    assert moved
