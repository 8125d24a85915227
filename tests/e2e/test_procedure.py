"""The whole procedure: five service processes and a nats-server, driven over HTTP.

Runs once on the embedded SQLite default and once on PostgreSQL.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from examples.walkthrough import EXAMPLES_DIR, Services, visit_today, walk
from purnajual.contracts import SlaClockEvent
from tests.conftest import ServiceFactory
from tests.support import (
    Broker,
    NatsServer,
    ServiceProcess,
    running,
    today_in_jakarta,
    wait_for,
)

pytestmark = pytest.mark.e2e
SERVICE_NAMES = ("intake", "approval", "scheduling", "fieldwork", "notifier")
STREAMS = ("INTAKE", "APPROVAL", "SCHEDULING", "FIELDWORK", "NOTIFIER")
APPROVED_PATH = [
    "intake.request.submitted",
    "approval.request.approved",
    "scheduling.schedule.issued",
    "fieldwork.berita_acara.filed",
    "notifier.receipt.delivered",
    "notifier.schedule.conveyed",
    "notifier.berita_acara.delivered",
]
# Example 02's visit is moved once before it takes place.
REVISED_PATH = [
    *APPROVED_PATH,
    "scheduling.schedule.revised",
    "notifier.schedule_revision.conveyed",
]
REJECTED_PATH = [
    "intake.request.submitted",
    "approval.request.rejected",
    "approval.rejection_letter.issued",
    "notifier.receipt.delivered",
    "notifier.rejection_letter.delivered",
]


@dataclass
class System:
    services: dict[str, ServiceProcess]
    broker: Broker
    var_dir: Path
    client: Services

    def events_of(self, request_id: str) -> Counter[str]:
        """The procedure's events of a request; the clocks' verdicts are apart."""
        return Counter(
            subject
            for stream in STREAMS
            for subject in self.broker.subjects(stream, request_id)
            if not subject.startswith("notifier.sla.")
        )

    def verdicts_of(self, request_id: str) -> Counter[tuple[str, str]]:
        """Each clock verdict of a request, as (kind, step)."""
        return Counter(
            (envelope.data.SUBJECT, envelope.data.step)
            for envelope in self.broker.envelopes("NOTIFIER")
            if isinstance(envelope.data, SlaClockEvent)
            and envelope.subject == request_id
        )

    def wait_for_events(self, request_id: str, count: int) -> Counter[str]:
        """The request's events in the streams, once at least ``count`` are in."""

        def enough() -> Counter[str] | None:
            events = self.events_of(request_id)
            return events if sum(events.values()) >= count else None

        found: Counter[str] = wait_for(enough)
        return found

    def stream_sizes(self) -> dict[str, int]:
        return {stream: len(self.broker.messages(stream)) for stream in STREAMS}


@pytest.fixture(params=["sqlite", "postgres"])
def system(
    request: pytest.FixtureRequest,
    service_process: ServiceFactory,
    fresh_nats: NatsServer,
    tmp_path: Path,
) -> Iterator[System]:
    env = {"NATS_URL": fresh_nats.url}
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("database_url")
    services = {name: service_process(name, **env) for name in SERVICE_NAMES}
    client = Services({name: service.url for name, service in services.items()})
    with running(*services.values()), client:
        yield System(services, Broker(fresh_nats.url), tmp_path / "var", client)


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (EXAMPLES_DIR / name).read_text(encoding="utf-8")
    )
    return loaded


def quiet(*_: object) -> None:
    return


