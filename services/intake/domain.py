"""Intake's domain: a service request and its timeline through the procedure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

INTAKE_NAMESPACE = uuid5(NAMESPACE_URL, "https://purnajual.biblembang.id/intake")


class Channel(StrEnum):
    """Where a request letter or message came in."""

    WEBSITE = "website"
    ONLINE_FORM = "online_form"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    POST = "post"
    FAX = "fax"
    PHONE = "phone"
    WALK_IN = "walk_in"


class Step(StrEnum):
    """The steps of the procedure as the timeline shows them, in order."""

    SUBMITTED = "submitted"
    RECEIPT_DELIVERED = "receipt_delivered"
    APPROVED = "approved"
    REJECTED = "rejected"
    REJECTION_LETTER_ISSUED = "rejection_letter_issued"
    REJECTION_LETTER_DELIVERED = "rejection_letter_delivered"
    SCHEDULED = "scheduled"
    SCHEDULE_REVISED = "schedule_revised"
    SCHEDULE_REVISION_CONVEYED = "schedule_revision_conveyed"
    SCHEDULE_CONVEYED = "schedule_conveyed"
    BERITA_ACARA_FILED = "berita_acara_filed"
    BERITA_ACARA_DELIVERED = "berita_acara_delivered"


# Steps that can happen more than once; each time is its own timeline entry.
REPEATABLE_STEPS = frozenset({Step.SCHEDULE_REVISED, Step.SCHEDULE_REVISION_CONVEYED})


class Status(StrEnum):
    """Where a request stands: the furthest step it reached.

    Every step but the receipt's delivery and a schedule's revisions, which
    the timeline shows and which never are a status (see ``STEP_PROGRESS``).
    """

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    REJECTION_LETTER_ISSUED = "rejection_letter_issued"
    REJECTION_LETTER_DELIVERED = "rejection_letter_delivered"
    SCHEDULED = "scheduled"
    SCHEDULE_CONVEYED = "schedule_conveyed"
    BERITA_ACARA_FILED = "berita_acara_filed"
    BERITA_ACARA_DELIVERED = "berita_acara_delivered"


# How far along each step puts a request; the status is the furthest step.
# A delivered receipt, a revised schedule and its delivery are on the
# timeline but are never a status; of the steps that are, no two reached by
# one request are equally far, so the status never depends on their order.
STEP_PROGRESS: dict[Step, int] = {
    Step.SUBMITTED: 0,
    Step.APPROVED: 1,
    Step.REJECTED: 1,
    Step.REJECTION_LETTER_ISSUED: 2,
    Step.REJECTION_LETTER_DELIVERED: 3,
    Step.SCHEDULED: 2,
    Step.SCHEDULE_CONVEYED: 3,
    Step.BERITA_ACARA_FILED: 4,
    Step.BERITA_ACARA_DELIVERED: 5,
}


def status_of(steps: Iterable[Step]) -> Step:
    """The furthest step reached; a bare submission is ``submitted``."""
    statuses = [step for step in steps if step in STEP_PROGRESS]
    return max([Step.SUBMITTED, *statuses], key=lambda step: STEP_PROGRESS[step])


def request_id_for(channel: str, channel_message_id: str) -> UUID:
    """The same message on the same channel is always the same request."""
    return uuid5(INTAKE_NAMESPACE, f"{channel}\x1f{channel_message_id}")


class ServiceRequest(Aggregate):
    """A stakeholder's request for an after-sales service, and its timeline."""

    TOPIC = "intake.ServiceRequest"

    class Created(Aggregate.Created):
        TOPIC = "intake.ServiceRequest.Created"

    class Submitted(Created):
        """Version 2 keeps the catalogue's names of the services asked for."""

        TOPIC = "intake.ServiceRequest.Submitted"
        class_version = 2
        channel: str
        channel_message_id: str
        reference: str
        received_at: datetime
        stakeholder: dict[str, Any]
        services: list[str]
        service_names: list[str]
        description: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["service_names"] = list(state["services"])

    class StepRecorded(Aggregate.Event):
        TOPIC = "intake.ServiceRequest.StepRecorded"
        step: str
        occurred_at: datetime
        source_event: str
        details: dict[str, Any]

    @staticmethod
    def create_id(channel: str, channel_message_id: str) -> UUID:
        return request_id_for(channel, channel_message_id)

    @event(Submitted)
    def __init__(
        self,
        channel: str,
        channel_message_id: str,
        reference: str,
        received_at: datetime,
        stakeholder: dict[str, Any],
        services: list[str],
        service_names: list[str],
        description: str,
    ) -> None:
        self.channel = channel
        self.channel_message_id = channel_message_id
        self.reference = reference
        self.received_at = received_at
        self.stakeholder = stakeholder
        self.service_names = service_names
        self.services = services
        self.description = description
        self.timeline: dict[str, dict[str, Any]] = {}

    @property
    def status(self) -> Step:
        return status_of(Step(entry["step"]) for entry in self.timeline.values())

    def has_recorded(self, step: Step, source_event: str) -> bool:
        return _timeline_key(step.value, source_event) in self.timeline

    @event(StepRecorded)
    def record_step(
        self,
        step: str,
        occurred_at: datetime,
        source_event: str,
        details: dict[str, Any],
    ) -> None:
        """Notes on the timeline that a step of the procedure took place."""
        self.timeline[_timeline_key(step, source_event)] = {
            "step": step,
            "at": occurred_at,
            "source_event": source_event,
            "details": details,
        }


def _timeline_key(step: str, source_event: str) -> str:
    """A step once per request; a repeatable one once per event that caused it."""
    if Step(step) in REPEATABLE_STEPS:
        return f"{step}@{source_event}"
    return step


class ReferenceIndex(Aggregate):
    """Finds a request by the human reference the stakeholder quotes."""

    TOPIC = "intake.ReferenceIndex"

    class Created(Aggregate.Created):
        TOPIC = "intake.ReferenceIndex.Created"

    class Assigned(Created):
        TOPIC = "intake.ReferenceIndex.Assigned"
        reference: str
        request_id: UUID

    @staticmethod
    def create_id(reference: str) -> UUID:
        return uuid5(INTAKE_NAMESPACE, f"reference\x1f{reference.upper()}")

    @event(Assigned)
    def __init__(self, reference: str, request_id: UUID) -> None:
        self.reference = reference
        self.request_id = request_id
