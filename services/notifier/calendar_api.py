"""The office calendar over HTTP: read it, ask it, and let admins change it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from purnajual.contracts import WEEKDAYS
from purnajual.inputs import IsoDate, IsoDateTime, Text
from services.notifier.api import App
from services.notifier.office_calendar import OfficeCalendar, WeekHours

HOURS_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
Clock = Annotated[str, Field(pattern=HOURS_PATTERN)]
Interval = Annotated[list[Clock], Field(min_length=2, max_length=2)]
HoursOfDay = list[Interval]


class WeeklyHoursIn(BaseModel):
    """Working hours per weekday, each a list of ["HH:MM", "HH:MM"] intervals."""

    model_config = ConfigDict(extra="forbid")

    monday: HoursOfDay = Field(examples=[[["07:30", "12:00"], ["13:00", "16:00"]]])
    tuesday: HoursOfDay
    wednesday: HoursOfDay
    thursday: HoursOfDay
    friday: HoursOfDay = Field(examples=[[["07:30", "11:30"], ["13:00", "16:30"]]])
    saturday: HoursOfDay = Field(default_factory=list)
    sunday: HoursOfDay = Field(default_factory=list)

    def as_week(self) -> WeekHours:
        return {day: getattr(self, day) for day in WEEKDAYS}


class ClosedDayKind(StrEnum):
    HOLIDAY = "holiday"
    CUTI_BERSAMA = "cuti_bersama"


class ClosedDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=120, examples=["Hari Raya Natal"])]
    kind: ClosedDayKind


class YearConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decree: Annotated[
        Text,
        Field(
            max_length=300,
            description="The decree that set the year's holidays and cuti bersama",
            examples=["SKB 3 Menteri tentang hari libur nasional dan cuti bersama"],
        ),
    ]


Year = Annotated[int, Path(ge=2000, le=2100, examples=[2027])]
PeriodName = Annotated[
    Text,
    Path(
        max_length=120,
        description="The period's name as staff call it",
        examples=["Ramadan 1448"],
    ),
]


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_day: IsoDate
    last_day: IsoDate
    weekly_hours: WeeklyHoursIn


class CalendarOut(BaseModel):
    time_zone: str
    weekly_hours: dict[str, Any]
    periods: dict[str, dict[str, Any]]
    closed_days: list[dict[str, Any]]
    confirmed_years: dict[str, str] = Field(
        description="Years whose holidays, cuti bersama and special hours are "
        "entered in full, each with its decree"
    )
    years_missing_holidays: list[int] = Field(
        description="This year, and the next when it starts within 60 days, if "
        "not confirmed: until it is entered and confirmed, every weekday of that "
        "year may count as working time."
    )


class DeadlineOut(BaseModel):
    start: datetime
    minutes: float
    counting_starts: datetime = Field(
        description="The first working moment at or after start"
    )
    deadline: datetime


class WorkingMinutesOut(BaseModel):
    start: datetime
    end: datetime
    working_minutes: float


router = APIRouter(prefix="/calendar", tags=["office calendar"])


@router.get("", response_model=CalendarOut, summary="The office calendar")
def read_calendar(app: App) -> CalendarOut:
    """Weekly hours, periods with hours of their own, holidays and cuti bersama."""
    return _calendar_out(app.calendar())


@router.get(
    "/deadline", response_model=DeadlineOut, summary="When a working-time clock ends"
)
def deadline(
    app: App,
    start: Annotated[IsoDateTime, Query(description="ISO time with its offset")],
    minutes: Annotated[float, Query(gt=0, le=60 * 24 * 60)],
) -> DeadlineOut:
    """The moment ``minutes`` of office working time after ``start`` have passed."""
    working_time = app.calendar().working_time()
    working_time.check_range(start)
    return DeadlineOut(
        start=start.astimezone(working_time.zone),
        minutes=minutes,
        counting_starts=working_time.next_working_moment(start),
        deadline=working_time.deadline(start, minutes),
    )


@router.get(
    "/working-minutes",
    response_model=WorkingMinutesOut,
    summary="Working time between two moments",
)
def working_minutes(
    app: App,
    start: Annotated[IsoDateTime, Query(description="ISO time with its offset")],
    end: Annotated[IsoDateTime, Query(description="ISO time with its offset")],
) -> WorkingMinutesOut:
    """Office working minutes between ``start`` and ``end`` (0 if end is first)."""
    working_time = app.calendar().working_time()
    working_time.check_range(start, end)
    return WorkingMinutesOut(
        start=start.astimezone(working_time.zone),
        end=end.astimezone(working_time.zone),
        working_minutes=round(working_time.working_minutes(start, end), 3),
    )


@router.put(
    "/weekly-hours",
    response_model=CalendarOut,
    summary="Change the usual weekly hours",
)
def change_weekly_hours(body: WeeklyHoursIn, app: App) -> CalendarOut:
    """Replaces the usual working hours of every weekday."""
    week = body.as_week()
    return _calendar_out(app.change_calendar(lambda c: c.change_weekly_hours(week)))


@router.put(
    "/closed-days/{day}",
    response_model=CalendarOut,
    summary="Add or rename a holiday or day of cuti bersama",
)
def set_closed_day(day: IsoDate, body: ClosedDayIn, app: App) -> CalendarOut:
    """The day has no working time."""
    return _calendar_out(
        app.change_calendar(
            lambda c: c.set_closed_day(day=day, name=body.name, kind=body.kind.value)
        )
    )


@router.delete(
    "/closed-days/{day}",
    response_model=CalendarOut,
    summary="Open a day that was closed",
)
def remove_closed_day(day: IsoDate, app: App) -> CalendarOut:
    """For a holiday moved by decree: remove it here, add its new date."""
    return _calendar_out(app.change_calendar(lambda c: c.remove_closed_day(day)))


@router.put(
    "/periods/{name}",
    response_model=CalendarOut,
    summary="Set a period with hours of its own, such as Ramadan",
)
def set_period(name: PeriodName, body: PeriodIn, app: App) -> CalendarOut:
    """Creates or moves the period (dates of Ramadan are announced late)."""
    week = body.weekly_hours.as_week()
    return _calendar_out(
        app.change_calendar(
            lambda c: c.set_period(name, body.first_day, body.last_day, week)
        )
    )


@router.delete(
    "/periods/{name}",
    response_model=CalendarOut,
    summary="Remove a period",
)
def remove_period(name: PeriodName, app: App) -> CalendarOut:
    """The usual hours apply again on its days."""
    return _calendar_out(app.change_calendar(lambda c: c.remove_period(name)))


@router.put(
    "/years/{year}",
    response_model=CalendarOut,
    summary="Confirm that a year's holidays are all entered",
)
def confirm_year(year: Year, body: YearConfirmationIn, app: App) -> CalendarOut:
    """Said once the decree's holidays, cuti bersama and the year's Ramadan hours
    are in; the year then no longer shows in ``years_missing_holidays``.
    Days can still be changed afterwards, as decrees move them."""
    return _calendar_out(
        app.change_calendar(lambda c: c.confirm_year(year=year, decree=body.decree))
    )


@router.delete(
    "/years/{year}",
    response_model=CalendarOut,
    summary="Withdraw a year's confirmation",
)
def withdraw_year_confirmation(year: Year, app: App) -> CalendarOut:
    """The year shows as missing holidays again, when near at hand."""
    return _calendar_out(
        app.change_calendar(lambda c: c.withdraw_year_confirmation(year))
    )


def _calendar_out(calendar: OfficeCalendar) -> CalendarOut:
    return CalendarOut(
        time_zone=calendar.time_zone,
        weekly_hours=calendar.weekly_hours,
        periods={
            name: {
                "first_day": period["first_day"].isoformat(),
                "last_day": period["last_day"].isoformat(),
                "weekly_hours": period["weekly_hours"],
            }
            for name, period in sorted(calendar.periods.items())
        },
        closed_days=[
            {"day": day.isoformat(), **details}
            for day, details in sorted(calendar.closed_days.items())
        ],
        confirmed_years={
            str(year): decree
            for year, decree in sorted(calendar.confirmed_years.items())
        },
        years_missing_holidays=calendar.years_missing_holidays(calendar.today()),
    )
