"""Notifier on the in-memory store: composing, addressing, delivering."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from services.notifier.application import NotifierApplication
from services.notifier.domain import (
    DeliveryChannel,
    NotificationConflictError,
    NotificationStatus,
    Purpose,
    delivery_channel_for,
)
from services.notifier.labels import in_words, month_in_words
from services.notifier.sla import SlaClock, SlaStep
from services.notifier.transports import (
    DeliveryError,
    OutgoingMessage,
    Transport,
    whatsapp_number,
)
from tests.builders import (
    POPO,
    deliver,
    rejection_letter_issued,
    request_submitted,
    schedule_issued,
    schedule_revised,
)


class RecordingTransport:
    """Stands in for a mail server: keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


class BrokenTransport:
    def send(self, message: OutgoingMessage) -> None:
        raise DeliveryError("connection refused")


def notifier(
    transport: Transport | None = None, attempts: int = 5
) -> NotifierApplication:
    transport = transport or RecordingTransport()
    return NotifierApplication(
        env=POPO,
        transports={
            DeliveryChannel.EMAIL: transport,
            DeliveryChannel.WHATSAPP: transport,
        },
        max_delivery_attempts=attempts,
    )


def only(app: NotifierApplication, request_id: UUID, purpose: Purpose) -> UUID:
    rows = [
        r
        for r in app.view.select(request_id=request_id, status=None)
        if r.purpose == purpose
    ]
    assert len(rows) == 1
    return rows[0].notification_id


@pytest.mark.parametrize(
    ("channel", "contact", "expected"),
    [
        (
            "email",
            {"email": "a@b.id", "phone": "0812"},
            (DeliveryChannel.EMAIL, "a@b.id"),
        ),
        (
            "whatsapp",
            {"email": "a@b.id", "phone": "0812"},
            (DeliveryChannel.WHATSAPP, "0812"),
        ),
        ("website", {"phone": "0812"}, (DeliveryChannel.WHATSAPP, "0812")),
        ("online_form", {"email": "a@b.id"}, (DeliveryChannel.EMAIL, "a@b.id")),
        (
            "post",
            {"address": "Jl. A", "email": "a@b.id"},
            (DeliveryChannel.MANUAL, "Jl. A"),
        ),
        ("fax", {"phone": "022-1"}, (DeliveryChannel.MANUAL, "022-1")),
        ("walk_in", {"phone": "0812"}, (DeliveryChannel.MANUAL, "0812")),
    ],
)
def test_answers_on_the_channel_the_stakeholder_used(
    channel: str, contact: dict[str, str], expected: tuple[DeliveryChannel, str]
) -> None:
    assert delivery_channel_for(channel, contact) == expected


def test_sends_the_receipt_by_email_once() -> None:
    transport = RecordingTransport()
    app = notifier(transport)
    submitted = request_submitted(channel="email")
    deliver(app, "intake", 1, submitted)
    receipt = only(app, submitted.request_id, Purpose.RECEIPT)

    app.deliver(receipt)
    app.deliver(receipt)

    assert [m.destination for m in transport.sent] == ["keswan@garut.example.id"]
    assert "PPJ-2026-00001" in transport.sent[0].text
    assert app.notification(receipt).status == NotificationStatus.DELIVERED


def test_a_letter_by_post_becomes_a_task_that_staff_confirm_once() -> None:
    app = notifier()
    submitted = request_submitted(channel="post")
    deliver(app, "intake", 1, submitted)
    receipt = only(app, submitted.request_id, Purpose.RECEIPT)
    assert app.notification(receipt).status == NotificationStatus.AWAITING_CONFIRMATION

    app.confirm_delivery(receipt, "Petugas front office", "Pos tercatat")

    assert app.notification(receipt).confirmed_by == "Petugas front office"
    with pytest.raises(NotificationConflictError):
        app.confirm_delivery(receipt, "Petugas front office", None)


def test_a_letter_that_arrives_before_its_request_waits_for_the_contact() -> None:
    app = notifier()
    request_id = uuid4()
    deliver(app, "approval", 1, rejection_letter_issued(request_id))
    letter = only(app, request_id, Purpose.REJECTION_LETTER)
    assert app.notification(letter).status == NotificationStatus.AWAITING_RECIPIENT

    deliver(app, "intake", 1, request_submitted(request_id, channel="email"))

    assert app.notification(letter).status == NotificationStatus.QUEUED
    assert app.notification(letter).destination == "keswan@garut.example.id"


