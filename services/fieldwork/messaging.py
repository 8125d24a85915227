"""What fieldwork publishes and what it listens to."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from purnajual.contracts import (
    FIELDWORK_STREAM,
    SCHEDULING_STREAM,
    BeritaAcaraFiled,
    IntegrationEvent,
    StreamSpec,
)
from services.fieldwork.domain import Visit, summarise_samples

OWN_STREAM = FIELDWORK_STREAM
CONSUMES: list[tuple[StreamSpec, list[str]]] = [
    (
        SCHEDULING_STREAM,
        ["scheduling.schedule.issued", "scheduling.schedule.revised"],
    ),
]


def to_integration_event(
    domain_event: DomainEventProtocol[UUID],
) -> IntegrationEvent | None:
    """The public event for a filed Berita Acara; the full report stays here."""
    if isinstance(domain_event, Visit.BeritaAcaraFiled):
        report = domain_event.report
        tested, meeting = summarise_samples(report)
        place = report["place"]
        return BeritaAcaraFiled(
            request_id=domain_event.originator_id,
            reference=domain_event.reference,
            berita_acara_number=domain_event.berita_acara_number,
            filed_at=domain_event.timestamp,
            visit_date=report["visit_date"],
            place=", ".join(
                str(place[key])
                for key in ("depot", "district", "regency", "province")
                if place.get(key)
            ),
            quality_standard=domain_event.quality_standard["code"],
            samples_tested=tested,
            samples_meeting_standard=meeting,
            findings=report["findings"],
            recommendations=report["recommendations"],
        )
    return None