def test_an_approved_request_travels_to_a_delivered_berita_acara(
    system: System,
) -> None:
    view = walk(system.client, example("01-garut-field-semen-test.json"), say=quiet)

    assert view["status"] == "berita_acara_delivered"
    assert [entry["step"] for entry in view["timeline"]][0] == "submitted"
    assert {entry["step"] for entry in view["timeline"]} == {
        "submitted",
        "receipt_delivered",
        "approved",
        "scheduled",
        "schedule_conveyed",
        "berita_acara_filed",
        "berita_acara_delivered",
    }
    events = system.wait_for_events(view["request_id"], 7)
    assert events == Counter(APPROVED_PATH)
    verdicts = system.verdicts_of(view["request_id"])
    assert set(verdicts.values()) == {1}
    assert ("notifier.sla.met", "registration") in verdicts or (
        "notifier.sla.breached",
        "registration",
    ) in verdicts
    outbox = list((system.var_dir / "outbox" / "email").glob("*.json"))
    assert len(outbox) == 3

    # Staff may quote the reference to any service, in any case.
    reference = view["reference"].lower()
    for service, path in (
        ("approval", f"/approvals/{reference}"),
        ("scheduling", f"/schedules/{reference}"),
        ("fieldwork", f"/visits/{reference}"),
        ("fieldwork", f"/visits/{reference}/berita-acara"),
    ):
        found = system.client.call("GET", service, path)
        assert found.json()["request_id"] == view["request_id"], path
    told = system.client.call(
        "GET", "notifier", "/notifications", params={"reference": reference}
    ).json()
    assert {n["purpose"] for n in told} == {"receipt", "schedule", "berita_acara"}
    unknown = system.client.call("GET", "approval", "/approvals/PPJ-1999-00001")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


def test_every_read_model_rebuilt_from_the_events_equals_the_live_one(
    system: System,
) -> None:
    for name in (
        "01-garut-field-semen-test.json",
        "02-cooperative-container-check.json",
        "03-private-buyer-rejected.json",
    ):
        walk(system.client, example(name), say=quiet)

    results = {
        name: service.post("/admin/rebuild-views").json()
        for name, service in system.services.items()
    }

    assert all(result["equal_to_live"] for result in results.values()), results
    assert results["intake"]["rows"] == 3
    # Receipts 3, schedules 2 and one revision, Berita Acara 2, a letter.
    assert results["notifier"]["rows"] == 9


def test_a_rejected_request_ends_with_its_letter_delivered(system: System) -> None:
    view = walk(system.client, example("03-private-buyer-rejected.json"), say=quiet)

    assert view["status"] == "rejection_letter_delivered"
    letter = next(e for e in view["timeline"] if e["step"] == "rejection_letter_issued")
    assert letter["details"]["letter_number"].startswith("B-1/PK.210/F2.J/")
    events = system.wait_for_events(view["request_id"], 5)
    assert events == Counter(REJECTED_PATH)


def test_a_visit_moved_before_it_happens_is_told_and_carried_out_as_revised(
    system: System,
) -> None:
    revision = example("02-cooperative-container-check.json")["revise_schedule"]

    view = walk(
        system.client, example("02-cooperative-container-check.json"), say=quiet
    )
    request_id = view["request_id"]

    def refused_once_reported() -> dict[str, Any] | None:
        today = today_in_jakarta().isoformat()
        again = system.client.call(
            "POST",
            "scheduling",
            f"/schedules/{request_id}/revisions",
            json={**revision, **visit_today(today)},
        )
        return again.json() if again.status_code == 409 else None

    steps = [entry["step"] for entry in view["timeline"]]
    assert view["status"] == "berita_acara_delivered"
    assert steps.count("schedule_revised") == 1
    assert system.wait_for_events(request_id, 9) == Counter(REVISED_PATH)
    visit = system.client.call("GET", "fieldwork", f"/visits/{request_id}").json()
    assert visit["location"] == revision["location"]
    assert [o["name"] for o in visit["officers"]] == [
        o["name"] for o in revision["officers"]
    ]
    told = [
        json.loads(path.read_text("utf-8"))
        for path in (system.var_dir / "outbox" / "whatsapp").glob("*.json")
    ]
    assert sum(revision["reason"] in message["text"] for message in told) == 1
    assert wait_for(refused_once_reported)["current_status"] == "visited"