def test_a_repeated_event_composes_no_second_message() -> None:
    app = notifier()
    submitted = request_submitted()

    deliver(app, "intake", 1, submitted)
    deliver(app, "intake", 2, submitted)

    assert len(app.view.select(request_id=submitted.request_id, status=None)) == 1


def test_failing_deliveries_are_retried_then_handed_to_staff() -> None:
    app = notifier(BrokenTransport(), attempts=2)
    submitted = request_submitted()
    deliver(app, "intake", 1, submitted)
    receipt = only(app, submitted.request_id, Purpose.RECEIPT)

    app.deliver(receipt)
    assert app.notification(receipt).status == NotificationStatus.QUEUED
    app.deliver(receipt)

    notification = app.notification(receipt)
    assert notification.attempts == 2
    assert notification.status == NotificationStatus.AWAITING_CONFIRMATION
    assert "connection refused" in (notification.last_error or "")


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("+62 812 2233 4455", "6281222334455"),
        ("0812-2233-4455", "6281222334455"),
        ("+62 (812) 1111-2222", "6281211112222"),
        ("+60 12 345 6789", "60123456789"),
    ],
)
def test_whatsapp_gets_the_international_number(written: str, number: str) -> None:
    assert whatsapp_number(written) == number


def test_each_revised_schedule_is_told() -> None:
    transport = RecordingTransport()
    app = notifier(transport)
    submitted = request_submitted(channel="email")
    deliver(app, "intake", 1, submitted)
    day = date(2026, 12, 14)

    for position, event in enumerate(
        [
            schedule_issued(submitted.request_id, day),
            schedule_revised(submitted.request_id, day),
            schedule_revised(submitted.request_id, day, 2),
        ],
        start=1,
    ):
        deliver(app, "scheduling", position, event)
        for row in app.view.select(request_id=submitted.request_id, status=None):
            app.deliver(row.notification_id)

    revised = [m for m in transport.sent if "Perubahan jadwal" in m.subject]
    assert len(revised) == 2
    assert "Petugas sakit" in revised[0].text
    assert "14-12-2026" in revised[0].text


def test_the_receipt_names_the_services_in_the_catalogues_words() -> None:
    transport = RecordingTransport()
    app = notifier(transport)
    submitted = request_submitted(channel="email").model_copy(
        update={"service_names": ["Uji kualitas semen beku di lapangan"]}
    )
    deliver(app, "intake", 1, submitted)

    app.deliver(only(app, submitted.request_id, Purpose.RECEIPT))

    assert "(layanan: Uji kualitas semen beku di lapangan)" in transport.sent[0].text
    assert "field_semen_test" not in transport.sent[0].text


def test_a_printed_report_reads_codes_and_months_in_indonesian() -> None:
    assert month_in_words("2026-12") == "Desember 2026"
    assert in_words("walk_in") == "Datang langsung"
    assert in_words("a_new_service") == "a_new_service"


def test_a_revision_replaces_a_schedule_staff_have_not_delivered_yet() -> None:
    app = notifier()
    submitted = request_submitted(channel="phone")
    deliver(app, "intake", 1, submitted)
    day = date(2026, 12, 14)
    deliver(app, "scheduling", 1, schedule_issued(submitted.request_id, day))
    deliver(app, "scheduling", 2, schedule_revised(submitted.request_id, day))
    first = only(app, submitted.request_id, Purpose.SCHEDULE)
    revised = only(app, submitted.request_id, Purpose.SCHEDULE_REVISED)

    app.confirm_delivery(revised, "Yanti (front office)", None)

    with pytest.raises(NotificationConflictError) as replaced:
        app.confirm_delivery(first, "Yanti (front office)", None)
    assert replaced.value.data["current_status"] == "superseded"
    tasks = app.view.select(
        request_id=submitted.request_id,
        status=NotificationStatus.AWAITING_CONFIRMATION,
    )
    assert [task.purpose for task in tasks] == [Purpose.RECEIPT]
    conveyance = app.find(
        SlaClock.create_id(submitted.request_id, SlaStep.CONVEYANCE.value), SlaClock
    )
    assert conveyance is not None and conveyance.stopped_at is not None
