"""Approval's domain: one decision per request, and the rejection letter."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from purnajual.errors import ConflictError, ServiceError


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REJECTION_LETTER_ISSUED = "rejection_letter_issued"


class ApprovalError(ServiceError):
    """Root of approval's errors."""


class DecisionConflictError(ApprovalError, ConflictError):
    """The request is not in a state that allows this command."""


class Approval(Aggregate):
    """The head's decision on one request; its id is the request's id."""

    TOPIC = "approval.Approval"

    class Created(Aggregate.Created):
        TOPIC = "approval.Approval.Created"

    class Requested(Created):
        TOPIC = "approval.Approval.Requested"
        request_id: UUID
        reference: str
        submitted_at: datetime
        request: dict[str, Any]

    # Decision events repeat the reference (and what the next step needs) so
    # that each can be published on its own.
    # The moment of a decision is its event's timestamp, so these events
    # apply themselves (an @event method body cannot see its event).
    class Approved(Aggregate.Event):
        TOPIC = "approval.Approval.Approved"
        decided_by: str
        disposition: str
        reference: str
        request: dict[str, Any]

        def apply(self, aggregate: Approval) -> None:
            aggregate.status = ApprovalStatus.APPROVED
            aggregate.decided_by = self.decided_by
            aggregate.disposition = self.disposition
            aggregate.decided_at = self.timestamp

    class Rejected(Aggregate.Event):
        TOPIC = "approval.Approval.Rejected"
        decided_by: str
        reason: str
        reference: str

        def apply(self, aggregate: Approval) -> None:
            aggregate.status = ApprovalStatus.REJECTED
            aggregate.decided_by = self.decided_by
            aggregate.reason = self.reason
            aggregate.decided_at = self.timestamp

    class RejectionLetterIssued(Aggregate.Event):
        TOPIC = "approval.Approval.RejectionLetterIssued"
        letter_number: str
        drafted_by: str
        body: str
        reason: str
        reference: str

        def apply(self, aggregate: Approval) -> None:
            aggregate.status = ApprovalStatus.REJECTION_LETTER_ISSUED
            aggregate.letter = {
                "letter_number": self.letter_number,
                "drafted_by": self.drafted_by,
                "body": self.body,
                "issued_at": self.timestamp,
            }

    @staticmethod
    def create_id(request_id: UUID) -> UUID:
        return request_id

    @event(Requested)
    def __init__(
        self,
        request_id: UUID,
        reference: str,
        submitted_at: datetime,
        request: dict[str, Any],
    ) -> None:
        self.request_id = request_id
        self.reference = reference
        self.submitted_at = submitted_at
        self.request = request
        self.status = ApprovalStatus.PENDING
        self.decided_by: str | None = None
        self.decided_at: datetime | None = None
        self.disposition: str | None = None
        self.reason: str | None = None
        self.letter: dict[str, Any] | None = None

    def approve(self, decided_by: str, disposition: str) -> None:
        """Approves a pending request, with the head's instruction.

        Raises ``DecisionConflictError`` if the request is already decided.
        """
        self._require(ApprovalStatus.PENDING, "approve")
        self.trigger_event(
            self.Approved,
            decided_by=decided_by,
            disposition=disposition,
            reference=self.reference,
            request=self.request,
        )

    def reject(self, decided_by: str, reason: str) -> None:
        """Rejects a pending request, giving the reason.

        Raises ``DecisionConflictError`` if the request is already decided.
        """
        self._require(ApprovalStatus.PENDING, "reject")
        self.trigger_event(
            self.Rejected,
            decided_by=decided_by,
            reason=reason,
            reference=self.reference,
        )

    def issue_rejection_letter(
        self, letter_number: str, drafted_by: str, body: str
    ) -> None:
        """Issues the numbered rejection letter of a rejected request.

        Raises ``DecisionConflictError`` unless the request is rejected and has
        no letter yet.
        """
        self._require(ApprovalStatus.REJECTED, "issue a rejection letter for")
        self.trigger_event(
            self.RejectionLetterIssued,
            letter_number=letter_number,
            drafted_by=drafted_by,
            body=body,
            reason=self.reason or "",
            reference=self.reference,
        )

    def _require(self, status: ApprovalStatus, action: str) -> None:
        if self.status != status:
            raise DecisionConflictError(
                f"Cannot {action} request {self.reference}: it is {self.status.value}.",
                request_id=str(self.id),
                reference=self.reference,
                current_status=self.status.value,
            )
