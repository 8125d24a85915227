"""Notifier's use cases: compose, address, send, and confirm deliveries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import EnvType

from purnajual.contracts import (
    BeritaAcaraFiled,
    IntegrationEvent,
    RejectionLetterIssued,
    RequestApproved,
    RequestRejected,
    RequestSubmitted,
    ScheduleIssued,
    ScheduleRevised,
)
from purnajual.envelope import Envelope
from purnajual.errors import NotFoundError
from purnajual.numbering import OFFICE_TIME_ZONE
from purnajual.persistence import ServiceApplication
from purnajual.views import LogView
from services.notifier import messages
from services.notifier.domain import (
    DeliveryChannel,
    Notification,
    NotificationStatus,
    NotifierError,
    Purpose,
    Recipient,
    delivery_channel_for,
)
from services.notifier.office_calendar import (
    CalendarError,
    OfficeCalendar,
    default_calendar,
)
from services.notifier.report import FactsView, RequestFacts, build_report
from services.notifier.sla import (
    DEFAULT_TARGETS,
    ClockState,
    SlaClock,
    SlaStep,
    Target,
    plan_clock,
)
from services.notifier.transports import DeliveryError, OutgoingMessage, Transport

logger = logging.getLogger(__name__)

DISPATCH_POLL_SECONDS = 1.0
CLOCK_CHECK_SECONDS = 1.0


class NotificationNotFoundError(NotifierError, NotFoundError):
    """No notification has this id."""


# What each upstream event asks the notifier to tell, and in which words.
_COMPOSE: dict[type[IntegrationEvent], tuple[Purpose, Callable[[Any], tuple[str, str]]]]
_COMPOSE = {
    RejectionLetterIssued: (Purpose.REJECTION_LETTER, messages.rejection_letter),
    ScheduleIssued: (Purpose.SCHEDULE, messages.schedule),
    ScheduleRevised: (Purpose.SCHEDULE_REVISED, messages.schedule_revised),
    BeritaAcaraFiled: (Purpose.BERITA_ACARA, messages.berita_acara),
}


class NotifierApplication(ServiceApplication):
    """Turns procedure events into messages and delivers each once."""

    name = "notifier"

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        transports: dict[DeliveryChannel, Transport],
        max_delivery_attempts: int = 5,
        sla_targets: dict[SlaStep, Target] | None = None,
        warning_share: float = 0.8,
        initial_calendar: dict[str, Any] | None = None,
        operations_emails: list[str] | None = None,
    ) -> None:
        super().__init__(env)
        self.operations_emails = operations_emails or []
        self.transports = transports
        self.max_delivery_attempts = max_delivery_attempts
        self.sla_targets = {**DEFAULT_TARGETS, **(sla_targets or {})}
        self.warning_share = warning_share
        self.view = NotificationsView(self)
        self.clocks = ClocksView(self)
        self.facts = FactsView(self)
        self.open_calendar(initial_calendar or default_calendar())

    def open_calendar(self, initial: dict[str, Any]) -> None:
        """Records the first calendar once; later starts keep the stored one.

        A calendar stored before its changes were published is announced
        whole on the first start that finds it so, for scheduling to learn.
        """
        stored = self.find(OfficeCalendar.create_id(), OfficeCalendar)
        if stored is not None:
            if not stored.announced:
                stored.announce()
                self._save_calendar(stored)
            return
        calendar = OfficeCalendar(
            time_zone=initial["time_zone"], weekly_hours=initial["weekly_hours"]
        )
        for day, name, kind in initial.get("closed_days", []):
            calendar.set_closed_day(day=date.fromisoformat(day), name=name, kind=kind)
        for name, period in initial.get("periods", {}).items():
            calendar.set_period(
                name=name,
                first_day=date.fromisoformat(period["first_day"]),
                last_day=date.fromisoformat(period["last_day"]),
                weekly_hours=period["weekly_hours"],
            )
        for year, decree in initial.get("confirmed_years", {}).items():
            calendar.confirm_year(year=int(year), decree=decree)
        calendar.announce()
        self._save_calendar(calendar)

    def _save_calendar(self, calendar: OfficeCalendar) -> None:
        try:
            self.save(calendar)
        except IntegrityError:
            logger.info("another notifier recorded the calendar first")

    def calendar(self) -> OfficeCalendar:
        calendar = self.find(OfficeCalendar.create_id(), OfficeCalendar)
        if calendar is None:
            raise CalendarError("The office calendar has not been recorded yet.")
        return calendar

    def change_calendar(
        self, change: Callable[[OfficeCalendar], None]
    ) -> OfficeCalendar:
        """Applies an admin's change to the calendar, as an event.

        Raises ``CalendarError`` for a change that makes no sense.
        """

        def apply() -> list[Any]:
            calendar = self.calendar()
            change(calendar)
            return [calendar]

        self.save_with_retry(apply)
        logger.info("office calendar changed")
        return self.calendar()

    def notification(self, notification_id: UUID) -> Notification:
        """Raises ``NotificationNotFoundError``."""
        notification = self.find(notification_id, Notification)
        if notification is None:
            raise NotificationNotFoundError(
                f"No notification {notification_id}.",
                notification_id=str(notification_id),
            )
        return notification

    def confirm_delivery(
        self, notification_id: UUID, confirmed_by: str, note: str | None
    ) -> Notification:
        """Staff confirm a delivery by hand (post, fax, phone, walk-in).

        Raises ``NotificationNotFoundError`` or ``NotificationConflictError``.
        """

        def confirm() -> list[Any]:
            notification = self.notification(notification_id)
            notification.confirm_delivery(confirmed_by=confirmed_by, note=note)
            return [notification, *self._conveyance_stopped(notification)]

        self.save_with_retry(confirm)
        logger.info(
            "delivery confirmed", extra={"notification_id": str(notification_id)}
        )
        return self.notification(notification_id)

    def deliver(self, notification_id: UUID) -> None:
        """Sends one queued notification and records the outcome."""
        notification = self.notification(notification_id)
        if notification.status != NotificationStatus.QUEUED:
            return
        assert notification.channel is not None and notification.destination is not None
        message = OutgoingMessage(
            notification_id=notification.id,
            reference=notification.reference,
            channel=notification.channel.value,
            destination=notification.destination,
            recipient_name=notification.recipient_name or "",
            subject=notification.subject,
            text=messages.letter(notification.recipient_name or "", notification.body),
            in_reply_to=notification.in_reply_to,
        )

        # Send first, then record: a crash in between sends once more later.
        try:
            self.transports[notification.channel].send(message)
        except DeliveryError as error:
            self._record_failure(notification, str(error))
            return
        notification.mark_sent()
        self.save(notification, *self._conveyance_stopped(notification))
        logger.info(
            "notification delivered",
            extra={"notification_id": str(notification.id), "channel": message.channel},
        )

    async def dispatch_forever(self) -> None:
        """Sends whatever is due, woken by commits and by a poll."""
        wakeup = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.add_commit_listener(lambda: _call_soon(loop, wakeup.set))
        while True:
            wakeup.clear()
            try:
                due = await asyncio.to_thread(self.view.due, datetime.now(UTC))
                for notification_id in due:
                    await asyncio.to_thread(self.deliver, notification_id)
            except Exception:
                logger.exception("dispatch round failed; retrying")
            try:
                await asyncio.wait_for(wakeup.wait(), DISPATCH_POLL_SECONDS)
            except TimeoutError:
                pass

    def apply_upstream_event(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        """Composes what the event calls for and moves the steps' clocks."""
        self._compose_for(envelope, processing_event)
        self._time_steps(envelope, processing_event)
        self._note_facts(envelope, processing_event)

    def raise_due_clocks(self, now: datetime) -> None:
        """Records the warnings and breaches whose moment has come, each once.

        Two notifiers may both try: the store lets one record it, and the
        other finds it recorded.
        """
        # Checked every second: the calendar is read only when a clock is due.
        due = self.clocks.due(now)
        if not due:
            return
        calendar = self.calendar().working_time()
        for clock_id in due:
            clock = self.find(clock_id, SlaClock)
            if clock is None:
                continue
            was_breached = clock.breached
            clock.raise_due(now, calendar)
            try:
                self.save(clock, *self._breach_alert(clock, was_breached))
            except IntegrityError:
                logger.info("another notifier judged this clock first")

    async def watch_clocks_forever(self) -> None:
        """Fires warnings and breaches within a second of their moment."""
        day_checked: date | None = None
        while True:
            try:
                await asyncio.to_thread(self.raise_due_clocks, datetime.now(UTC))

                # Once a day, not every second: a missing year is a chore for
                # an admin, and a daily reminder is enough to get it done.
                if day_checked != datetime.now(OFFICE_TIME_ZONE).date():
                    await asyncio.to_thread(self.warn_of_missing_holidays)
                    day_checked = datetime.now(OFFICE_TIME_ZONE).date()
            except Exception:
                logger.exception("checking the clocks failed; retrying")
            await asyncio.sleep(CLOCK_CHECK_SECONDS)

    def warn_of_missing_holidays(self) -> list[int]:
        """Logs a warning naming the years near at hand not confirmed as entered."""
        calendar = self.calendar()
        missing = calendar.years_missing_holidays(calendar.today())
        if missing:
            logger.warning(
                "calendar has no holidays confirmed for %s: every weekday "
                "counts as working time until they are entered "
                "(PUT /calendar/closed-days/{day}) and the year confirmed "
                "(PUT /calendar/years/{year})",
                ", ".join(map(str, missing)),
                extra={"years_missing_holidays": missing},
            )
        return missing

    def metric_lines(self) -> list[str]:
        """Open clocks, verdicts and working time taken, per step."""
        rows = self.clocks.snapshot().values()
        calendar = self.calendar()
        lines = [
            "# HELP purnajual_calendar_years_missing_holidays Years near at hand "
            "(this one, and the next within 60 days) whose holidays are not "
            "confirmed as entered.",
            "# TYPE purnajual_calendar_years_missing_holidays gauge",
            "purnajual_calendar_years_missing_holidays "
            f"{len(calendar.years_missing_holidays(calendar.today()))}",
        ]
        families: list[tuple[str, str, str, Callable[[ClockRow], bool]]] = [
            (
                "sla_open_clocks",
                "gauge",
                "Clocks running.",
                lambda row: row.state in (ClockState.OPEN, ClockState.WARNING),
            ),
            (
                "sla_warnings_total",
                "counter",
                "Warnings raised.",
                lambda row: row.warned,
            ),
            # A counter never goes down: a breach corrected to met stays counted.
            (
                "sla_breaches_total",
                "counter",
                "Breaches raised, including those a late stop in time corrected.",
                lambda row: row.breached,
            ),
            (
                "sla_met_total",
                "counter",
                "Steps done in time.",
                lambda row: row.state == ClockState.MET,
            ),
        ]
        for name, kind, help_text, counts in families:
            lines += [
                f"# HELP purnajual_{name} {help_text}",
                f"# TYPE purnajual_{name} {kind}",
            ]
            for step in SlaStep:
                count = sum(1 for row in rows if row.step == step and counts(row))
                lines.append(f'purnajual_{name}{{step="{step.value}"}} {count}')
        lines += [
            "# HELP purnajual_sla_step_working_seconds Working time steps took.",
            "# TYPE purnajual_sla_step_working_seconds summary",
        ]
        for step in SlaStep:
            taken = [
                row.duration_minutes * 60
                for row in rows
                if row.step == step and row.duration_minutes is not None
            ]
            label = f'step="{step.value}"'
            lines.append(
                f"purnajual_sla_step_working_seconds_sum{{{label}}} {sum(taken):g}"
            )
            lines.append(
                f"purnajual_sla_step_working_seconds_count{{{label}}} {len(taken)}"
            )
        return lines

    def _time_steps(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        moves = _clock_moves(envelope.data)
        if not moves:
            return
        calendar = self.calendar().working_time()
        clocks: dict[SlaStep, SlaClock] = {}
        breached_before: dict[SlaStep, bool] = {}
        for step, move, moment in moves:
            if step not in clocks:
                data = envelope.data
                clocks[step] = self._clock(data.request_id, data.reference, step)
                breached_before[step] = clocks[step].breached
            clock = clocks[step]
            try:
                if move == ClockMove.STOP:
                    clock.stop(moment, calendar)
                    continue
                target = self.sla_targets[step]
                plan = plan_clock(moment, target, self.warning_share, calendar)
                if move == ClockMove.START:
                    clock.start(moment, plan, calendar)
                else:
                    assert isinstance(envelope.data, ScheduleRevised)
                    moved_at = envelope.data.revised_at
                    clock.restart(moment, plan, calendar, moved_at=moved_at)
            except CalendarError:
                # A calendar without working time must not stop the messages.
                logger.exception("a clock cannot run on this calendar")
        processing_event.collect_events(*clocks.values())
        for step, clock in clocks.items():
            processing_event.collect_events(
                *self._breach_alert(clock, breached_before[step])
            )

    def _breach_alert(self, clock: SlaClock, was_breached: bool) -> list[Notification]:
        """An email to the operations contacts when a clock has just breached."""
        if was_breached or not clock.breached or not self.operations_emails:
            return []
        assert clock.plan is not None
        deadline = clock.plan["deadline"].astimezone(OFFICE_TIME_ZONE)
        alert = Notification(
            request_id=clock.request_id,
            reference=clock.reference,
            purpose=Purpose.OPERATIONS_ALERT.value,
            subject=f"Pelanggaran standar waktu: {clock.step.value} {clock.reference}",
            body=(
                f"Langkah {clock.step.value} permohonan {clock.reference} melewati "
                f"standar waktunya ({clock.plan['target']}); batas waktu "
                f"{deadline:%d-%m-%Y %H:%M} WIB."
            ),
            source_event=f"sla-breach:{clock.id}",
        )
        alert.address(
            channel=DeliveryChannel.EMAIL.value,
            destination=", ".join(self.operations_emails),
            recipient_name="Tim operasional BIB Lembang",
            in_reply_to=None,
        )
        return [alert]

    def _note_facts(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        """Keeps what the monthly report counts of this request."""
        data = envelope.data
        if not isinstance(
            data,
            RequestSubmitted | RequestApproved | RequestRejected | BeritaAcaraFiled,
        ):
            return
        facts = self.find(RequestFacts.create_id(data.request_id), RequestFacts)
        facts = facts or RequestFacts(request_id=data.request_id)
        if isinstance(data, RequestSubmitted) and not facts.registered:
            facts.register(
                reference=data.reference,
                received_at=data.received_at,
                channel=data.channel,
                services=data.services,
                regency=data.stakeholder.regency,
            )
        elif isinstance(data, RequestApproved | RequestRejected) and not facts.decided:
            facts.decide(approved=isinstance(data, RequestApproved))
        elif isinstance(data, BeritaAcaraFiled) and not facts.tested:
            facts.note_field_test(
                samples_tested=data.samples_tested,
                samples_meeting_standard=data.samples_meeting_standard,
                quality_standard=data.quality_standard,
            )
        processing_event.collect_events(facts)

    def after_sales_report(self, month: str) -> dict[str, Any]:
        """The month's Laporan Pelayanan Purna Jual, from the events."""
        return build_report(
            month,
            list(self.facts.snapshot().values()),
            list(self.clocks.snapshot().values()),
        )

    def _clock(self, request_id: UUID, reference: str, step: SlaStep) -> SlaClock:
        clock = self.find(SlaClock.create_id(request_id, step.value), SlaClock)
        return clock or SlaClock(request_id=request_id, reference=reference, step=step)

    def _conveyance_stopped(self, notification: Notification) -> list[SlaClock]:
        """Delivering the schedule is step 5; its clock stops with it, also when
        a revision reaches the stakeholder first."""
        if notification.purpose not in (Purpose.SCHEDULE, Purpose.SCHEDULE_REVISED):
            return []
        clock = self._clock(
            notification.request_id, notification.reference, SlaStep.CONVEYANCE
        )
        clock.stop(datetime.now(UTC), self.calendar().working_time())
        return [clock]

    def _compose_for(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        data = envelope.data
        if isinstance(data, RequestSubmitted):
            self._on_submitted(envelope, data, processing_event)
            return
        purpose_and_words = _COMPOSE.get(type(data))
        if purpose_and_words is None:
            return
        purpose, words = purpose_and_words
        if isinstance(data, ScheduleRevised) and self._visit_reported(data):
            # The revision crossed the Berita Acara: the visit already took
            # place, and telling the stakeholder of new days would mislead.
            logger.warning(
                "revised schedule not told: the visit is already reported",
                extra={"request_id": str(data.request_id)},
            )
            return
        subject, body = words(data)
        recipient = self._recipient(data.request_id)
        self._compose(recipient, envelope, purpose, subject, body, processing_event)

    def _visit_reported(self, revised: ScheduleRevised) -> bool:
        visit = self.find(
            SlaClock.create_id(revised.request_id, SlaStep.FIELD_VISIT.value), SlaClock
        )
        return visit is not None and visit.stopped_at is not None

    def _on_submitted(
        self,
        envelope: Envelope,
        submitted: RequestSubmitted,
        processing_event: ProcessingEvent[UUID],
    ) -> None:
        # Register how to reach the stakeholder, then address what waited.
        recipient = self._recipient(submitted.request_id)
        if recipient.contact is not None:
            return
        parked = list(recipient.parked)
        recipient.register_contact(
            reference=submitted.reference,
            request_channel=submitted.channel,
            contact=submitted.stakeholder.model_dump(),
            channel_message_id=submitted.channel_message_id,
        )
        waiting: list[Notification] = [
            self.repository.get(notification_id) for notification_id in parked
        ]
        for notification in waiting:
            if notification.outstanding:
                self._address(notification, recipient)
        processing_event.collect_events(recipient, *waiting)

        # The receipt tells the stakeholder their reference.
        subject, body = messages.receipt(
            submitted.reference, submitted.service_names or submitted.services
        )
        self._compose(
            recipient, envelope, Purpose.RECEIPT, subject, body, processing_event
        )

    def _compose(
        self,
        recipient: Recipient,
        envelope: Envelope,
        purpose: Purpose,
        subject: str,
        body: str,
        processing_event: ProcessingEvent[UUID],
    ) -> None:
        request_id = envelope.data.request_id
        existing = self.find(
            Notification.create_id(request_id, purpose.value, envelope.id),
            Notification,
        )
        if existing is not None:
            return
        notification = Notification(
            request_id=request_id,
            reference=envelope.data.reference,
            purpose=purpose.value,
            subject=subject,
            body=body,
            source_event=envelope.id,
        )
        if recipient.contact is None:
            recipient.park(notification.id)
        else:
            self._address(notification, recipient)
        processing_event.collect_events(
            recipient, notification, *self._superseded_by(notification)
        )

    def _superseded_by(self, revised: Notification) -> list[Notification]:
        """Earlier versions of a schedule still to be delivered: replaced, so
        staff never deliver days that no longer hold."""
        if revised.purpose != Purpose.SCHEDULE_REVISED:
            return []
        earlier: list[Notification] = [
            self.repository.get(row.notification_id)
            for row in self.view.select(request_id=revised.request_id, status=None)
            if row.purpose in (Purpose.SCHEDULE, Purpose.SCHEDULE_REVISED)
            and row.notification_id != revised.id
        ]
        replaced = [
            notification for notification in earlier if notification.outstanding
        ]
        for notification in replaced:
            notification.supersede(by_notification=revised.id)
        return replaced

    @staticmethod
    def _address(notification: Notification, recipient: Recipient) -> None:
        assert recipient.contact is not None and recipient.request_channel is not None
        channel, destination = delivery_channel_for(
            recipient.request_channel, recipient.contact
        )
        name = recipient.contact.get("contact_name") or ""
        institution = recipient.contact.get("institution")
        # An email request is answered in its own thread.
        answers_email = (
            channel == DeliveryChannel.EMAIL and recipient.request_channel == "email"
        )
        notification.address(
            channel=channel.value,
            destination=destination,
            recipient_name=f"{name} ({institution})" if institution else name,
            in_reply_to=recipient.channel_message_id if answers_email else None,
        )

    def _recipient(self, request_id: UUID) -> Recipient:
        recipient = self.find(Recipient.create_id(request_id), Recipient)
        return recipient or Recipient(request_id=request_id)

    def _record_failure(self, notification: Notification, error: str) -> None:
        attempt = notification.attempts + 1
        logger.warning(
            "delivery failed",
            extra={
                "notification_id": str(notification.id),
                "attempt": attempt,
                "error": error,
            },
        )
        notification.record_failure(
            error, backoff=timedelta(seconds=min(2**attempt, 300))
        )
        if attempt >= self.max_delivery_attempts:
            notification.hand_to_staff(
                f"{notification.channel} failed {attempt} times; last error: {error}"
            )
        self.save(notification)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    loop.call_soon_threadsafe(callback)


@dataclass
class NotificationRow:
    notification_id: UUID
    request_id: UUID
    reference: str
    purpose: Purpose
    status: NotificationStatus
    channel: DeliveryChannel | None
    destination: str | None
    composed_at: datetime
    attempts: int = 0
    retry_at: datetime | None = None
    delivered_at: datetime | None = None
    confirmed_by: str | None = None
    last_error: str | None = None


class NotificationsView(LogView):
    """Every notification with its delivery state; also the dispatcher's queue."""

    def __init__(self, app: NotifierApplication) -> None:
        super().__init__(app)
        self.rows: dict[UUID, NotificationRow] = {}

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        if isinstance(domain_event, Notification.Composed):
            self.rows[domain_event.originator_id] = NotificationRow(
                notification_id=domain_event.originator_id,
                request_id=domain_event.request_id,
                reference=domain_event.reference,
                purpose=Purpose(domain_event.purpose),
                status=NotificationStatus.AWAITING_RECIPIENT,
                channel=None,
                destination=None,
                composed_at=domain_event.timestamp,
            )
            return
        row = self.rows.get(domain_event.originator_id)
        if row is None:
            return
        if isinstance(domain_event, Notification.Addressed):
            row.channel = DeliveryChannel(domain_event.channel)
            row.destination = domain_event.destination
            row.status = (
                NotificationStatus.AWAITING_CONFIRMATION
                if row.channel == DeliveryChannel.MANUAL
                else NotificationStatus.QUEUED
            )
        elif isinstance(domain_event, Notification.DeliveryFailed):
            row.attempts = domain_event.attempt
            row.retry_at = domain_event.retry_at
            row.last_error = domain_event.error
        elif isinstance(domain_event, Notification.HandedToStaff):
            row.status = NotificationStatus.AWAITING_CONFIRMATION
            row.last_error = domain_event.reason
        elif isinstance(domain_event, Notification.Superseded):
            row.status = NotificationStatus.SUPERSEDED
        elif isinstance(domain_event, Notification.Delivered):
            row.status = NotificationStatus.DELIVERED
            row.delivered_at = domain_event.timestamp
            row.confirmed_by = domain_event.confirmed_by

    def select(
        self, *, request_id: UUID | None, status: NotificationStatus | None
    ) -> list[NotificationRow]:
        self.catch_up()
        rows = [
            row
            for row in self.rows.values()
            if (request_id is None or row.request_id == request_id)
            and (status is None or row.status == status)
        ]
        return sorted(rows, key=lambda row: row.composed_at)

    def due(self, now: datetime) -> list[UUID]:
        """Queued notifications whose next attempt is due, oldest first."""
        self.catch_up()
        return [
            row.notification_id
            for row in sorted(self.rows.values(), key=lambda row: row.composed_at)
            if row.status == NotificationStatus.QUEUED
            and (row.retry_at is None or row.retry_at <= now)
        ]


class ClockMove(StrEnum):
    START = "start"
    STOP = "stop"
    # The start moved: a rescheduled field visit.
    RESTART = "restart"


def _clock_moves(
    event: IntegrationEvent,
) -> list[tuple[SlaStep, ClockMove, datetime]]:
    """Which clocks an event starts, stops or restarts, and when."""
    start, stop, restart = ClockMove.START, ClockMove.STOP, ClockMove.RESTART
    if isinstance(event, RequestSubmitted):
        return [
            (SlaStep.REGISTRATION, start, event.received_at),
            (SlaStep.REGISTRATION, stop, event.submitted_at),
            (SlaStep.DECISION, start, event.submitted_at),
        ]
    if isinstance(event, RequestApproved):
        return [
            (SlaStep.DECISION, stop, event.decided_at),
            (SlaStep.SCHEDULE, start, event.decided_at),
        ]
    if isinstance(event, RequestRejected):
        return [
            (SlaStep.DECISION, stop, event.decided_at),
            (SlaStep.REJECTION_LETTER, start, event.decided_at),
        ]
    if isinstance(event, RejectionLetterIssued):
        return [(SlaStep.REJECTION_LETTER, stop, event.issued_at)]
    if isinstance(event, ScheduleIssued):
        return [
            (SlaStep.SCHEDULE, stop, event.issued_at),
            (SlaStep.CONVEYANCE, start, event.issued_at),
            (SlaStep.FIELD_VISIT, start, _start_of(event.visit_start)),
        ]
    if isinstance(event, ScheduleRevised):
        return [(SlaStep.FIELD_VISIT, restart, _start_of(event.visit_start))]
    if isinstance(event, BeritaAcaraFiled):
        return [(SlaStep.FIELD_VISIT, stop, event.filed_at)]
    return []


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), OFFICE_TIME_ZONE)


@dataclass
class ClockRow:
    clock_id: UUID
    request_id: UUID
    reference: str
    step: SlaStep
    state: ClockState
    target: str | None = None
    started_at: datetime | None = None
    warning_at: datetime | None = None
    deadline: datetime | None = None
    stopped_at: datetime | None = None
    working_minutes_used: float | None = None
    duration_minutes: float | None = None
    warned: bool = False
    # Ever breached, even if a stop in time heard of later made it met.
    breached: bool = False


class ClocksView(LogView):
    """Every clock with its state: the operations view and the watcher's list."""

    def __init__(self, app: NotifierApplication) -> None:
        super().__init__(app)
        self.rows: dict[UUID, ClockRow] = {}

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        if isinstance(domain_event, SlaClock.Opened):
            self.rows[domain_event.originator_id] = ClockRow(
                clock_id=domain_event.originator_id,
                request_id=domain_event.request_id,
                reference=domain_event.reference,
                step=SlaStep(domain_event.step),
                state=ClockState.WAITING,
            )
            return
        row = self.rows.get(domain_event.originator_id)
        if row is None:
            return
        if isinstance(domain_event, SlaClock.Started | SlaClock.Restarted):
            row.target = domain_event.target
            row.started_at = domain_event.started_at
            row.warning_at = domain_event.warning_at
            row.deadline = domain_event.deadline
            if row.state == ClockState.WAITING:
                row.state = ClockState.OPEN
        elif isinstance(domain_event, SlaClock.Stopped):
            row.stopped_at = domain_event.stopped_at
            row.duration_minutes = domain_event.working_minutes_used
            # A clock breached while running used more than its target by now.
            if domain_event.working_minutes_used is not None:
                row.working_minutes_used = domain_event.working_minutes_used
        elif isinstance(domain_event, SlaClock.Judged):
            row.working_minutes_used = domain_event.working_minutes_used
            if row.stopped_at is not None and row.duration_minutes is None:
                row.duration_minutes = domain_event.working_minutes_used
            row.state = _STATE_AFTER[type(domain_event)]
            row.warned = row.warned or isinstance(domain_event, SlaClock.WarningRaised)
            row.breached = row.breached or isinstance(domain_event, SlaClock.Breached)

    def due(self, now: datetime) -> list[UUID]:
        """Running clocks whose warning or deadline has come."""
        self.catch_up()
        return [
            row.clock_id
            for row in self.rows.values()
            if row.stopped_at is None
            and row.deadline is not None
            and row.warning_at is not None
            and (
                (row.state == ClockState.OPEN and now >= row.warning_at)
                or (
                    row.state in (ClockState.OPEN, ClockState.WARNING)
                    and now > row.deadline
                )
            )
        ]

    def select(
        self, state: ClockState | None, request_id: UUID | None
    ) -> list[ClockRow]:
        """Clocks by urgency: the nearest deadline first, unstarted ones last."""
        self.catch_up()
        rows = [
            row
            for row in self.rows.values()
            if (state is None or row.state == state)
            and (request_id is None or row.request_id == request_id)
        ]
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(rows, key=lambda row: row.deadline or far)


_STATE_AFTER: dict[type[SlaClock.Judged], ClockState] = {
    SlaClock.WarningRaised: ClockState.WARNING,
    SlaClock.Breached: ClockState.BREACHED,
    SlaClock.Met: ClockState.MET,
}
