"""What the notifier publishes and what it listens to."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from purnajual.contracts import (
    APPROVAL_STREAM,
    FIELDWORK_STREAM,
    INTAKE_STREAM,
    NOTIFIER_STREAM,
    SCHEDULING_STREAM,
    BeritaAcaraDelivered,
    IntegrationEvent,
    NotificationDelivered,
    ReceiptDelivered,
    RejectionLetterDelivered,
    ScheduleConveyed,
    StreamSpec,
)
from services.notifier.domain import Notification, Purpose

OWN_STREAM = NOTIFIER_STREAM
CONSUMES: list[tuple[StreamSpec, list[str]]] = [
    (INTAKE_STREAM, ["intake.request.submitted"]),
    (APPROVAL_STREAM, ["approval.rejection_letter.issued"]),
    (SCHEDULING_STREAM, ["scheduling.schedule.issued"]),
    (FIELDWORK_STREAM, ["fieldwork.berita_acara.filed"]),
]

# A delivered schedule is the procedure's step 5, "schedule conveyed".
_DELIVERED_EVENT: dict[Purpose, type[NotificationDelivered]] = {
    Purpose.RECEIPT: ReceiptDelivered,
    Purpose.REJECTION_LETTER: RejectionLetterDelivered,
    Purpose.SCHEDULE: ScheduleConveyed,
    Purpose.BERITA_ACARA: BeritaAcaraDelivered,
}


def to_integration_event(
    domain_event: DomainEventProtocol[UUID],
) -> IntegrationEvent | None:
    """The public event for a delivery; composing and retrying stay private."""
    if isinstance(domain_event, Notification.Delivered):
        event_class = _DELIVERED_EVENT[Purpose(domain_event.purpose)]
        return event_class(
            request_id=domain_event.request_id,
            reference=domain_event.reference,
            notification_id=domain_event.originator_id,
            purpose=domain_event.purpose,
            channel=domain_event.channel,
            delivered_at=domain_event.timestamp,
            confirmed_by=domain_event.confirmed_by,
        )
    return None
