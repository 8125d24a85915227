"""Fieldwork's use cases: visits to carry out, and filing their Berita Acara."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import EnvType

from purnajual.contracts import ScheduleIssued, ScheduleRevised
from purnajual.envelope import Envelope
from purnajual.errors import InvalidInputError, NotFoundError
from purnajual.numbering import OFFICE_TIME_ZONE, LetterFormat
from purnajual.persistence import ServiceApplication
from purnajual.views import LogView
from services.fieldwork.config import QualityStandard
from services.fieldwork.domain import (
    FieldworkError,
    Visit,
    VisitConflictError,
    VisitStatus,
)

logger = logging.getLogger(__name__)


class VisitNotScheduledError(VisitConflictError):
    """No visit is scheduled for this request (yet)."""


class BeritaAcaraNotFoundError(FieldworkError, NotFoundError):
    """The visit has no Berita Acara yet."""


class InvalidBeritaAcaraError(FieldworkError, InvalidInputError):
    """A report that breaks a rule; ``field`` names where."""


class FieldworkApplication(ServiceApplication):
    """Keeps scheduled visits and files their reports."""

    name = "fieldwork"

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        standard: QualityStandard,
        berita_acara_format: LetterFormat | None = None,
    ) -> None:
        super().__init__(env)
        self.standard = standard
        self.berita_acara_format = berita_acara_format or LetterFormat(kind="BA")
        self.view = VisitsView(self)

    def visit(self, request_id: UUID) -> Visit:
        """Raises ``VisitNotScheduledError``."""
        visit = self.find(request_id, Visit)
        if visit is None:
            raise VisitNotScheduledError(
                f"No visit is scheduled for request {request_id}, or its schedule "
                "has not reached fieldwork yet.",
                request_id=str(request_id),
                current_status="not_scheduled",
            )
        return visit

    def berita_acara(self, request_id: UUID) -> tuple[Visit, dict[str, Any]]:
        """Raises ``VisitNotScheduledError`` or ``BeritaAcaraNotFoundError``."""
        visit = self.visit(request_id)
        if visit.berita_acara is None:
            raise BeritaAcaraNotFoundError(
                f"The visit of request {visit.reference} has no Berita Acara yet.",
                request_id=str(request_id),
                current_status=visit.status.value,
            )
        return visit, visit.berita_acara

    def file_berita_acara(self, request_id: UUID, report: dict[str, Any]) -> Visit:
        """Numbers and files the report of a scheduled visit.

        Raises ``VisitNotScheduledError``, ``VisitConflictError`` (already filed)
        or ``InvalidBeritaAcaraError``.
        """
        visit = self.visit(request_id)
        self._check(visit, report)

        def file() -> list[Any]:
            visit = self.visit(request_id)
            now = datetime.now(UTC)
            numbers = self.take_number(
                self.berita_acara_format.series(now), issued_for=str(request_id)
            )
            visit.file_berita_acara(
                berita_acara_number=self.berita_acara_format.format(
                    numbers.last_number, now
                ),
                report=report,
                standard=self.standard.model_dump(),
            )
            return [visit, numbers]

        self.save_numbered(file)
        logger.info("berita acara filed", extra={"request_id": str(request_id)})
        return self.visit(request_id)

    def apply_upstream_event(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        """An issued schedule becomes a visit to carry out, once; a revised one
        changes it, unless its Berita Acara is already filed."""
        if isinstance(envelope.data, ScheduleRevised):
            self._revise_visit(envelope.data, processing_event)
            return
        issued = envelope.data
        if not isinstance(issued, ScheduleIssued):
            return
        if self.find(issued.request_id, Visit) is not None:
            return
        visit = Visit(
            request_id=issued.request_id,
            reference=issued.reference,
            assignment_number=issued.assignment_number,
            visit_start=issued.visit_start,
            visit_end=issued.visit_end,
            location=issued.location,
            officers=[officer.model_dump() for officer in issued.officers],
            equipment=issued.equipment,
            request=issued.request.model_dump(),
        )
        processing_event.collect_events(visit)

    def _revise_visit(
        self, revised: ScheduleRevised, processing_event: ProcessingEvent[UUID]
    ) -> None:
        visit = self.find(revised.request_id, Visit)
        if visit is None or not visit.can_take_revision(revised.revision):
            # Scheduling refuses revisions of reported visits; this one crossed
            # the Berita Acara on the way, and the report stands as filed.
            logger.warning(
                "schedule revision not applied",
                extra={
                    "request_id": str(revised.request_id),
                    "revision": revised.revision,
                    "visit_status": visit.status.value if visit else None,
                },
            )
            return
        visit.revise(
            revision=revised.revision,
            visit_start=revised.visit_start,
            visit_end=revised.visit_end,
            location=revised.location,
            officers=[officer.model_dump() for officer in revised.officers],
            equipment=revised.equipment,
        )
        processing_event.collect_events(visit)

    @staticmethod
    def _check(visit: Visit, report: dict[str, Any]) -> None:
        visit_date: date = report["visit_date"]
        if visit_date < visit.visit_start:
            raise InvalidBeritaAcaraError(
                f"visit_date {visit_date} is before the scheduled start "
                f"{visit.visit_start}.",
                field="visit_date",
            )
        if visit_date > datetime.now(OFFICE_TIME_ZONE).date():
            raise InvalidBeritaAcaraError(
                f"visit_date {visit_date} is in the future.", field="visit_date"
            )
        if not report["samples"] and not report["container_checks"]:
            if "field_semen_test" in visit.request.get("services", []):
                raise InvalidBeritaAcaraError(
                    "A field semen test needs at least one sample.", field="samples"
                )


@dataclass
class VisitRow:
    request_id: UUID
    reference: str
    status: VisitStatus
    assignment_number: str
    visit_start: date
    visit_end: date
    location: str
    institution: str
    berita_acara_number: str | None = None


class VisitsView(LogView):
    """Visits to carry out, and those with a filed Berita Acara."""

    def __init__(self, app: FieldworkApplication) -> None:
        super().__init__(app)
        self.rows: dict[UUID, VisitRow] = {}

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        if isinstance(domain_event, Visit.Scheduled):
            self.rows[domain_event.originator_id] = VisitRow(
                request_id=domain_event.originator_id,
                reference=domain_event.reference,
                status=VisitStatus.SCHEDULED,
                assignment_number=domain_event.assignment_number,
                visit_start=domain_event.visit_start,
                visit_end=domain_event.visit_end,
                location=domain_event.location,
                institution=domain_event.request["institution"],
            )
        elif isinstance(domain_event, Visit.Revised):
            row = self.rows.get(domain_event.originator_id)
            if row is not None:
                row.visit_start = domain_event.visit_start
                row.visit_end = domain_event.visit_end
                row.location = domain_event.location
        elif isinstance(domain_event, Visit.BeritaAcaraFiled):
            row = self.rows.get(domain_event.originator_id)
            if row is not None:
                row.status = VisitStatus.BERITA_ACARA_FILED
                row.berita_acara_number = domain_event.berita_acara_number

    def select(self, status: VisitStatus | None) -> list[VisitRow]:
        self.catch_up()
        rows = [
            row for row in self.rows.values() if status is None or row.status == status
        ]
        return sorted(rows, key=lambda row: row.visit_start)
