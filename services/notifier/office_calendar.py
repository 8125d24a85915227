"""The center's office calendar, and arithmetic in working time.

Every time standard of the procedure counts office working time: minutes
between the morning start and the afternoon end, outside the lunch break, on
working days that are not holidays or collective leave (*cuti bersama*). A
period such as Ramadan has hours of its own. All of it is data: the calendar
aggregate records every change as an event, and ``WorkingTime`` answers the
questions from the calendar as it stands.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from purnajual.contracts import OFFICE_CALENDAR_ID, WEEKDAYS
from purnajual.errors import InvalidInputError
from services.notifier.domain import NotifierError

DEFAULT_CALENDAR_FILE = Path(__file__).with_name("calendar_default.json")
CALENDAR_ID = OFFICE_CALENDAR_ID
MAX_DAYS_SEARCHED = 800
MAX_YEARS_ASKED = 10
# Holidays are decreed a year at a time; a year within this reach of today
# without any entered is called out, so admins enter it before clocks reach it.
HOLIDAYS_NEEDED_AHEAD = timedelta(days=60)

# Hours of one weekday: a list of [from, until] times as "HH:MM".
DayHours = list[list[str]]
WeekHours = dict[str, DayHours]


def default_calendar() -> dict[str, Any]:
    """The calendar shipped with the notifier: 2026, from the official decrees."""
    loaded: dict[str, Any] = json.loads(DEFAULT_CALENDAR_FILE.read_text("utf-8"))
    return loaded


class CalendarError(NotifierError, InvalidInputError):
    """A calendar change or question that does not make sense."""


def parse_hours(hours: WeekHours) -> dict[int, list[tuple[time, time]]]:
    """Weekly hours by weekday number; raises ``CalendarError`` naming the day."""
    parsed: dict[int, list[tuple[time, time]]] = {}
    for number, name in enumerate(WEEKDAYS):
        intervals = []
        for opening, closing in hours.get(name, []):
            try:
                start = time.fromisoformat(opening)
                # "24:00" closes at midnight, for a day worked to its end.
                end = time.max if closing == "24:00" else time.fromisoformat(closing)
            except ValueError as error:
                raise CalendarError(
                    f"On {name}, {opening}-{closing} is not a time of day: {error}.",
                    field=name,
                ) from error
            if end <= start:
                raise CalendarError(
                    f"On {name}, {opening}-{closing} ends before it starts.", field=name
                )
            intervals.append((start, end))
        intervals.sort()
        for (_, previous_end), (next_start, _) in itertools.pairwise(intervals):
            if next_start < previous_end:
                raise CalendarError(f"On {name}, working hours overlap.", field=name)
        parsed[number] = intervals
    return parsed


@dataclass(frozen=True)
class WorkingTime:
    """Answers deadlines and working minutes on one version of the calendar."""

    zone: ZoneInfo
    usual: dict[int, list[tuple[time, time]]]
    periods: list[tuple[date, date, dict[int, list[tuple[time, time]]]]]
    closed: frozenset[date]

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of one day, as moments in the office's zone."""
        if day in self.closed:
            return []
        hours = self.usual
        for first, last, special in self.periods:
            if first <= day <= last:
                hours = special
        return [
            (
                datetime.combine(day, start, self.zone),
                datetime.combine(day, end, self.zone),
            )
            for start, end in hours.get(day.weekday(), [])
        ]

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date()
        for _ in range(MAX_DAYS_SEARCHED):
            for start, end in self.intervals_on(day):
                if end > moment:
                    yield max(start, moment), end
            day += timedelta(days=1)
        raise CalendarError(
            f"No working time in the {MAX_DAYS_SEARCHED} days after {moment}.",
            field="start",
        )

    def next_working_moment(self, moment: datetime) -> datetime:
        """When a clock started at ``moment`` starts counting."""
        start, _ = next(iter(self._intervals_from(moment)))
        return start.astimezone(self.zone)

    def deadline(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` of working time after ``start`` have passed."""
        remaining = timedelta(minutes=minutes)
        for opening, closing in self._intervals_from(start):
            if remaining <= closing - opening:
                return (opening + remaining).astimezone(self.zone)
            remaining -= closing - opening
        raise AssertionError("unreachable: the search raises when it runs out")

    def end_of_working_days(self, start: datetime, days: int) -> datetime:
        """The close of the ``days``-th working day counted from ``start``.

        The day of ``start`` counts as the first if it has working time left.
        """
        counted = 0
        for _, closing in self._intervals_from(start):
            day_ends = self.intervals_on(closing.astimezone(self.zone).date())[-1][1]
            if closing == day_ends:
                counted += 1
                if counted == days:
                    return closing.astimezone(self.zone)
        raise AssertionError("unreachable: the search raises when it runs out")

    def check_range(self, start: datetime, end: datetime | None = None) -> None:
        """Raises ``CalendarError`` for moments far outside any real question."""
        now = datetime.now(self.zone)
        for name, moment in (("start", start), ("end", end)):
            if moment is None:
                continue
            if (
                moment.replace(tzinfo=None) < datetime(1, 1, 3)
                or abs((moment - now).days) > MAX_YEARS_ASKED * 366
            ):
                raise CalendarError(
                    f"{name} must lie within {MAX_YEARS_ASKED} years of today.",
                    field=name,
                )

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Working time between two moments, in minutes (0 if ``end`` is first)."""
        total = timedelta()
        day = start.astimezone(self.zone).date()
        last_day = end.astimezone(self.zone).date()
        while day <= last_day:
            for opening, closing in self.intervals_on(day):
                overlap = min(closing, end) - max(opening, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds() / 60


class OfficeCalendar(Aggregate):
    """The calendar as data that admins change; each change is an event."""

    TOPIC = "notifier.OfficeCalendar"

    class Created(Aggregate.Created):
        TOPIC = "notifier.OfficeCalendar.Created"

    class Opened(Created):
        TOPIC = "notifier.OfficeCalendar.Opened"
        time_zone: str
        weekly_hours: WeekHours

    class WeeklyHoursChanged(Aggregate.Event):
        TOPIC = "notifier.OfficeCalendar.WeeklyHoursChanged"
        weekly_hours: WeekHours

    class ClosedDaySet(Aggregate.Event):
        TOPIC = "notifier.OfficeCalendar.ClosedDaySet"
        day: date
        name: str
        kind: str

    class ClosedDayRemoved(Aggregate.Event):
        TOPIC = "notifier.OfficeCalendar.ClosedDayRemoved"
        day: date

    class PeriodSet(Aggregate.Event):
        TOPIC = "notifier.OfficeCalendar.PeriodSet"
        name: str
        first_day: date
        last_day: date
        weekly_hours: WeekHours

    class PeriodRemoved(Aggregate.Event):
        TOPIC = "notifier.OfficeCalendar.PeriodRemoved"
        name: str

    class Announced(Aggregate.Event):
        """The working days as they stand, told to the other services."""

        TOPIC = "notifier.OfficeCalendar.Announced"
        working_weekdays: list[str]
        closed_days: list[dict[str, Any]]

    class YearConfirmed(Aggregate.Event):
        TOPIC = "notifier.OfficeCalendar.YearConfirmed"
        year: int
        decree: str

    class YearConfirmationWithdrawn(Aggregate.Event):
        TOPIC = "notifier.OfficeCalendar.YearConfirmationWithdrawn"
        year: int

    @staticmethod
    def create_id() -> UUID:
        return CALENDAR_ID

    @event(Opened)
    def __init__(self, time_zone: str, weekly_hours: WeekHours) -> None:
        self.time_zone = time_zone
        self.weekly_hours = weekly_hours
        self.closed_days: dict[date, dict[str, str]] = {}
        self.periods: dict[str, dict[str, Any]] = {}
        # Years whose holidays, cuti bersama and special hours an admin has
        # entered in full, each with the decree that set them.
        self.confirmed_years: dict[int, str] = {}
        self.announced = False

    def change_weekly_hours(self, weekly_hours: WeekHours) -> None:
        """Raises ``CalendarError`` naming the day whose hours make no sense, or
        when no day of the week has working time left."""
        if not any(parse_hours(weekly_hours).values()):
            raise CalendarError(
                "A week needs at least one working day.", field="monday"
            )
        self._change_weekly_hours(weekly_hours=weekly_hours)

    @event(WeeklyHoursChanged)
    def _change_weekly_hours(self, weekly_hours: WeekHours) -> None:
        self.weekly_hours = weekly_hours

    @event(ClosedDaySet)
    def set_closed_day(self, day: date, name: str, kind: str) -> None:
        """A national holiday or a day of collective leave: no working time."""
        self.closed_days[day] = {"name": name, "kind": kind}

    def remove_closed_day(self, day: date) -> None:
        """Raises ``CalendarError`` if the day is not closed."""
        if day not in self.closed_days:
            raise CalendarError(f"{day} is not a closed day.", field="day")
        self._remove_closed_day(day=day)

    @event(ClosedDayRemoved)
    def _remove_closed_day(self, day: date) -> None:
        del self.closed_days[day]

    def set_period(
        self, name: str, first_day: date, last_day: date, weekly_hours: WeekHours
    ) -> None:
        """Hours of their own for a period such as Ramadan.

        Raises ``CalendarError`` for a period that ends before it starts,
        overlaps another, or has hours that make no sense.
        """
        if last_day < first_day:
            raise CalendarError("last_day is before first_day.", field="last_day")
        for other, period in self.periods.items():
            if other != name and (
                period["first_day"] <= last_day and first_day <= period["last_day"]
            ):
                raise CalendarError(
                    f"Overlaps the period {other!r}.", field="first_day"
                )
        try:
            parse_hours(weekly_hours)
        except CalendarError as error:
            # The day's hours sit inside the period's weekly_hours.
            raise CalendarError(
                error.detail, field=f"weekly_hours.{error.data['field']}"
            ) from error
        self._set_period(
            name=name, first_day=first_day, last_day=last_day, weekly_hours=weekly_hours
        )

    @event(PeriodSet)
    def _set_period(
        self, name: str, first_day: date, last_day: date, weekly_hours: WeekHours
    ) -> None:
        self.periods[name] = {
            "first_day": first_day,
            "last_day": last_day,
            "weekly_hours": weekly_hours,
        }

    def remove_period(self, name: str) -> None:
        """Raises ``CalendarError`` if there is no such period."""
        if name not in self.periods:
            raise CalendarError(f"No period {name!r}.", field="name")
        self._remove_period(name=name)

    @event(PeriodRemoved)
    def _remove_period(self, name: str) -> None:
        del self.periods[name]

    def announce(self) -> None:
        """Tells the other services every working day at once (see
        ``OfficeCalendarAnnounced``); later changes follow one by one."""
        self._announce(
            working_weekdays=self.working_weekdays(self.weekly_hours),
            closed_days=[
                {"day": day, "name": details["name"], "kind": details["kind"]}
                for day, details in sorted(self.closed_days.items())
            ],
        )

    @event(Announced)
    def _announce(
        self, working_weekdays: list[str], closed_days: list[dict[str, Any]]
    ) -> None:
        self.announced = True

    @event(YearConfirmed)
    def confirm_year(self, year: int, decree: str) -> None:
        """An admin's word that the year's closed days and periods are all in."""
        self.confirmed_years[year] = decree

    def withdraw_year_confirmation(self, year: int) -> None:
        """Raises ``CalendarError`` if the year was not confirmed."""
        if year not in self.confirmed_years:
            raise CalendarError(f"{year} is not confirmed.", field="year")
        self._withdraw_year_confirmation(year=year)

    @event(YearConfirmationWithdrawn)
    def _withdraw_year_confirmation(self, year: int) -> None:
        del self.confirmed_years[year]

    def years_missing_holidays(self, today: date) -> list[int]:
        """Years from today's to the one 60 days ahead not confirmed as entered.

        Until a year's holidays and cuti bersama are entered, every weekday of
        it counts as working time, so clocks that reach into it end too early.
        A single day entered says little (the decree lists some twenty), so a
        year counts only once an admin confirms it.
        """
        horizon = (today + HOLIDAYS_NEEDED_AHEAD).year
        return [
            year
            for year in range(today.year, horizon + 1)
            if year not in self.confirmed_years
        ]

    @staticmethod
    def working_weekdays(weekly_hours: WeekHours) -> list[str]:
        """The names of the weekdays that have working hours."""
        return [day for day in WEEKDAYS if weekly_hours.get(day)]

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.time_zone)).date()

    def working_time(self) -> WorkingTime:
        return WorkingTime(
            zone=ZoneInfo(self.time_zone),
            usual=parse_hours(self.weekly_hours),
            periods=[
                (p["first_day"], p["last_day"], parse_hours(p["weekly_hours"]))
                for p in self.periods.values()
            ],
            closed=frozenset(self.closed_days),
        )
