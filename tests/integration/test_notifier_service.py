"""The notifier as a process, with a real SMTP server and a WhatsApp gateway."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiosmtpd.controller import Controller

from purnajual.contracts import (
    NotificationDelivered,
    ReceiptDelivered,
    ScheduleConveyed,
)
from purnajual.envelope import Envelope, envelope_for
from tests.builders import NOW, request_submitted, schedule_issued
from tests.conftest import ServiceFactory
from tests.support import Broker, NatsServer, ServiceProcess, free_port, wait_for

pytestmark = pytest.mark.postgres


def deliveries(broker: Broker) -> list[Envelope]:
    """The notifier's delivery events, without the clocks' verdicts."""
    return [
        envelope
        for envelope in broker.envelopes("NOTIFIER")
        if isinstance(envelope.data, NotificationDelivered)
    ]


class Mailbox:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Gateway.received.append(
            {
                "body": json.loads(self.rfile.read(length)),
                "auth": self.headers["Authorization"],
            }
        )
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def whatsapp_gateway() -> Iterator[str]:
    Gateway.received = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/messages"
    server.shutdown()
    server.server_close()


@pytest.fixture
def notifier(
    service_process: ServiceFactory,
    database_url: str,
    fresh_nats: NatsServer,
    mailbox: tuple[Mailbox, int],
    whatsapp_gateway: str,
) -> ServiceProcess:
    service = service_process(
        "notifier",
        DATABASE_URL=database_url,
        NATS_URL=fresh_nats.url,
        NOTIFIER_EMAIL_TRANSPORT="smtp",
        NOTIFIER_SMTP_PORT=str(mailbox[1]),
        NOTIFIER_WHATSAPP_TRANSPORT="http",
        NOTIFIER_WHATSAPP_GATEWAY_URL=whatsapp_gateway,
        NOTIFIER_WHATSAPP_TOKEN="test-gateway-token",
    )
    service.start()
    return service


def test_an_email_request_gets_its_receipt_by_smtp_once(
    notifier: ServiceProcess, fresh_nats: NatsServer, mailbox: tuple[Mailbox, int]
) -> None:
    broker = Broker(fresh_nats.url)
    submitted = request_submitted(
        channel="email", institution="Dinas Peternakan Kab. Ciamis"
    )

    broker.publish("intake", 1, submitted)
    broker.publish("intake", 1, submitted, msg_id="redelivered")

    delivered = wait_for(lambda: deliveries(broker))
    assert isinstance(delivered[0].data, ReceiptDelivered)
    box = mailbox[0]
    assert len(box.messages) == 1
    assert box.messages[0]["To"] == "keswan@garut.example.id"
    assert "PPJ-2026-00001" in box.messages[0].get_payload()
    assert box.messages[0]["In-Reply-To"] == "<msg-1>"
    assert box.messages[0]["Message-ID"].startswith(
        f"<{delivered[0].data.notification_id}"
    )


def test_a_whatsapp_request_is_answered_through_the_gateway(
    notifier: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)

    broker.publish("intake", 1, request_submitted(channel="whatsapp"))

    # The registration clock's verdict may come first; the delivery follows the call.
    wait_for(lambda: deliveries(broker))
    [call] = Gateway.received
    assert call["body"]["to"] == "6281222334455"
    assert call["auth"] == "Bearer test-gateway-token"
    assert call["body"]["idempotency_key"]


def test_a_letter_by_post_waits_for_staff_to_confirm_it(
    notifier: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    submitted = request_submitted(channel="post")
    broker.publish("intake", 1, submitted)
    [task] = wait_for(
        lambda: notifier.get(
            "/notifications",
            request_id=str(submitted.request_id),
            status="awaiting_confirmation",
        ).json()
    )
    assert task["channel"] == "manual"
    assert task["destination"] == "Jl. Pembangunan 181, Garut"

    confirmed = notifier.post(
        f"/notifications/{task['notification_id']}/delivered",
        json={"confirmed_by": "Front office", "note": "Pos tercatat RR1ID"},
    )
    again = notifier.post(
        f"/notifications/{task['notification_id']}/delivered",
        json={"confirmed_by": "x"},
    )

    assert confirmed.status_code == 200 and confirmed.json()["delivered"] is True
    assert again.status_code == 409
    delivered = wait_for(lambda: deliveries(broker))
    assert isinstance(delivered[0].data, ReceiptDelivered)
    assert delivered[0].data.confirmed_by == "Front office"


def test_a_schedule_that_arrives_before_its_request_is_still_conveyed(
    notifier: ServiceProcess, fresh_nats: NatsServer, mailbox: tuple[Mailbox, int]
) -> None:
    broker = Broker(fresh_nats.url)
    request_id = uuid4()

    broker.publish("scheduling", 1, schedule_issued(request_id))
    wait_for(lambda: notifier.get("/notifications", request_id=str(request_id)).json())
    broker.publish("intake", 1, request_submitted(request_id, channel="email"))

    conveyed = wait_for(
        lambda: [
            e
            for e in broker.envelopes("NOTIFIER")
            if isinstance(e.data, ScheduleConveyed)
        ]
    )
    # The schedule, queued first, may go out before the receipt does.
    sent = wait_for(lambda: len(mailbox[0].messages) >= 2 and mailbox[0].messages)
    assert str(conveyed[0].data.request_id) == str(request_id)
    assert sorted(m["Subject"].split()[0] for m in sent) == ["Jadwal", "Permohonan"]


def test_an_unreadable_message_is_dead_lettered_and_the_consumer_goes_on(
    notifier: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)

    broker.publish_raw("intake.request.submitted", b"not json", {"ce-type": "nonsense"})
    broker.publish("intake", 1, request_submitted(channel="email"))

    wait_for(lambda: broker.envelopes("NOTIFIER"))
    [(subject, headers, payload)] = broker.messages("DEADLETTER")
    assert subject == "deadletter.notifier.intake"
    assert payload == b"not json"
    assert "missing headers" in headers["Purnajual-Dead-Letter-Reason"]


def test_a_replayed_dead_letter_is_applied_once_by_the_service_that_set_it_aside(
    notifier: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    assert run_tool("list", nats_url=fresh_nats.url).strip() == "no dead letters"
    later, set_aside = request_submitted(), request_submitted()
    broker.publish("intake", 2, later)
    wait_for(
        lambda: notifier.get("/notifications", request_id=str(later.request_id)).json()
    )
    envelope = envelope_for(producer="intake", position=1, time=NOW, event=set_aside)
    broker.publish_raw(
        "deadletter.notifier.intake",
        envelope.payload(),
        {
            **envelope.headers(),
            "Nats-Msg-Id": "dead-1",
            "Purnajual-Original-Subject": "intake.request.submitted",
            "Purnajual-Consumer": "notifier-from-intake",
            "Purnajual-Dead-Letter-Reason": "processing failed: a bug since fixed",
        },
    )
    listed = run_tool("list", nats_url=fresh_nats.url)
    assert "a bug since fixed" in listed

    run_tool("replay", "1", nats_url=fresh_nats.url)
    run_tool("list", nats_url=fresh_nats.url)

    receipts = wait_for(
        lambda: notifier.get(
            "/notifications", request_id=str(set_aside.request_id)
        ).json()
    )
    assert [n["purpose"] for n in receipts] == ["receipt"]
    assert run_tool("list", nats_url=fresh_nats.url).strip() == "no dead letters"


def test_an_unreadable_replay_for_another_service_is_not_set_aside_again(
    notifier: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    # What replaying approval's dead letter of an unreadable message publishes.
    broker.publish_raw(
        "intake.request.submitted", b"not json", {"Purnajual-Replay-For": "approval"}
    )
    after = request_submitted()
    broker.publish("intake", 1, after)

    wait_for(
        lambda: notifier.get("/notifications", request_id=str(after.request_id)).json()
    )
    assert broker.messages("DEADLETTER") == []


def run_tool(*arguments: str, nats_url: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "tools.deadletters", "--nats-url", nats_url, *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return completed.stdout


def test_unknown_notifications_are_404_problems(notifier: ServiceProcess) -> None:
    response = notifier.post(
        f"/notifications/{uuid4()}/delivered", json={"confirmed_by": "x"}
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_calendar_answers_the_same_deadline_for_any_offset(
    notifier: ServiceProcess,
) -> None:
    in_jakarta = notifier.get(
        "/calendar/deadline", start="2026-12-07T15:00:00+07:00", minutes=240
    )
    in_utc = notifier.get(
        "/calendar/deadline", start="2026-12-07T08:00:00Z", minutes=240
    )
    in_tokyo = notifier.get(
        "/calendar/deadline", start="2026-12-07T17:00:00+09:00", minutes=240
    )

    assert in_jakarta.json()["deadline"] == "2026-12-08T10:30:00+07:00"
    assert in_utc.json()["deadline"] == in_jakarta.json()["deadline"]
    assert in_tokyo.json()["deadline"] == in_jakarta.json()["deadline"]
    minutes = notifier.get(
        "/calendar/working-minutes",
        start="2026-12-07T11:00:00+07:00",
        end="2026-12-08T08:30:00+07:00",
    )
    assert minutes.json()["working_minutes"] == 300


def test_an_admin_change_to_the_calendar_moves_deadlines_and_is_kept(
    notifier: ServiceProcess,
) -> None:
    closed = notifier.put(
        "/calendar/closed-days/2026-12-08",
        {"name": "Cuti bersama tambahan", "kind": "cuti_bersama"},
    )
    notifier.stop()
    notifier.start()

    deadline = notifier.get(
        "/calendar/deadline", start="2026-12-07T15:00:00+07:00", minutes=240
    )
    assert closed.status_code == 200
    assert deadline.json()["deadline"] == "2026-12-09T10:30:00+07:00"
    days = [entry["day"] for entry in notifier.get("/calendar").json()["closed_days"]]
    assert "2026-12-08" in days


def test_calendar_questions_and_changes_that_make_no_sense_are_refused(
    notifier: ServiceProcess,
) -> None:
    naive = notifier.get("/calendar/deadline", start="2026-12-07T15:00:00", minutes=10)
    seconds = notifier.get("/calendar/deadline", start="1764000000", minutes=10)
    day_as_seconds = httpx.put(
        f"{notifier.url}/calendar/closed-days/1763942400",
        json={"name": "Libur", "kind": "holiday"},
        timeout=10,
    )
    overlap = notifier.put(
        "/calendar/weekly-hours",
        {
            "monday": [["07:30", "12:00"], ["11:00", "16:00"]],
            "tuesday": [],
            "wednesday": [],
            "thursday": [],
            "friday": [],
        },
    )
    not_closed = httpx.delete(
        f"{notifier.url}/calendar/closed-days/2026-12-09", timeout=10
    )
    no_hours: dict[str, list[list[str]]] = {
        day: [] for day in ("tuesday", "wednesday", "thursday", "friday")
    }
    bad_period = notifier.put(
        "/calendar/periods/Ramadan 1448",
        {
            "first_day": "2027-02-08",
            "last_day": "2027-03-09",
            "weekly_hours": {"monday": [["12:00", "08:00"]], **no_hours},
        },
    )
    # Three years without working hours: no deadline can be found in them.
    notifier.put(
        "/calendar/periods/Tutup",
        {
            "first_day": "2030-01-01",
            "last_day": "2032-12-31",
            "weekly_hours": {"monday": [], **no_hours},
        },
    )
    no_deadline = notifier.get(
        "/calendar/deadline", start="2030-01-07T09:00:00+07:00", minutes=10
    )
    blank_name = notifier.put(
        "/calendar/periods/%20",
        {"first_day": "2027-02-08", "last_day": "2027-02-09", "weekly_hours": {}},
    )

    assert naive.status_code == 422
    assert seconds.json()["errors"][0]["field"] == "query.start"
    assert "YYYY-MM-DD" in seconds.json()["errors"][0]["message"]
    assert day_as_seconds.json()["errors"][0]["field"] == "path.day"
    closed = [entry["day"] for entry in notifier.get("/calendar").json()["closed_days"]]
    assert "2025-11-24" not in closed
    assert overlap.status_code == 422
    assert overlap.json()["errors"][0]["field"] == "body.monday"
    assert not_closed.status_code == 422
    assert not_closed.json()["errors"][0]["field"] == "path.day"
    assert bad_period.json()["errors"][0]["field"] == "body.weekly_hours.monday"
    assert no_deadline.status_code == 422
    assert no_deadline.json()["errors"][0]["field"] == "query.start"
    assert blank_name.json()["errors"][0]["field"] == "path.name"
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in (naive, seconds, day_as_seconds, overlap, not_closed, no_deadline)
    )


def test_calendar_questions_far_outside_any_real_range_are_refused(
    notifier: ServiceProcess,
) -> None:
    far = notifier.get(
        "/calendar/deadline", start="9999-12-31T23:00:00+00:00", minutes=10
    )
    ancient = notifier.get(
        "/calendar/working-minutes",
        start="0001-01-01T00:00:00+08:00",
        end="2026-12-07T10:00:00+07:00",
    )

    assert (far.status_code, ancient.status_code) == (422, 422)
    assert far.json()["field"] == "start"
    assert far.json()["errors"][0]["field"] == "query.start"