def test_scheduling_refuses_a_visit_on_a_day_the_office_calendar_closes(
    system: System,
) -> None:
    garut = example("01-garut-field-semen-test.json")
    submitted = system.client.call("POST", "intake", "/requests", json=garut["request"])
    request_id = submitted.json()["request_id"]
    system.client.wait_for("approval", f"/approvals/{request_id}")
    system.client.call(
        "POST", "approval", f"/approvals/{request_id}/approve", json=garut["approve"]
    )
    system.client.wait_for("scheduling", f"/schedules/{request_id}")
    # A weekday the calendar still has open: a day already closed (Christmas, say)
    # would be refused before the test's own closure reaches scheduling.
    calendar = system.services["notifier"].get("/calendar").json()
    closed = {entry["day"] for entry in calendar["closed_days"]}
    holiday = today_in_jakarta() + timedelta(days=20)
    while holiday.weekday() >= 5 or holiday.isoformat() in closed:
        holiday += timedelta(days=1)
    on_the_holiday = {
        **garut["schedule"],
        "visit_start": holiday.isoformat(),
        "visit_end": holiday.isoformat(),
    }

    system.services["notifier"].put(
        f"/calendar/closed-days/{holiday}", {"name": "Libur uji", "kind": "holiday"}
    )

    def known_to_scheduling() -> bool:
        # A request scheduling never heard of: refused for the day, or else 409.
        probe = system.client.call(
            "POST", "scheduling", f"/schedules/{uuid4()}", json=on_the_holiday
        )
        return probe.status_code == 422

    assert wait_for(known_to_scheduling)
    refused = system.client.call(
        "POST", "scheduling", f"/schedules/{request_id}", json=on_the_holiday
    )
    worked = system.client.call(
        "POST",
        "scheduling",
        f"/schedules/{request_id}",
        json={**on_the_holiday, "work_on_closed_days": True},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.visit_start"
    assert "Libur uji" in refused.json()["detail"]
    assert worked.status_code == 201


def test_a_restart_of_every_service_loses_nothing_and_repeats_nothing(
    system: System,
) -> None:
    first = walk(
        system.client, example("02-cooperative-container-check.json"), say=quiet
    )
    sizes = system.stream_sizes()

    for service in system.services.values():
        service.stop()
    with running(*system.services.values()):
        after_restart = system.client.call(
            "GET", "intake", f"/requests/{first['reference']}"
        )
        second = walk(
            system.client, example("03-private-buyer-rejected.json"), say=quiet
        )
        system.wait_for_events(second["request_id"], 5)

        assert after_restart.json()["timeline"] == first["timeline"]
        assert system.events_of(first["request_id"]) == Counter(REVISED_PATH)
        grown = system.stream_sizes()
        assert grown["INTAKE"] == sizes["INTAKE"] + 1
        assert grown["SCHEDULING"] == sizes["SCHEDULING"]
        assert grown["FIELDWORK"] == sizes["FIELDWORK"]


def test_a_name_in_any_script_reaches_the_stakeholders_letter_unchanged(
    system: System,
) -> None:
    name = "H. Ma'ruf ꦩꦫꦸꦥ꦳꧀ — معروف 👩🏽‍🌾 Cafe\u0301"
    fields = {
        "channel": "online_form",
        "channel_message_id": "form-e2e-1",
        "stakeholder.institution": "Kelompok Ternak Sri Rejeki",
        "stakeholder.contact_name": name,
        "stakeholder.email": "sri@example.id",
        "services": "technical_guidance",
        "description": "Mohon bimbingan teknis.",
    }

    submitted = system.services["intake"].post("/requests", data=fields).json()

    def receipt_file() -> list[Path]:
        return list((system.var_dir / "outbox" / "email").glob("*.json"))

    [letter] = wait_for(receipt_file)
    sent = json.loads(letter.read_text(encoding="utf-8"))
    assert sent["text"].startswith(f"Yth. {name} (Kelompok Ternak Sri Rejeki),")
    assert submitted["reference"] in sent["text"]
