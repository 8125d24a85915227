"""Integration events: the public, versioned contract between the services.

These are not the services' domain events. Each service keeps its own
aggregates and events private and translates them into one of the classes
below when its relay publishes them. Consumers read only these classes.

Rules of the contract (see ``docs/asyncapi.yaml``):

- the subject is ``<service>.<aggregate>.<event>``;
- the CloudEvents ``type`` ends in ``.v<major>``; a breaking change adds a new
  class with a new major version, an additive change adds optional fields;
- readers ignore fields they do not know (``extra="ignore"``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ConfigDict

EVENT_TYPE_PREFIX = "id.go.pertanian.biblembang.purnajual"
# The contract's version: 1.1 added ScheduleRevised, ScheduleRevisionConveyed,
# the office calendar's events and RequestSubmitted.service_names, all of
# which 1.0 readers can ignore.
CONTRACT_VERSION = "1.1.0"


class StreamSpec(BaseModel):
    """A JetStream stream that exactly one service writes to."""

    model_config = ConfigDict(frozen=True)

    name: str
    service: str

    @property
    def subjects(self) -> list[str]:
        return [f"{self.service}.>"]


INTAKE_STREAM = StreamSpec(name="INTAKE", service="intake")
APPROVAL_STREAM = StreamSpec(name="APPROVAL", service="approval")
SCHEDULING_STREAM = StreamSpec(name="SCHEDULING", service="scheduling")
FIELDWORK_STREAM = StreamSpec(name="FIELDWORK", service="fieldwork")
NOTIFIER_STREAM = StreamSpec(name="NOTIFIER", service="notifier")
STREAMS: dict[str, StreamSpec] = {
    spec.service: spec
    for spec in (
        INTAKE_STREAM,
        APPROVAL_STREAM,
        SCHEDULING_STREAM,
        FIELDWORK_STREAM,
        NOTIFIER_STREAM,
    )
}

DEAD_LETTER_STREAM_NAME = "DEADLETTER"
DEAD_LETTER_SUBJECT_PREFIX = "deadletter"


class IntegrationEvent(BaseModel):
    """Base of every published event: it always names its request."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    SUBJECT: ClassVar[str]
    TYPE: ClassVar[str]

    request_id: UUID
    reference: str


def _event_type(subject: str, version: int = 1) -> str:
    return f"{EVENT_TYPE_PREFIX}.{subject}.v{version}"


class Stakeholder(BaseModel):
    """Who asked for the service, and how to reach them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    institution: str
    contact_name: str
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    regency: str | None = None
    province: str | None = None


class RequestSummary(BaseModel):
    """What downstream services need to know of a request to act on it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    institution: str
    regency: str | None = None
    province: str | None = None
    services: list[str]
    description: str


class RequestSubmitted(IntegrationEvent):
    """A request was registered at intake, with its reference (SOP step 1)."""

    SUBJECT = "intake.request.submitted"
    TYPE = _event_type(SUBJECT)

    channel: str
    channel_message_id: str
    received_at: datetime
    submitted_at: datetime
    stakeholder: Stakeholder
    services: list[str]
    description: str
    # Since contract 1.1: the catalogue's names of ``services``, in their order.
    service_names: list[str] | None = None


class RequestApproved(IntegrationEvent):
    """The head approved the request, with a disposition (step 2)."""

    SUBJECT = "approval.request.approved"
    TYPE = _event_type(SUBJECT)

    decided_by: str
    disposition: str
    decided_at: datetime
    request: RequestSummary


class RequestRejected(IntegrationEvent):
    """The head rejected the request, giving the reason (step 2)."""

    SUBJECT = "approval.request.rejected"
    TYPE = _event_type(SUBJECT)

    decided_by: str
    reason: str
    decided_at: datetime


class RejectionLetterIssued(IntegrationEvent):
    """The numbered rejection letter was drafted and issued (step 3)."""

    SUBJECT = "approval.rejection_letter.issued"
    TYPE = _event_type(SUBJECT)

    letter_number: str
    drafted_by: str
    body: str
    reason: str
    issued_at: datetime


