"""Scheduling's use cases: the list of approved requests, and issuing schedules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import EnvType

from purnajual.contracts import (
    BeritaAcaraFiled,
    OfficeCalendarAnnounced,
    OfficeCalendarEvent,
    OfficeDayClosed,
    OfficeDayOpened,
    OfficeWeekChanged,
    RequestApproved,
)
from purnajual.envelope import Envelope
from purnajual.errors import InvalidInputError
from purnajual.numbering import OFFICE_TIME_ZONE, LetterFormat
from purnajual.persistence import ServiceApplication
from purnajual.views import LogView
from services.scheduling.domain import (
    OFFICER_KEY_PREFIX,
    OfficeDays,
    OfficerRoster,
    Schedule,
    ScheduleConflictError,
    ScheduleStatus,
    SchedulingError,
    VisitPlan,
    officer_key,
)

logger = logging.getLogger(__name__)


class InvalidScheduleError(SchedulingError, InvalidInputError):
    """A schedule that breaks a rule; ``field`` names where."""


@dataclass(frozen=True)
class OfficerAssignment:
    name: str
    employee_number: str
    role: str | None


@dataclass(frozen=True)
class ScheduleDraft:
    """A visit as planned: first issued, or revised (then ``scheduled_by`` is
    who revised it)."""

    visit_start: date
    visit_end: date
    location: str
    officers: list[OfficerAssignment]
    equipment: list[str]
    scheduled_by: str
    # Officers may agree to visit on a holiday or a weekend; it must be said.
    work_on_closed_days: bool = False

    def plan(self) -> VisitPlan:
        return VisitPlan(
            visit_start=self.visit_start,
            visit_end=self.visit_end,
            location=self.location,
            officers=[
                {
                    "name": officer.name,
                    "employee_number": officer.employee_number,
                    "role": officer.role,
                }
                for officer in self.officers
            ],
            equipment=self.equipment,
        )


class SchedulingApplication(ServiceApplication):
    """Plans field visits of approved requests."""

    name = "scheduling"

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        assignment_format: LetterFormat | None = None,
        max_visit_days: int = 14,
        horizon_days: int = 365,
    ) -> None:
        super().__init__(env)
        # The time of the office's rules (no visit in the past); tests move it.
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.max_visit_days = max_visit_days
        self.horizon_days = horizon_days
        self.assignment_format = assignment_format or LetterFormat(
            kind="ST", classification="KP.440"
        )
        self.view = SchedulesView(self)

    def schedule(self, request_id: UUID) -> Schedule:
        """Raises ``ScheduleConflictError`` if the request is not approved (here)."""
        schedule = self.find(request_id, Schedule)
        if schedule is None:
            raise ScheduleConflictError(
                f"Request {request_id} is not approved, or its approval has not "
                "reached scheduling yet.",
                request_id=str(request_id),
                current_status="not_approved",
            )
        return schedule

    def issue_schedule(self, request_id: UUID, draft: ScheduleDraft) -> Schedule:
        """Books the officers and issues the numbered schedule, all or nothing.

        Raises ``InvalidScheduleError``, ``ScheduleConflictError`` (not approved
        or already scheduled) or ``OfficerBookedError``.
        """
        self._check(draft)

        def plan() -> list[Any]:
            schedule = self.schedule(request_id)
            rosters = [
                self._book(officer, schedule, draft.visit_start, draft.visit_end)
                for officer in draft.officers
            ]
            now = self.now()
            numbers = self.take_number(
                self.assignment_format.series(now), issued_for=str(request_id)
            )
            schedule.issue(
                assignment_number=self.assignment_format.format(
                    numbers.last_number, now
                ),
                plan=draft.plan(),
                scheduled_by=draft.scheduled_by,
            )
            return [schedule, numbers, *rosters]

        self.save_numbered(plan)
        logger.info("schedule issued", extra={"request_id": str(request_id)})
        return self.schedule(request_id)

    def revise_schedule(
        self, request_id: UUID, draft: ScheduleDraft, reason: str
    ) -> tuple[Schedule, bool]:
        """Moves the visit or changes its team, rebooking the officers; answers
        the schedule and whether it changed.

        The same plan again (a client retrying) changes nothing and tells the
        stakeholder nothing. A visit whose first day has come keeps that day as
        its start, so its team or last day can change while it is under way.
        ``draft.scheduled_by`` is who revised it. Raises
        ``InvalidScheduleError``, ``ScheduleConflictError`` (not scheduled, or
        the visit already reported) or ``OfficerBookedError``.
        """
        changed = False

        def change() -> list[Any]:
            nonlocal changed
            schedule = self.schedule(request_id)

            # A retry is answered before the rules, which the passing days may
            # have changed since the plan was accepted; then the state (409),
            # then the plan (422), against the schedule as it is now.
            changed = schedule.status != ScheduleStatus.SCHEDULED or (
                schedule.would_change(draft.plan())
            )
            if not changed:
                return []
            schedule.check_revisable()
            today = self._office_today()
            self._check(draft, under_way_since=schedule.started_on(today))

            booked_before = schedule.officer_keys()
            schedule.revise(
                plan=draft.plan(), revised_by=draft.scheduled_by, reason=reason
            )

            # Officers left off are free again; the others are booked anew.
            kept = set(schedule.officer_keys())
            released = []
            for key in booked_before:
                roster = self.find(OfficerRoster.create_id(key), OfficerRoster)
                if key not in kept and roster is not None:
                    roster.release(request_id=request_id)
                    released.append(roster)
            # Days already past are worked or not; booking them again could only
            # clash with what a newly added officer did on them.
            rosters = [
                self._book(
                    officer, schedule, max(draft.visit_start, today), draft.visit_end
                )
                for officer in draft.officers
            ]
            return [schedule, *released, *rosters]

        self.save_with_retry(change)
        if changed:
            logger.info("schedule revised", extra={"request_id": str(request_id)})
        return self.schedule(request_id), changed

    def apply_upstream_event(
        self, envelope: Envelope, processing_event: ProcessingEvent[UUID]
    ) -> None:
        """An approved request starts waiting for its schedule, once; a filed
        Berita Acara makes its schedule final; the calendar's changes say
        which days the office works."""
        if isinstance(envelope.data, OfficeCalendarEvent):
            self._note_office_days(envelope.data, processing_event)
            return
        if isinstance(envelope.data, BeritaAcaraFiled):
            self._close_schedule(envelope.data, processing_event)
            return
        approved = envelope.data
        if not isinstance(approved, RequestApproved):
            return
        if self.find(approved.request_id, Schedule) is not None:
            return
        schedule = Schedule(
            request_id=approved.request_id,
            reference=approved.reference,
            approved_at=approved.decided_at,
            disposition=approved.disposition,
            request=approved.request.model_dump(),
        )
        processing_event.collect_events(schedule)

    def office_days(self) -> OfficeDays | None:
        """The working days as the notifier's calendar said, once it has."""
        return self.find(OfficeDays.create_id(), OfficeDays)

    @staticmethod
    def closed_day_of(row: ScheduleRow, days: OfficeDays | None) -> str | None:
        """Why a scheduled visit's first or last day is now closed, if it is:
        a holiday entered after the visit was set, for the section head to
        revise."""
        if row.status != ScheduleStatus.SCHEDULED or row.visit_start is None:
            return None
        if days is None:
            return None
        for day in (row.visit_start, row.visit_end or row.visit_start):
            closed = days.why_closed(day)
            if closed is not None:
                return f"{day} is {closed}"
        return None

    def _note_office_days(
        self, change: OfficeCalendarEvent, processing_event: ProcessingEvent[UUID]
    ) -> None:
        # A day closed under visits already set is for the section head to see.
        if isinstance(change, OfficeDayClosed):
            for row in self.view.select(ScheduleStatus.SCHEDULED):
                if change.day in (row.visit_start, row.visit_end):
                    logger.warning(
                        "a scheduled visit falls on a day now closed",
                        extra={
                            "request_id": str(row.request_id),
                            "reference": row.reference,
                            "day": change.day.isoformat(),
                            "closed_because": change.name,
                        },
                    )
        days = self.find(OfficeDays.create_id(), OfficeDays) or OfficeDays()
        if isinstance(change, OfficeWeekChanged):
            days.change_week(working_weekdays=change.working_weekdays)
        elif isinstance(change, OfficeDayClosed):
            days.close_day(day=change.day, name=change.name)
        elif isinstance(change, OfficeDayOpened):
            days.open_day(day=change.day)
        elif isinstance(change, OfficeCalendarAnnounced):
            days.replace(
                working_weekdays=change.working_weekdays,
                closed_days=[
                    {"day": closed.day, "name": closed.name}
                    for closed in change.closed_days
                ],
            )
        processing_event.collect_events(days)

    def _close_schedule(
        self, filed: BeritaAcaraFiled, processing_event: ProcessingEvent[UUID]
    ) -> None:
        schedule = self.find(filed.request_id, Schedule)
        if schedule is None or schedule.status != ScheduleStatus.SCHEDULED:
            return
        schedule.report_visit(berita_acara_number=filed.berita_acara_number)

        # The visit is over: its officers are free, also on days a revision
        # that crossed the report had booked them for.
        rosters = []
        for key in schedule.officer_keys():
            roster = self.find(OfficerRoster.create_id(key), OfficerRoster)
            if roster is not None:
                roster.release(request_id=schedule.id)
                rosters.append(roster)
        processing_event.collect_events(schedule, *rosters)

    def _book(
        self,
        officer: OfficerAssignment,
        schedule: Schedule,
        first_day: date,
        last_day: date,
    ) -> OfficerRoster:
        key = officer_key(officer.employee_number)
        roster = self.find(OfficerRoster.create_id(key), OfficerRoster)
        if roster is None:
            roster = OfficerRoster(key=key, name=officer.name)
        roster.book(schedule.id, schedule.reference, first_day, last_day)
        return roster

    def _office_today(self) -> date:
        return self.now().astimezone(OFFICE_TIME_ZONE).date()

    def _check(self, draft: ScheduleDraft, under_way_since: date | None = None) -> None:
        """Raises ``InvalidScheduleError`` naming the field that breaks a rule.

        ``under_way_since`` is the start of the plan being revised: a start in
        the past is accepted only if it is that one, and then only the days
        still to come may change.
        """
        if draft.visit_end < draft.visit_start:
            raise InvalidScheduleError(
                "visit_end is before visit_start.", field="visit_end"
            )
        today = self._office_today()
        keeps_its_start = draft.visit_start == under_way_since
        if draft.visit_start < today and not keeps_its_start:
            kept = (
                f"; the visit began on {under_way_since}, keep that as its start"
                if under_way_since is not None and under_way_since < today
                else ""
            )
            raise InvalidScheduleError(
                f"visit_start {draft.visit_start} is in the past{kept}.",
                field="visit_start",
            )
        if draft.visit_end < today:
            raise InvalidScheduleError(
                f"visit_end {draft.visit_end} is in the past; a visit can only be "
                "changed for days still to come.",
                field="visit_end",
            )
        if draft.visit_start > today + timedelta(days=self.horizon_days):
            raise InvalidScheduleError(
                f"visit_start is more than {self.horizon_days} days ahead.",
                field="visit_start",
            )
        days = (draft.visit_end - draft.visit_start).days + 1
        if days > self.max_visit_days:
            raise InvalidScheduleError(
                f"The visit lasts {days} days; at most {self.max_visit_days} are "
                "allowed.",
                field="visit_end",
            )
        office_days = self.office_days()
        if office_days is not None and not draft.work_on_closed_days:
            for name, day in (
                ("visit_start", draft.visit_start),
                ("visit_end", draft.visit_end),
            ):
                if name == "visit_start" and keeps_its_start:
                    continue
                closed = office_days.why_closed(day)
                if closed is not None:
                    raise InvalidScheduleError(
                        f"{name} {day} is {closed}, a day the office is closed; "
                        "choose a working day, or set work_on_closed_days if the "
                        "officers will work it.",
                        field=name,
                        closed_because=closed,
                    )
        keys = [officer_key(officer.employee_number) for officer in draft.officers]
        for position, key in enumerate(keys):
            if key == OFFICER_KEY_PREFIX:
                raise InvalidScheduleError(
                    "An employee number needs letters or digits.",
                    field=f"officers.{position}.employee_number",
                )
            if key in keys[:position]:
                raise InvalidScheduleError(
                    "The same officer is named twice.", field=f"officers.{position}"
                )


