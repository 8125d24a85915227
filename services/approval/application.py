"""Approval's use cases: the inbox, the decision and the rejection letter."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import EnvType

from purnajual.contracts import RequestSubmitted
from purnajual.envelope import Envelope
from purnajual.errors import NotFoundError
from purnajual.numbering import LetterFormat
from purnajual.persistence import ServiceApplication
from purnajual.views import LogView
from services.approval.domain import Approval, ApprovalError, ApprovalStatus

logger = logging.getLogger(__name__)


class ApprovalNotFoundError(ApprovalError, NotFoundError):
    """Approval has no request with this id (yet)."""


class ApprovalApplication(ServiceApplication):
    """Keeps the head's inbox and records decisions and rejection letters."""

    name = "approval"

    def __init__(
        self, env: EnvType | None = None, *, letter_format: LetterFormat | None = None
    ) -> None:
        super().__init__(env)
        self.letter_format = letter_format or LetterFormat()
        self.view = ApprovalsView(self)

    def approval(self, request_id: UUID) -> Approval:
        """Raises ``ApprovalNotFoundError``."""
        approval = self.find(request_id, Approval)
        if approval is None:
            raise ApprovalNotFoundError(
                f"No request {request_id} is waiting for a decision; it may not have "
                "reached approval yet.",
                request_id=str(request_id),
            )
        return approval

    def approve(self, request_id: UUID, decided_by: str, disposition: str) -> Approval:
        """Approves a pending request. Raises ``DecisionConflictError`` if decided."""

        def decide() -> list[Any]:
            approval = self.approval(request_id)
            approval.approve(decided_by=decided_by, disposition=disposition)
            return [approval]

        self.save_with_retry(decide)
        logger.info("request approved", extra={"request_id": str(request_id)})
        return self.approval(request_id)

    def reject(self, request_id: UUID, decided_by: str, reason: str) -> Approval:
        """Rejects a pending request. Raises ``DecisionConflictError`` if decided."""

        def decide() -> list[Any]:
            approval = self.approval(request_id)
            approval.reject(decided_by=decided_by, reason=reason)
            return [approval]

        self.save_with_retry(decide)
        logger.info("request rejected", extra={"request_id": str(request_id)})
        return self.approval(request_id)

    def issue_rejection_letter(
        self, request_id: UUID, drafted_by: str, body: str
    ) -> Approval:
        """Numbers and issues the rejection letter of a rejected request.

        Raises ``DecisionConflictError`` unless rejected and without a letter.
        """

        def draft() -> list[Any]:
            approval = self.approval(request_id)
            now = datetime.now(UTC)
            numbers = self.take_number(
                self.letter_format.series(now), issued_for=str(request_id)
            )
            approval.issue_rejection_letter(
                letter_number=self.letter_format.format(numbers.last_number, now),
                drafted_by=drafted_by,
                body=body,
            )
            return [approval, numbers]

        self.save_numbered(draft)
        logger.info("rejection letter issued", extra={"request_id": str(request_id)})
        return self.approval(request_id)

    def apply_upstream_event(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        """A submitted request enters the head's inbox, once."""
        submitted = envelope.data
        if not isinstance(submitted, RequestSubmitted):
            return
        if self.find(submitted.request_id, Approval) is not None:
            return
        approval = Approval(
            request_id=submitted.request_id,
            reference=submitted.reference,
            submitted_at=submitted.submitted_at,
            request={
                "institution": submitted.stakeholder.institution,
                "contact_name": submitted.stakeholder.contact_name,
                "regency": submitted.stakeholder.regency,
                "province": submitted.stakeholder.province,
                "channel": submitted.channel,
                "services": submitted.services,
                "description": submitted.description,
            },
        )
        processing_event.collect_events(approval)


@dataclass
class ApprovalRow:
    request_id: UUID
    reference: str
    status: ApprovalStatus
    submitted_at: datetime
    institution: str
    services: list[str]


class ApprovalsView(LogView):
    """The inbox: every request by its approval status, oldest first."""

    def __init__(self, app: ApprovalApplication) -> None:
        super().__init__(app)
        self.rows: dict[UUID, ApprovalRow] = {}

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        if isinstance(domain_event, Approval.Requested):
            self.rows[domain_event.originator_id] = ApprovalRow(
                request_id=domain_event.originator_id,
                reference=domain_event.reference,
                status=ApprovalStatus.PENDING,
                submitted_at=domain_event.submitted_at,
                institution=domain_event.request["institution"],
                services=list(domain_event.request["services"]),
            )
            return
        row = self.rows.get(domain_event.originator_id)
        if row is None:
            return
        if isinstance(domain_event, Approval.Approved):
            row.status = ApprovalStatus.APPROVED
        elif isinstance(domain_event, Approval.Rejected):
            row.status = ApprovalStatus.REJECTED
        elif isinstance(domain_event, Approval.RejectionLetterIssued):
            row.status = ApprovalStatus.REJECTION_LETTER_ISSUED

    def select(self, status: ApprovalStatus | None) -> list[ApprovalRow]:
        self.catch_up()
        rows = [
            row for row in self.rows.values() if status is None or row.status == status
        ]
        return sorted(rows, key=lambda row: row.submitted_at)