class Officer(BaseModel):
    """A field officer (*petugas*) named on the assignment."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    employee_number: str | None = None
    role: str | None = None


class VisitPlanEvent(IntegrationEvent):
    """What every schedule event says of the visit: where, when, by whom."""

    assignment_number: str
    visit_start: date
    visit_end: date
    location: str
    officers: list[Officer]
    equipment: list[str]
    request: RequestSummary


class ScheduleIssued(VisitPlanEvent):
    """The field visit was scheduled and its officers assigned (step 4)."""

    SUBJECT = "scheduling.schedule.issued"
    TYPE = _event_type(SUBJECT)

    scheduled_by: str
    issued_at: datetime


class ScheduleRevised(VisitPlanEvent):
    """An issued schedule was changed (new days, place or team) before the visit.

    The latest revision replaces the schedule; ``revision`` counts from 1.
    """

    SUBJECT = "scheduling.schedule.revised"
    TYPE = _event_type(SUBJECT)

    revision: int
    revised_by: str
    reason: str
    revised_at: datetime


class BeritaAcaraFiled(IntegrationEvent):
    """The signed report of the field visit was filed (step 6)."""

    SUBJECT = "fieldwork.berita_acara.filed"
    TYPE = _event_type(SUBJECT)

    berita_acara_number: str
    filed_at: datetime
    visit_date: date
    place: str
    quality_standard: str
    samples_tested: int
    samples_meeting_standard: int
    findings: str
    recommendations: str


class NotificationDelivered(IntegrationEvent):
    """A message reached the stakeholder (or staff confirmed it did)."""

    notification_id: UUID
    purpose: str
    channel: str
    delivered_at: datetime
    confirmed_by: str | None = None


class ReceiptDelivered(NotificationDelivered):
    """The stakeholder received the receipt with the reference."""

    SUBJECT = "notifier.receipt.delivered"
    TYPE = _event_type(SUBJECT)


class RejectionLetterDelivered(NotificationDelivered):
    """The stakeholder received the rejection letter (end of step 3)."""

    SUBJECT = "notifier.rejection_letter.delivered"
    TYPE = _event_type(SUBJECT)


class ScheduleConveyed(NotificationDelivered):
    """The stakeholder received the schedule (step 5)."""

    SUBJECT = "notifier.schedule.conveyed"
    TYPE = _event_type(SUBJECT)


class ScheduleRevisionConveyed(NotificationDelivered):
    """The stakeholder received a revised schedule."""

    SUBJECT = "notifier.schedule_revision.conveyed"
    TYPE = _event_type(SUBJECT)


class BeritaAcaraDelivered(NotificationDelivered):
    """The stakeholder received the Berita Acara."""

    SUBJECT = "notifier.berita_acara.delivered"
    TYPE = _event_type(SUBJECT)


# The one office calendar, named where a request would be.
OFFICE_CALENDAR_ID = uuid5(
    NAMESPACE_URL, "https://purnajual.biblembang.id/office-calendar"
)
OFFICE_CALENDAR_REFERENCE = "office-calendar"
# Weekday names as the calendar's events write them, Monday first.
WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class OfficeCalendarEvent(IntegrationEvent):
    """A change to the office calendar, which the notifier keeps.

    It is about no request: ``request_id`` is ``OFFICE_CALENDAR_ID`` and
    ``reference`` is ``office-calendar``. Other services read these to know
    which days the office works.
    """


class OfficeDayClosed(OfficeCalendarEvent):
    """A national holiday or a day of cuti bersama was entered (or renamed)."""

    SUBJECT = "notifier.calendar.day_closed"
    TYPE = _event_type(SUBJECT)

    day: date
    name: str
    kind: str


class OfficeDayOpened(OfficeCalendarEvent):
    """A closed day was removed: the office works that day again."""

    SUBJECT = "notifier.calendar.day_opened"
    TYPE = _event_type(SUBJECT)

    day: date


class OfficeWeekChanged(OfficeCalendarEvent):
    """The weekdays with working hours, when the calendar opens or they change."""

    SUBJECT = "notifier.calendar.week_changed"
    TYPE = _event_type(SUBJECT)

    working_weekdays: list[str]


class ClosedDay(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    day: date
    name: str
    kind: str


class OfficeCalendarAnnounced(OfficeCalendarEvent):
    """The whole calendar's working days, for readers that came late.

    Sent once for every stored calendar (a new one, or one kept from before
    the calendar's changes were published); a reader replaces what it knew.
    """

    SUBJECT = "notifier.calendar.announced"
    TYPE = _event_type(SUBJECT)

    working_weekdays: list[str]
    closed_days: list[ClosedDay]


class SlaClockEvent(IntegrationEvent):
    """A step's clock, measured in office working time."""

    step: str
    started_at: datetime
    deadline: datetime
    target: str
    working_minutes_used: float


class SlaWarning(SlaClockEvent):
    """A step is close to its time standard (by default 80 % of it used)."""

    SUBJECT = "notifier.sla.warning"
    TYPE = _event_type(SUBJECT)


class SlaBreached(SlaClockEvent):
    """A step ran past its time standard."""

    SUBJECT = "notifier.sla.breached"
    TYPE = _event_type(SUBJECT)


class SlaMet(SlaClockEvent):
    """A step ended within its time standard.

    Judged by the server time of the event that ended the step. After a
    ``SlaBreached`` of the same step and request it corrects that breach: the
    step's end reached the notifier late.
    """

    SUBJECT = "notifier.sla.met"
    TYPE = _event_type(SUBJECT)


EVENT_CLASSES: tuple[type[IntegrationEvent], ...] = (
    RequestSubmitted,
    RequestApproved,
    RequestRejected,
    RejectionLetterIssued,
    ScheduleIssued,
    ScheduleRevised,
    BeritaAcaraFiled,
    ReceiptDelivered,
    RejectionLetterDelivered,
    ScheduleConveyed,
    ScheduleRevisionConveyed,
    BeritaAcaraDelivered,
    SlaWarning,
    SlaBreached,
    SlaMet,
    OfficeDayClosed,
    OfficeDayOpened,
    OfficeWeekChanged,
    OfficeCalendarAnnounced,
)
EVENT_CLASS_BY_TYPE: dict[str, type[IntegrationEvent]] = {
    cls.TYPE: cls for cls in EVENT_CLASSES
}