@dataclass
class ScheduleRow:
    request_id: UUID
    reference: str
    status: ScheduleStatus
    approved_at: datetime
    institution: str
    services: list[str]
    visit_start: date | None = None
    visit_end: date | None = None


class SchedulesView(LogView):
    """Approved requests waiting for a schedule, and those scheduled."""

    def __init__(self, app: SchedulingApplication) -> None:
        super().__init__(app)
        self.rows: dict[UUID, ScheduleRow] = {}

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        if isinstance(domain_event, Schedule.AwaitingSchedule):
            self.rows[domain_event.originator_id] = ScheduleRow(
                request_id=domain_event.originator_id,
                reference=domain_event.reference,
                status=ScheduleStatus.AWAITING,
                approved_at=domain_event.approved_at,
                institution=domain_event.request["institution"],
                services=list(domain_event.request["services"]),
            )
        elif isinstance(domain_event, Schedule.Issued | Schedule.Revised):
            row = self.rows.get(domain_event.originator_id)
            if row is not None:
                row.status = ScheduleStatus.SCHEDULED
                row.visit_start = domain_event.visit_start
                row.visit_end = domain_event.visit_end
        elif isinstance(domain_event, Schedule.VisitReported):
            row = self.rows.get(domain_event.originator_id)
            if row is not None:
                row.status = ScheduleStatus.VISITED

    def select(self, status: ScheduleStatus | None) -> list[ScheduleRow]:
        self.catch_up()
        rows = [
            row for row in self.rows.values() if status is None or row.status == status
        ]
        return sorted(rows, key=lambda row: row.approved_at)
