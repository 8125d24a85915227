"""What scheduling publishes and what it listens to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from purnajual.contracts import (
    APPROVAL_STREAM,
    FIELDWORK_STREAM,
    NOTIFIER_STREAM,
    SCHEDULING_STREAM,
    IntegrationEvent,
    Officer,
    RequestSummary,
    ScheduleIssued,
    ScheduleRevised,
    StreamSpec,
)
from services.scheduling.domain import Schedule

OWN_STREAM = SCHEDULING_STREAM
CONSUMES: list[tuple[StreamSpec, list[str]]] = [
    (APPROVAL_STREAM, ["approval.request.approved"]),
    (FIELDWORK_STREAM, ["fieldwork.berita_acara.filed"]),
    (NOTIFIER_STREAM, ["notifier.calendar.>"]),
]


def to_integration_event(
    domain_event: DomainEventProtocol[UUID],
) -> IntegrationEvent | None:
    """The public events of schedules issued and revised; rosters stay private."""
    if isinstance(domain_event, Schedule.Issued):
        return ScheduleIssued(
            **_visit_plan(domain_event),
            scheduled_by=domain_event.scheduled_by,
            issued_at=domain_event.timestamp,
        )
    if isinstance(domain_event, Schedule.Revised):
        return ScheduleRevised(
            **_visit_plan(domain_event),
            revision=domain_event.revision,
            revised_by=domain_event.revised_by,
            reason=domain_event.reason,
            revised_at=domain_event.timestamp,
        )
    return None


def _visit_plan(domain_event: Schedule.Issued | Schedule.Revised) -> dict[str, Any]:
    return {
        "request_id": domain_event.originator_id,
        "reference": domain_event.reference,
        "assignment_number": domain_event.assignment_number,
        "visit_start": domain_event.visit_start,
        "visit_end": domain_event.visit_end,
        "location": domain_event.location,
        "officers": [Officer.model_validate(o) for o in domain_event.officers],
        "equipment": domain_event.equipment,
        "request": RequestSummary.model_validate(domain_event.request),
    }
