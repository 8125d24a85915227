"""Intake's use cases: submit a request, read it, follow the procedure's events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import EnvType

from purnajual.contracts import (
    BeritaAcaraDelivered,
    BeritaAcaraFiled,
    IntegrationEvent,
    ReceiptDelivered,
    RejectionLetterDelivered,
    RejectionLetterIssued,
    RequestApproved,
    RequestRejected,
    ScheduleConveyed,
    ScheduleIssued,
    ScheduleRevised,
    ScheduleRevisionConveyed,
)
from purnajual.envelope import Envelope
from purnajual.errors import InvalidInputError, NotFoundError, ServiceError
from purnajual.numbering import OFFICE_TIME_ZONE
from purnajual.persistence import ServiceApplication
from purnajual.views import LogView
from services.intake.config import ServiceKind
from services.intake.domain import (
    Channel,
    ReferenceIndex,
    ServiceRequest,
    Step,
    request_id_for,
    status_of,
)

logger = logging.getLogger(__name__)


class IntakeError(ServiceError):
    """Root of intake's errors."""


class RequestNotFoundError(IntakeError, NotFoundError):
    """No request has this reference or id."""


class SubmissionRejectedError(IntakeError, InvalidInputError):
    """A submission breaks a rule of intake; ``field`` names where."""


class MessageIdReusedError(SubmissionRejectedError):
    """A channel message id already registered, sent again with other content.

    A retried message repeats its content; different content under the same
    id is another request that the channel labelled wrongly, and answering
    with the first request would silently drop it.
    """


@dataclass(frozen=True)
class Submission:
    """A request as it arrived on one channel, already well-formed."""

    channel: Channel
    channel_message_id: str
    received_at: datetime | None
    stakeholder: dict[str, Any]
    services: list[str]
    description: str


@dataclass(frozen=True)
class SubmissionOutcome:
    request_id: UUID
    reference: str
    status: str
    created: bool


# What a step on the timeline says, taken from the event that caused it.
_STEP_OF_EVENT: dict[
    type[IntegrationEvent], tuple[Step, Callable[[Any], dict[str, Any]]]
]
_STEP_OF_EVENT = {
    RequestApproved: (
        Step.APPROVED,
        lambda e: {"decided_by": e.decided_by, "disposition": e.disposition},
    ),
    RequestRejected: (
        Step.REJECTED,
        lambda e: {"decided_by": e.decided_by, "reason": e.reason},
    ),
    RejectionLetterIssued: (
        Step.REJECTION_LETTER_ISSUED,
        lambda e: {"letter_number": e.letter_number, "drafted_by": e.drafted_by},
    ),
    ScheduleIssued: (
        Step.SCHEDULED,
        lambda e: {
            "assignment_number": e.assignment_number,
            "visit_start": e.visit_start.isoformat(),
            "visit_end": e.visit_end.isoformat(),
            "location": e.location,
            "officers": [officer.name for officer in e.officers],
        },
    ),
    ScheduleRevised: (
        Step.SCHEDULE_REVISED,
        lambda e: {
            "revision": e.revision,
            "visit_start": e.visit_start.isoformat(),
            "visit_end": e.visit_end.isoformat(),
            "location": e.location,
            "officers": [officer.name for officer in e.officers],
            "revised_by": e.revised_by,
            "reason": e.reason,
        },
    ),
    BeritaAcaraFiled: (
        Step.BERITA_ACARA_FILED,
        lambda e: {
            "berita_acara_number": e.berita_acara_number,
            "samples_tested": e.samples_tested,
            "samples_meeting_standard": e.samples_meeting_standard,
            "quality_standard": e.quality_standard,
        },
    ),
    ReceiptDelivered: (Step.RECEIPT_DELIVERED, lambda e: {"channel": e.channel}),
    RejectionLetterDelivered: (
        Step.REJECTION_LETTER_DELIVERED,
        lambda e: {"channel": e.channel, "confirmed_by": e.confirmed_by},
    ),
    ScheduleConveyed: (
        Step.SCHEDULE_CONVEYED,
        lambda e: {"channel": e.channel, "confirmed_by": e.confirmed_by},
    ),
    ScheduleRevisionConveyed: (
        Step.SCHEDULE_REVISION_CONVEYED,
        lambda e: {"channel": e.channel, "confirmed_by": e.confirmed_by},
    ),
    BeritaAcaraDelivered: (
        Step.BERITA_ACARA_DELIVERED,
        lambda e: {"channel": e.channel, "confirmed_by": e.confirmed_by},
    ),
}


