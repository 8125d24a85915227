"""What approval publishes and what it listens to."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from purnajual.contracts import (
    APPROVAL_STREAM,
    INTAKE_STREAM,
    IntegrationEvent,
    RejectionLetterIssued,
    RequestApproved,
    RequestRejected,
    RequestSummary,
    StreamSpec,
)
from services.approval.domain import Approval

OWN_STREAM = APPROVAL_STREAM
CONSUMES: list[tuple[StreamSpec, list[str]]] = [
    (INTAKE_STREAM, ["intake.request.submitted"]),
]


def to_integration_event(
    domain_event: DomainEventProtocol[UUID],
) -> IntegrationEvent | None:
    """The public event for a decision; entering the inbox is private."""
    request_id = domain_event.originator_id
    if isinstance(domain_event, Approval.Approved):
        return RequestApproved(
            request_id=request_id,
            reference=domain_event.reference,
            decided_by=domain_event.decided_by,
            disposition=domain_event.disposition,
            decided_at=domain_event.timestamp,
            request=RequestSummary.model_validate(domain_event.request),
        )
    if isinstance(domain_event, Approval.Rejected):
        return RequestRejected(
            request_id=request_id,
            reference=domain_event.reference,
            decided_by=domain_event.decided_by,
            reason=domain_event.reason,
            decided_at=domain_event.timestamp,
        )
    if isinstance(domain_event, Approval.RejectionLetterIssued):
        return RejectionLetterIssued(
            request_id=request_id,
            reference=domain_event.reference,
            letter_number=domain_event.letter_number,
            drafted_by=domain_event.drafted_by,
            body=domain_event.body,
            reason=domain_event.reason,
            issued_at=domain_event.timestamp,
        )
    return None
