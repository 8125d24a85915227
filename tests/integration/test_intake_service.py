"""Intake as a process, on PostgreSQL, with its own nats-server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from purnajual.contracts import RequestSubmitted
from tests.builders import request_approved, schedule_issued, submission
from tests.conftest import ServiceFactory
from tests.support import Broker, NatsServer, ServiceProcess, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def intake(
    service_process: ServiceFactory, database_url: str, fresh_nats: NatsServer
) -> ServiceProcess:
    service = service_process(
        "intake", DATABASE_URL=database_url, NATS_URL=fresh_nats.url
    )
    service.start()
    return service


def test_a_submission_is_registered_and_published_once(
    intake: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    body = submission()

    created = intake.post("/requests", json=body)
    repeated = intake.post("/requests", json=body)
    reused = intake.post("/requests", json={**body, "description": "Lain lagi."})

    assert created.status_code == 201
    assert repeated.status_code == 200
    assert repeated.json()["reference"] == created.json()["reference"]
    assert repeated.json()["duplicate"] is True
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "body.channel_message_id"
    assert reused.json()["reference"] == created.json()["reference"]
    published = wait_for(lambda: broker.envelopes("INTAKE"))
    assert len(published) == 1
    assert isinstance(published[0].data, RequestSubmitted)
    assert published[0].data.reference == created.json()["reference"]
    assert published[0].id == "intake:" + str(published[0].sequence)
    assert broker.messages("INTAKE")[0][1]["Nats-Msg-Id"] == published[0].id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "pigeon"}, "body.channel"),
        ({"services": []}, "body.services"),
        (
            {"stakeholder": {"institution": "", "contact_name": "x"}},
            "body.stakeholder.institution",
        ),
        ({"received_at": "2026-12-01T08:00:00"}, "body.received_at"),
        ({"surprise": 1}, "body.surprise"),
        ({"received_at": 1}, "body.received_at"),
        ({"received_at": "1764000000"}, "body.received_at"),
        ({"received_at": "0001-01-01T00:00:00+14:00"}, "body.received_at"),
        ({"services": ["training", "training"]}, "body.services"),
        ({"description": "\u200b\u200d"}, "body.description"),
        ({"description": "ada\u0000nol"}, "body.description"),
    ],
)
def test_malformed_input_is_refused_as_a_problem_naming_the_field(
    intake: ServiceProcess, change: dict[str, object], field: str
) -> None:
    response = intake.post("/requests", json={**submission(), **change})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert intake.get("/requests").json()["total"] == 0


def test_broken_json_is_refused_at_the_body_saying_where_it_broke(
    intake: ServiceProcess,
) -> None:
    response = intake.post(
        "/requests",
        content=b'{"channel": ',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["field"] == "body"
    assert problem["message"].startswith("Not valid JSON at character 12")


def test_a_rule_broken_is_refused_naming_the_field_and_nothing_is_stored(
    intake: ServiceProcess, fresh_nats: NatsServer
) -> None:
    # A query parameter of the same name does not move the body's field.
    response = intake.post(
        "/requests?services=x", json=submission(services=["massage"])
    )

    assert response.status_code == 422
    assert response.json()["field"] == "services.0"
    assert response.json()["errors"][0]["field"] == "body.services.0"
    assert intake.get("/requests").json()["total"] == 0
    assert Broker(fresh_nats.url).messages("INTAKE") == []


def test_the_timeline_follows_upstream_events_once_each(
    intake: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    created = intake.post("/requests", json=submission()).json()
    approved = request_approved(UUID(created["request_id"]))

    broker.publish("approval", 1, approved)
    broker.publish("approval", 1, approved, msg_id="a-redelivery")

    def approved_on_timeline() -> list[str]:
        view = intake.get(f"/requests/{created['reference']}").json()
        return (
            [entry["step"] for entry in view["timeline"]]
            if view["status"] == "approved"
            else []
        )

    assert wait_for(approved_on_timeline) == ["submitted", "approved"]
    wait_for(lambda: _consumer(intake, "intake-from-approval")["duplicates"] == 1)
    assert approved_on_timeline() == ["submitted", "approved"]
    listed = intake.get("/requests", status="approved").json()
    assert [item["reference"] for item in listed["items"]] == [created["reference"]]
    # A delivered receipt is on the timeline but is never a status to filter by.
    never_a_status = intake.get("/requests", status="receipt_delivered")
    assert never_a_status.status_code == 422
    assert never_a_status.json()["errors"][0]["field"] == "query.status"


def test_a_schedule_arriving_before_its_approval_gives_the_in_order_timeline(
    intake: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    created = intake.post("/requests", json=submission()).json()
    request_id = UUID(created["request_id"])
    approved_at = datetime.now(UTC)
    scheduled_at = approved_at + timedelta(minutes=12)

    broker.publish("scheduling", 1, schedule_issued(request_id), time=scheduled_at)
    broker.publish("approval", 1, request_approved(request_id), time=approved_at)

    def both_steps() -> dict[str, Any] | None:
        view: dict[str, Any] = intake.get(f"/requests/{created['reference']}").json()
        return view if len(view["timeline"]) == 3 else None

    view = wait_for(both_steps)
    assert [entry["step"] for entry in view["timeline"]] == [
        "submitted",
        "approved",
        "scheduled",
    ]
    assert view["status"] == "scheduled"


def test_an_unknown_reference_is_a_404_problem(intake: ServiceProcess) -> None:
    response = intake.get("/requests/PPJ-1999-00001")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reference"] == "PPJ-1999-00001"


def test_requests_survive_a_restart(intake: ServiceProcess) -> None:
    created = intake.post("/requests", json=submission()).json()

    intake.stop()
    intake.start()

    assert (
        intake.get(f"/requests/{created['reference']}").json()["request_id"]
        == (created["request_id"])
    )
    assert intake.get("/ready").json()["ready"] is True


def _consumer(service: ServiceProcess, durable: str) -> dict[str, object]:
    consumers: dict[str, dict[str, object]] = service.get("/ready").json()["consumers"]
    return consumers[durable]


WORDS_IN_MANY_SCRIPTS = "H. Ma'ruf — ꦱꦸꦫꦠ꧀ ꦥꦚꦸꦮꦸꦤ꧀, طلب خدمة, 👩🏽‍🌾🐄 sapi, Cafe\u0301"


def form_fields(channel_message_id: str) -> list[tuple[str, str]]:
    return [
        ("channel", "online_form"),
        ("channel_message_id", channel_message_id),
        ("stakeholder.institution", "Kelompok Tani Ternak Sri Rejeki"),
        ("stakeholder[contact_name]", WORDS_IN_MANY_SCRIPTS),
        ("stakeholder.email", "sri.rejeki@example.id"),
        ("services", "field_semen_test,complaint"),
        ("description", WORDS_IN_MANY_SCRIPTS),
    ]


def test_a_web_form_is_taken_like_json_and_text_survives_unchanged(
    intake: ServiceProcess, fresh_nats: NatsServer
) -> None:
    urlencoded = intake.post("/requests", data=dict(form_fields("form-1")))
    multipart = httpx.post(
        f"{intake.url}/requests",
        files=[(name, (None, value)) for name, value in form_fields("form-2")],
        timeout=10,
    )

    assert (urlencoded.status_code, multipart.status_code) == (201, 201)
    published = wait_for(lambda: len(Broker(fresh_nats.url).envelopes("INTAKE")) == 2)
    for envelope in Broker(fresh_nats.url).envelopes("INTAKE"):
        assert isinstance(envelope.data, RequestSubmitted)
        assert envelope.data.stakeholder.contact_name == WORDS_IN_MANY_SCRIPTS
    for answer in (urlencoded, multipart):
        view = intake.get(f"/requests/{answer.json()['reference']}").json()
        assert view["stakeholder"]["contact_name"] == WORDS_IN_MANY_SCRIPTS
        assert view["description"] == WORDS_IN_MANY_SCRIPTS
        assert view["services"] == ["field_semen_test", "complaint"]
    assert published


def test_an_attachment_is_refused_by_name(intake: ServiceProcess) -> None:
    response = httpx.post(
        f"{intake.url}/requests",
        data=dict(form_fields("form-3")),
        files={"letter": ("surat.pdf", b"%PDF-1.4", "application/pdf")},
        timeout=10,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.letter"
    assert intake.get("/requests").json()["total"] == 0


def test_a_form_with_a_missing_field_names_it(intake: ServiceProcess) -> None:
    fields = dict(form_fields("form-4"))
    del fields["stakeholder.institution"]

    response = intake.post("/requests", data=fields)

    assert response.status_code == 422
    fields_at_fault = [error["field"] for error in response.json()["errors"]]
    assert "body.stakeholder.institution" in fields_at_fault
