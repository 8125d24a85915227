"""Scheduling's domain: a visit schedule per request and each officer's roster."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from purnajual.contracts import WEEKDAYS
from purnajual.errors import ConflictError, ServiceError

SCHEDULING_NAMESPACE = uuid5(
    NAMESPACE_URL, "https://purnajual.biblembang.id/scheduling"
)


class ScheduleStatus(StrEnum):
    AWAITING = "awaiting"
    SCHEDULED = "scheduled"
    # The Berita Acara is filed: the visit took place and its schedule is final.
    VISITED = "visited"


class SchedulingError(ServiceError):
    """Root of scheduling's errors."""


class ScheduleConflictError(SchedulingError, ConflictError):
    """The request is not in a state that allows this command."""


class OfficerBookedError(SchedulingError, ConflictError):
    """An officer is already booked for days that overlap the visit."""


OFFICER_KEY_PREFIX = "nip:"


def officer_key(employee_number: str) -> str:
    """One officer, however the number is typed: "1982 0311" is "19820311",
    and digits of any script read as 0-9."""
    kept = [
        str(unicodedata.decimal(c)) if c.isdecimal() else c.upper()
        for c in employee_number
        if c.isalnum()
    ]
    return OFFICER_KEY_PREFIX + "".join(kept)


@dataclass(frozen=True)
class VisitPlan:
    """Where, when and by whom a visit is to be made: what a revision changes."""

    visit_start: date
    visit_end: date
    location: str
    officers: list[dict[str, Any]]
    equipment: list[str]

    def as_fields(self) -> dict[str, Any]:
        return {
            "visit_start": self.visit_start,
            "visit_end": self.visit_end,
            "location": self.location,
            "officers": self.officers,
            "equipment": self.equipment,
        }


