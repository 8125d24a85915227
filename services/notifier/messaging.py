"""What the notifier publishes and what it listens to."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from purnajual.contracts import (
    APPROVAL_STREAM,
    FIELDWORK_STREAM,
    INTAKE_STREAM,
    NOTIFIER_STREAM,
    OFFICE_CALENDAR_REFERENCE,
    SCHEDULING_STREAM,
    BeritaAcaraDelivered,
    ClosedDay,
    IntegrationEvent,
    NotificationDelivered,
    OfficeCalendarAnnounced,
    OfficeDayClosed,
    OfficeDayOpened,
    OfficeWeekChanged,
    ReceiptDelivered,
    RejectionLetterDelivered,
    ScheduleConveyed,
    ScheduleRevisionConveyed,
    SlaBreached,
    SlaClockEvent,
    SlaMet,
    SlaWarning,
    StreamSpec,
)
from services.notifier.domain import Notification, Purpose
from services.notifier.office_calendar import OfficeCalendar
from services.notifier.sla import SlaClock

OWN_STREAM = NOTIFIER_STREAM
CONSUMES: list[tuple[StreamSpec, list[str]]] = [
    (INTAKE_STREAM, ["intake.request.submitted"]),
    (APPROVAL_STREAM, ["approval.>"]),
    (SCHEDULING_STREAM, ["scheduling.schedule.issued", "scheduling.schedule.revised"]),
    (FIELDWORK_STREAM, ["fieldwork.berita_acara.filed"]),
]

# A delivered schedule is the procedure's step 5, "schedule conveyed".
_DELIVERED_EVENT: dict[Purpose, type[NotificationDelivered]] = {
    Purpose.RECEIPT: ReceiptDelivered,
    Purpose.REJECTION_LETTER: RejectionLetterDelivered,
    Purpose.SCHEDULE: ScheduleConveyed,
    Purpose.SCHEDULE_REVISED: ScheduleRevisionConveyed,
    Purpose.BERITA_ACARA: BeritaAcaraDelivered,
}


_CLOCK_EVENT: dict[type[SlaClock.Judged], type[SlaClockEvent]] = {
    SlaClock.WarningRaised: SlaWarning,
    SlaClock.Breached: SlaBreached,
    SlaClock.Met: SlaMet,
}


def to_integration_event(
    domain_event: DomainEventProtocol[UUID],
) -> IntegrationEvent | None:
    """The public event for a delivery, a clock's verdict or a change of which
    days the office works; the rest is private."""
    if isinstance(domain_event, SlaClock.Judged):
        return _CLOCK_EVENT[type(domain_event)](
            request_id=domain_event.request_id,
            reference=domain_event.reference,
            step=domain_event.step,
            started_at=domain_event.started_at,
            deadline=domain_event.deadline,
            target=domain_event.target,
            working_minutes_used=domain_event.working_minutes_used,
        )
    if isinstance(domain_event, Notification.Delivered):
        event_class = _DELIVERED_EVENT.get(Purpose(domain_event.purpose))
        if event_class is None:
            return None
        return event_class(
            request_id=domain_event.request_id,
            reference=domain_event.reference,
            notification_id=domain_event.originator_id,
            purpose=domain_event.purpose,
            channel=domain_event.channel,
            delivered_at=domain_event.timestamp,
            confirmed_by=domain_event.confirmed_by,
        )
    return _calendar_event(domain_event)


def _calendar_event(
    domain_event: DomainEventProtocol[UUID],
) -> IntegrationEvent | None:
    """Which days are worked; hours and periods matter only to the clocks."""
    about = {
        "request_id": domain_event.originator_id,
        "reference": OFFICE_CALENDAR_REFERENCE,
    }
    if isinstance(
        domain_event, OfficeCalendar.Opened | OfficeCalendar.WeeklyHoursChanged
    ):
        return OfficeWeekChanged(
            **about,
            working_weekdays=OfficeCalendar.working_weekdays(domain_event.weekly_hours),
        )
    if isinstance(domain_event, OfficeCalendar.ClosedDaySet):
        return OfficeDayClosed(
            **about,
            day=domain_event.day,
            name=domain_event.name,
            kind=domain_event.kind,
        )
    if isinstance(domain_event, OfficeCalendar.ClosedDayRemoved):
        return OfficeDayOpened(**about, day=domain_event.day)
    if isinstance(domain_event, OfficeCalendar.Announced):
        return OfficeCalendarAnnounced(
            **about,
            working_weekdays=domain_event.working_weekdays,
            closed_days=[ClosedDay.model_validate(d) for d in domain_event.closed_days],
        )
    return None
