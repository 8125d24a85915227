"""What intake publishes and what it listens to."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from purnajual.contracts import (
    APPROVAL_STREAM,
    FIELDWORK_STREAM,
    INTAKE_STREAM,
    NOTIFIER_STREAM,
    SCHEDULING_STREAM,
    IntegrationEvent,
    RequestSubmitted,
    Stakeholder,
    StreamSpec,
)
from services.intake.domain import ServiceRequest

OWN_STREAM = INTAKE_STREAM

# Intake follows every step of the procedure to keep the timeline.
CONSUMES: list[tuple[StreamSpec, list[str]]] = [
    (APPROVAL_STREAM, ["approval.>"]),
    (SCHEDULING_STREAM, ["scheduling.>"]),
    (FIELDWORK_STREAM, ["fieldwork.>"]),
    (NOTIFIER_STREAM, ["notifier.>"]),
]


def to_integration_event(
    domain_event: DomainEventProtocol[UUID],
) -> IntegrationEvent | None:
    """The public event for a domain event; timeline entries stay private."""
    if isinstance(domain_event, ServiceRequest.Submitted):
        event = domain_event
        return RequestSubmitted(
            request_id=event.originator_id,
            reference=event.reference,
            channel=event.channel,
            channel_message_id=event.channel_message_id,
            received_at=event.received_at,
            submitted_at=event.timestamp,
            stakeholder=Stakeholder.model_validate(event.stakeholder),
            services=event.services,
            service_names=event.service_names,
            description=event.description,
        )
    return None