class IntakeApplication(ServiceApplication):
    """Registers requests and keeps their timelines."""

    name = "intake"

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        catalogue: dict[str, ServiceKind],
        reference_prefix: str = "PPJ",
        future_tolerance: timedelta = timedelta(minutes=5),
    ) -> None:
        super().__init__(env)
        self.catalogue = catalogue
        self.reference_prefix = reference_prefix
        self.future_tolerance = future_tolerance
        self.view = RequestsView(self)

    def submit(self, submission: Submission) -> SubmissionOutcome:
        """Registers a request once; the same channel message gives the same one.

        Raises ``SubmissionRejectedError`` naming the field at fault.
        """
        # A repeat of a message already registered answers with that request.
        self._check(submission)
        request_id = request_id_for(submission.channel, submission.channel_message_id)
        existing = self._find(request_id)
        if existing is not None:
            return self._repeat(existing, submission)

        # Take the next reference and register, atomically; a race for the same
        # message or the same reference number is settled by the store, and
        # the retry then finds the winner's request.
        outcome: SubmissionOutcome | None = None

        def register() -> list[Any]:
            nonlocal outcome
            existing = self._find(request_id)
            if existing is not None:
                outcome = self._repeat(existing, submission)
                return []
            now = datetime.now(UTC)
            year = now.astimezone(OFFICE_TIME_ZONE).year
            numbers = self.take_number(
                f"reference/{self.reference_prefix}/{year}", issued_for=str(request_id)
            )
            request = ServiceRequest(
                channel=submission.channel.value,
                channel_message_id=submission.channel_message_id,
                reference=self._format_reference(numbers.last_number, now),
                received_at=(submission.received_at or now).astimezone(UTC),
                stakeholder=submission.stakeholder,
                services=submission.services,
                service_names=[
                    self.catalogue[code].name for code in submission.services
                ],
                description=submission.description,
            )
            index = ReferenceIndex(reference=request.reference, request_id=request.id)
            outcome = self._outcome(request, created=True)
            return [numbers, request, index]

        self.save_numbered(register)
        assert outcome is not None
        if outcome.created:
            logger.info(
                "request registered",
                extra={"request_id": str(request_id), "reference": outcome.reference},
            )
        return outcome

    def request(self, reference_or_id: str) -> ServiceRequest:
        """The request with this reference (or id).

        Raises ``RequestNotFoundError``.
        """
        request_id = self._request_id_of(reference_or_id)
        request = self._find(request_id) if request_id else None
        if request is None:
            raise RequestNotFoundError(
                f"No request has the reference {reference_or_id!r}.",
                reference=reference_or_id,
            )
        return request

    def apply_upstream_event(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        """Records on the request's timeline the step an upstream event marks."""
        step_and_details = _STEP_OF_EVENT.get(type(envelope.data))
        if step_and_details is None:
            return
        step, details_of = step_and_details
        request = self._find(envelope.data.request_id)
        if request is None:
            logger.warning(
                "event for a request intake does not know",
                extra={
                    "request_id": envelope.subject,
                    "event_type": envelope.type,
                },
            )
            return
        if request.has_recorded(step, envelope.id):
            return
        request.record_step(
            step=step.value,
            occurred_at=envelope.time,
            source_event=envelope.id,
            details=details_of(envelope.data),
        )

        # The schedule is conveyed (step 5) when any version of it reaches the
        # stakeholder: a revision may replace the first before it went out.
        conveyed = Step.SCHEDULE_CONVEYED
        if step == Step.SCHEDULE_REVISION_CONVEYED and not request.has_recorded(
            conveyed, envelope.id
        ):
            request.record_step(
                step=conveyed.value,
                occurred_at=envelope.time,
                source_event=envelope.id,
                details={**details_of(envelope.data), "by_revision": True},
            )
        processing_event.collect_events(request)

    def _check(self, submission: Submission) -> None:
        """Rules beyond the shape of the input, each naming its field."""
        for position, code in enumerate(submission.services):
            if code not in self.catalogue:
                raise SubmissionRejectedError(
                    f"Unknown service {code!r}; choose from: "
                    + ", ".join(sorted(self.catalogue)),
                    field=f"services.{position}",
                )
        if submission.received_at is not None:
            if submission.received_at > datetime.now(UTC) + self.future_tolerance:
                raise SubmissionRejectedError(
                    "received_at lies in the future.", field="received_at"
                )
        contact = _CONTACT_NEEDED_FOR.get(submission.channel)
        if contact and not submission.stakeholder.get(contact):
            raise SubmissionRejectedError(
                f"A request by {submission.channel.value} needs the stakeholder's "
                f"{contact} to answer on the same channel.",
                field=f"stakeholder.{contact}",
            )
        if not any(
            submission.stakeholder.get(key) for key in ("phone", "email", "address")
        ):
            raise SubmissionRejectedError(
                "Give at least one way to reach the stakeholder: phone, email or "
                "address.",
                field="stakeholder",
            )

    def _find(self, request_id: UUID) -> ServiceRequest | None:
        return self.find(request_id, ServiceRequest)

    def _request_id_of(self, reference_or_id: str) -> UUID | None:
        try:
            return UUID(reference_or_id)
        except ValueError:
            pass
        index = self.find(ReferenceIndex.create_id(reference_or_id), ReferenceIndex)
        return index.request_id if index is not None else None

    def _format_reference(self, number: int, now: datetime) -> str:
        year = now.astimezone(OFFICE_TIME_ZONE).year
        return f"{self.reference_prefix}-{year}-{number:05d}"

    def _repeat(
        self, existing: ServiceRequest, submission: Submission
    ) -> SubmissionOutcome:
        """The request a repeated message registered.

        Raises ``MessageIdReusedError`` naming the first field that differs.
        """
        sent_again: dict[str, object] = {
            "stakeholder": submission.stakeholder,
            "services": submission.services,
            "description": submission.description,
        }
        if submission.received_at is not None:
            sent_again["received_at"] = submission.received_at.astimezone(UTC)
        for name, value in sent_again.items():
            stored = getattr(existing, name)
            # The same services listed in another order are the same request.
            if name == "services":
                stored, value = sorted(stored), sorted(submission.services)
            if stored != value:
                raise MessageIdReusedError(
                    f"{submission.channel.value} message "
                    f"{submission.channel_message_id!r} was registered as "
                    f"{existing.reference} with another {name}; a new request "
                    "needs a channel_message_id of its own.",
                    field="channel_message_id",
                    reference=existing.reference,
                    differs_in=name,
                )
        return self._outcome(existing, created=False)

    @staticmethod
    def _outcome(request: ServiceRequest, *, created: bool) -> SubmissionOutcome:
        return SubmissionOutcome(
            request_id=request.id,
            reference=request.reference,
            status=request.status.value,
            created=created,
        )


# The contact a channel needs so the answer can go back the same way.
_CONTACT_NEEDED_FOR: dict[Channel, str] = {
    Channel.EMAIL: "email",
    Channel.WHATSAPP: "phone",
    Channel.POST: "address",
    Channel.FAX: "phone",
    Channel.PHONE: "phone",
}


@dataclass
class RequestRow:
    request_id: UUID
    reference: str
    channel: str
    institution: str
    regency: str | None
    services: list[str]
    received_at: datetime
    status: str


class RequestsView(LogView):
    """Every request with its current status, for the front office's list."""

    def __init__(self, app: IntakeApplication) -> None:
        super().__init__(app)
        self.rows: dict[UUID, RequestRow] = {}
        self._steps: dict[UUID, set[Step]] = {}

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        if isinstance(domain_event, ServiceRequest.Submitted):
            stakeholder = domain_event.stakeholder
            self.rows[domain_event.originator_id] = RequestRow(
                request_id=domain_event.originator_id,
                reference=domain_event.reference,
                channel=domain_event.channel,
                institution=stakeholder["institution"],
                regency=stakeholder.get("regency"),
                services=list(domain_event.services),
                received_at=domain_event.received_at,
                status=Step.SUBMITTED.value,
            )
        elif isinstance(domain_event, ServiceRequest.StepRecorded):
            row = self.rows.get(domain_event.originator_id)
            if row is None:
                return
            steps = self._steps.setdefault(domain_event.originator_id, set())
            steps.add(Step(domain_event.step))
            row.status = status_of(steps).value

    def select(
        self, *, status: str | None, channel: str | None, limit: int, offset: int
    ) -> tuple[int, list[RequestRow]]:
        self.catch_up()
        rows = [
            row
            for row in self.rows.values()
            if (status is None or row.status == status)
            and (channel is None or row.channel == channel)
        ]
        rows.sort(key=lambda row: row.received_at, reverse=True)
        return len(rows), rows[offset : offset + limit]
