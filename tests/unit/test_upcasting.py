"""Events stored in an older shape still load: the upcasters fill what is new.

Version 1 of ``ServiceRequest.Submitted`` did not keep the services' names,
version 1 of ``Recipient.ContactRegistered`` did not keep the channel's
message id, and version 1 of ``Notification.Addressed`` did not name the
message it answers. The test writes events in that old shape, as an older
service stored them, and reads them with today's classes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent

from purnajual.persistence import event_store_env
from services.intake.application import IntakeApplication, Submission
from services.intake.config import DEFAULT_CATALOGUE
from services.intake.domain import Channel, ServiceRequest
from services.notifier.application import NotifierApplication
from services.notifier.domain import DeliveryChannel, Notification, Purpose, Recipient
from services.notifier.transports import FileOutbox
from tests.builders import deliver, request_submitted, stakeholder

OLD_SHAPES = {
    "notifier.Recipient.ContactRegistered": "channel_message_id",
    "notifier.Notification.Addressed": "in_reply_to",
}


def notifier_on(directory: Path) -> NotifierApplication:
    outbox = FileOutbox(directory / "outbox")
    return NotifierApplication(
        env=event_store_env(service="notifier", database_url=None, var_dir=directory),
        transports={DeliveryChannel.EMAIL: outbox, DeliveryChannel.WHATSAPP: outbox},
    )


def as_version_1(stored: StoredEvent) -> StoredEvent:
    """The stored event as version 1 wrote it: no new field, no version mark."""
    new_field = OLD_SHAPES.get(stored.topic)
    if new_field is None:
        return stored
    state: dict[str, Any] = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state[new_field]
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


def test_events_stored_by_version_1_load_with_todays_classes(tmp_path: Path) -> None:
    today = notifier_on(tmp_path / "today")
    submitted = request_submitted(channel="email")
    deliver(today, "intake", 1, submitted)
    stored = today.recorder.select_notifications(start=1, limit=100)
    old = notifier_on(tmp_path / "old")
    # The old store has its own calendar; the request's events are copied.
    old.recorder.insert_events(
        [
            as_version_1(event)
            for event in stored
            if not event.topic.startswith("notifier.OfficeCalendar")
        ]
    )

    recipient = old.find(Recipient.create_id(submitted.request_id), Recipient)
    receipt = old.notification(
        Notification.create_id(submitted.request_id, Purpose.RECEIPT.value)
    )

    assert {event.topic for event in stored} >= set(OLD_SHAPES)
    assert recipient is not None
    assert recipient.channel_message_id is None
    assert recipient.contact is not None
    assert recipient.contact["email"] == "keswan@garut.example.id"
    assert receipt.in_reply_to is None
    assert receipt.destination == "keswan@garut.example.id"
    old.deliver(receipt.id)
    assert old.notification(receipt.id).delivered_at is not None


def test_version_2_answers_an_email_in_its_thread(tmp_path: Path) -> None:
    app = notifier_on(tmp_path)
    submitted = request_submitted(channel="email")

    deliver(app, "intake", 1, submitted)

    receipt = app.notification(
        Notification.create_id(submitted.request_id, Purpose.RECEIPT.value)
    )
    assert receipt.in_reply_to == submitted.channel_message_id


def test_a_request_stored_before_service_names_loads_with_its_codes(
    tmp_path: Path,
) -> None:
    today = IntakeApplication(
        env=event_store_env(service="intake", database_url=None, var_dir=tmp_path),
        catalogue={kind.code: kind for kind in DEFAULT_CATALOGUE},
    )
    outcome = today.submit(
        Submission(
            channel=Channel.EMAIL,
            channel_message_id="m-old",
            received_at=None,
            stakeholder=stakeholder(),
            services=["container_check"],
            description="Kontainer cepat habis.",
        )
    )
    [submitted] = [
        event
        for event in today.recorder.select_notifications(start=1, limit=100)
        if event.topic == "intake.ServiceRequest.Submitted"
    ]
    state: dict[str, Any] = json.loads(submitted.state)
    assert state.pop("class_version") == 2
    assert state.pop("service_names") == ["Pemeriksaan kontainer dan depo"]
    old = IntakeApplication(
        env=event_store_env(
            service="intake", database_url=None, var_dir=tmp_path / "o"
        ),
        catalogue={},
    )
    old.recorder.insert_events(
        [
            StoredEvent(
                originator_id=submitted.originator_id,
                originator_version=submitted.originator_version,
                topic=submitted.topic,
                state=json.dumps(state).encode(),
            )
        ]
    )

    request: ServiceRequest = old.repository.get(outcome.request_id)

    assert request.service_names == ["container_check"]