class Schedule(Aggregate):
    """The visit schedule of one approved request; its id is the request's id."""

    TOPIC = "scheduling.Schedule"

    class Created(Aggregate.Created):
        TOPIC = "scheduling.Schedule.Created"

    class AwaitingSchedule(Created):
        TOPIC = "scheduling.Schedule.AwaitingSchedule"
        request_id: UUID
        reference: str
        approved_at: datetime
        disposition: str
        request: dict[str, Any]

    class Issued(Aggregate.Event):
        TOPIC = "scheduling.Schedule.Issued"
        assignment_number: str
        visit_start: date
        visit_end: date
        location: str
        officers: list[dict[str, Any]]
        equipment: list[str]
        scheduled_by: str
        reference: str
        request: dict[str, Any]

        def apply(self, aggregate: Schedule) -> None:
            aggregate.status = ScheduleStatus.SCHEDULED
            aggregate.plan = {
                "assignment_number": self.assignment_number,
                "visit_start": self.visit_start,
                "visit_end": self.visit_end,
                "location": self.location,
                "officers": self.officers,
                "equipment": self.equipment,
                "scheduled_by": self.scheduled_by,
                "issued_at": self.timestamp,
            }

    class Revised(Aggregate.Event):
        TOPIC = "scheduling.Schedule.Revised"
        revision: int
        visit_start: date
        visit_end: date
        location: str
        officers: list[dict[str, Any]]
        equipment: list[str]
        revised_by: str
        reason: str
        assignment_number: str
        reference: str
        request: dict[str, Any]

        def apply(self, aggregate: Schedule) -> None:
            assert aggregate.plan is not None
            change = VisitPlan(
                visit_start=self.visit_start,
                visit_end=self.visit_end,
                location=self.location,
                officers=self.officers,
                equipment=self.equipment,
            ).as_fields()
            aggregate.plan = {**aggregate.plan, **change, "revision": self.revision}
            aggregate.revisions.append(
                {
                    "revision": self.revision,
                    **change,
                    "revised_by": self.revised_by,
                    "reason": self.reason,
                    "revised_at": self.timestamp,
                }
            )

    class VisitReported(Aggregate.Event):
        TOPIC = "scheduling.Schedule.VisitReported"
        berita_acara_number: str

    @staticmethod
    def create_id(request_id: UUID) -> UUID:
        return request_id

    @event(AwaitingSchedule)
    def __init__(
        self,
        request_id: UUID,
        reference: str,
        approved_at: datetime,
        disposition: str,
        request: dict[str, Any],
    ) -> None:
        self.request_id = request_id
        self.reference = reference
        self.approved_at = approved_at
        self.disposition = disposition
        self.request = request
        self.status = ScheduleStatus.AWAITING
        self.plan: dict[str, Any] | None = None
        self.revisions: list[dict[str, Any]] = []

    def issue(
        self, *, assignment_number: str, plan: VisitPlan, scheduled_by: str
    ) -> None:
        """Fixes the visit. Raises ``ScheduleConflictError`` if already scheduled."""
        if self.status != ScheduleStatus.AWAITING:
            raise ScheduleConflictError(
                f"Request {self.reference} is already scheduled.",
                request_id=str(self.id),
                current_status=self.status.value,
            )
        self.trigger_event(
            self.Issued,
            assignment_number=assignment_number,
            **plan.as_fields(),
            scheduled_by=scheduled_by,
            reference=self.reference,
            request=self.request,
        )

    def revise(self, *, plan: VisitPlan, revised_by: str, reason: str) -> None:
        """Changes the scheduled visit; the assignment keeps its number.

        Raises ``ScheduleConflictError`` unless the visit is scheduled and not
        yet reported in a Berita Acara.
        """
        self.check_revisable()
        assert self.plan is not None
        self.trigger_event(
            self.Revised,
            revision=len(self.revisions) + 1,
            **plan.as_fields(),
            revised_by=revised_by,
            reason=reason,
            assignment_number=self.plan["assignment_number"],
            reference=self.reference,
            request=self.request,
        )

    def check_revisable(self) -> None:
        """Raises ``ScheduleConflictError`` unless the visit is scheduled and not
        yet reported in a Berita Acara."""
        if self.status != ScheduleStatus.SCHEDULED or self.plan is None:
            raise ScheduleConflictError(
                f"Request {self.reference} has no schedule that can still change.",
                request_id=str(self.id),
                current_status=self.status.value,
            )

    def started_on(self, today: date) -> date | None:
        """The planned first day, once it has come: the visit is under way."""
        if self.plan is None or self.plan["visit_start"] > today:
            return None
        started: date = self.plan["visit_start"]
        return started

    def would_change(self, plan: VisitPlan) -> bool:
        """Whether a revision to ``plan`` changes anything the visit depends on."""
        if self.plan is None:
            return True
        return any(self.plan[name] != value for name, value in plan.as_fields().items())

    def officer_keys(self) -> list[str]:
        """The officers the current plan books."""
        officers = self.plan["officers"] if self.plan else []
        return [officer_key(officer["employee_number"]) for officer in officers]

    @event(VisitReported)
    def report_visit(self, berita_acara_number: str) -> None:
        """The Berita Acara is filed; the schedule can no longer change."""
        self.status = ScheduleStatus.VISITED


class OfficerRoster(Aggregate):
    """The visits one officer is booked on; no two may share a day."""

    TOPIC = "scheduling.OfficerRoster"

    class Created(Aggregate.Created):
        TOPIC = "scheduling.OfficerRoster.Created"

    class Opened(Created):
        TOPIC = "scheduling.OfficerRoster.Opened"
        key: str
        name: str

    class Booked(Aggregate.Event):
        TOPIC = "scheduling.OfficerRoster.Booked"
        request_id: UUID
        reference: str
        first_day: date
        last_day: date

    class Released(Aggregate.Event):
        TOPIC = "scheduling.OfficerRoster.Released"
        request_id: UUID

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(SCHEDULING_NAMESPACE, f"officer\x1f{key}")

    @event(Opened)
    def __init__(self, key: str, name: str) -> None:
        self.key = key
        self.name = name
        self.bookings: list[dict[str, Any]] = []

    def book(
        self, request_id: UUID, reference: str, first_day: date, last_day: date
    ) -> None:
        """Books the officer. Raises ``OfficerBookedError`` on overlapping days."""
        for booking in self.bookings:
            if booking["request_id"] == request_id:
                continue
            if booking["first_day"] <= last_day and first_day <= booking["last_day"]:
                raise OfficerBookedError(
                    f"Officer {self.name} is already booked from "
                    f"{booking['first_day']} to {booking['last_day']} for request "
                    f"{booking['reference']}.",
                    field="officers",
                    officer=self.name,
                    booked_for=booking["reference"],
                    booked_from=booking["first_day"].isoformat(),
                    booked_until=booking["last_day"].isoformat(),
                )
        self._book(
            request_id=request_id,
            reference=reference,
            first_day=first_day,
            last_day=last_day,
        )

    @event(Booked)
    def _book(
        self, request_id: UUID, reference: str, first_day: date, last_day: date
    ) -> None:
        # Booking a request again (a revised schedule) replaces its days.
        self.bookings = [b for b in self.bookings if b["request_id"] != request_id]
        self.bookings.append(
            {
                "request_id": request_id,
                "reference": reference,
                "first_day": first_day,
                "last_day": last_day,
            }
        )

    @event(Released)
    def release(self, request_id: UUID) -> None:
        """The officer is no longer on this request's visit."""
        self.bookings = [b for b in self.bookings if b["request_id"] != request_id]


class OfficeDays(Aggregate):
    """The days the office works, as the notifier's office calendar says.

    Until the calendar's first events arrive every day counts as worked, so a
    scheduling service started alone refuses nothing. Periods with hours of
    their own (Ramadan) are not told: one that leaves a weekday without hours
    closes that day for the clocks, not here.
    """

    TOPIC = "scheduling.OfficeDays"

    class Created(Aggregate.Created):
        TOPIC = "scheduling.OfficeDays.Created"

    class Opened(Created):
        TOPIC = "scheduling.OfficeDays.Opened"

    class WeekChanged(Aggregate.Event):
        TOPIC = "scheduling.OfficeDays.WeekChanged"
        working_weekdays: list[str]

    class DayClosed(Aggregate.Event):
        TOPIC = "scheduling.OfficeDays.DayClosed"
        day: date
        name: str

    class DayOpened(Aggregate.Event):
        TOPIC = "scheduling.OfficeDays.DayOpened"
        day: date

    class Replaced(Aggregate.Event):
        TOPIC = "scheduling.OfficeDays.Replaced"
        working_weekdays: list[str]
        closed_days: list[dict[str, Any]]

    @staticmethod
    def create_id() -> UUID:
        return uuid5(SCHEDULING_NAMESPACE, "office-days")

    @event(Opened)
    def __init__(self) -> None:
        self.working_weekdays: list[str] | None = None
        self.closed_days: dict[date, str] = {}

    @event(WeekChanged)
    def change_week(self, working_weekdays: list[str]) -> None:
        self.working_weekdays = working_weekdays

    @event(DayClosed)
    def close_day(self, day: date, name: str) -> None:
        self.closed_days[day] = name

    @event(DayOpened)
    def open_day(self, day: date) -> None:
        self.closed_days.pop(day, None)

    @event(Replaced)
    def replace(
        self, working_weekdays: list[str], closed_days: list[dict[str, Any]]
    ) -> None:
        """The whole calendar, announced: what was known before is dropped."""
        self.working_weekdays = working_weekdays
        self.closed_days = {entry["day"]: entry["name"] for entry in closed_days}

    def why_closed(self, day: date) -> str | None:
        """The holiday's name or the weekday the office does not work, if any."""
        if day in self.closed_days:
            return self.closed_days[day]
        weekday = WEEKDAYS[day.weekday()]
        if self.working_weekdays is not None and weekday not in self.working_weekdays:
            return weekday.capitalize()
        return None
