"""Working-time arithmetic on the office calendar, against hand-computed cases.

December 2026: Monday the 7th, Friday the 4th and 11th; the 24th (cuti
bersama) and the 25th (Christmas) are closed. Ramadan 2026 is set from 19
February to 20 March, with its own hours.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.notifier.office_calendar import CalendarError, OfficeCalendar, WorkingTime

WIB = timezone(timedelta(hours=7))
DEFAULT = (
    Path(__file__).resolve().parents[2] / "services/notifier/calendar_default.json"
)


def office_calendar() -> OfficeCalendar:
    initial = json.loads(DEFAULT.read_text(encoding="utf-8"))
    calendar = OfficeCalendar(
        time_zone=initial["time_zone"], weekly_hours=initial["weekly_hours"]
    )
    for day, name, kind in initial["closed_days"]:
        calendar.set_closed_day(day=date.fromisoformat(day), name=name, kind=kind)
    for name, period in initial["periods"].items():
        calendar.set_period(
            name,
            date.fromisoformat(period["first_day"]),
            date.fromisoformat(period["last_day"]),
            period["weekly_hours"],
        )
    for year, decree in initial["confirmed_years"].items():
        calendar.confirm_year(int(year), decree)
    return calendar


def working_time() -> WorkingTime:
    return office_calendar().working_time()


def wib(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


@pytest.mark.parametrize(
    ("start", "minutes", "deadline"),
    [
        # Four working hours from Monday 15:00: one today, three from 07:30.
        (wib(7, 15), 240, wib(8, 10, 30)),
        # The warning one hour before: never overnight.
        (wib(7, 15), 180, wib(8, 9, 30)),
        # Across the lunch break, Monday to Thursday (12:00-13:00).
        (wib(7, 11, 50), 20, wib(7, 13, 10)),
        # Friday's longer break (11:30-13:00).
        (wib(11, 11, 20), 20, wib(11, 13, 10)),
        # Friday closes at 16:30, then the weekend.
        (wib(4, 16, 20), 20, wib(7, 7, 40)),
        # Ending exactly at the close of a morning.
        (wib(7, 11, 40), 20, wib(7, 12)),
        # Before the holidays: the 24th and 25th are closed, then the weekend.
        (wib(23, 15, 50), 20, wib(28, 7, 40)),
        # Ramadan hours: Monday until 15:00, Tuesday from 08:00.
        (wib(23, 14, 50, month=2), 20, wib(24, 8, 10, month=2)),
    ],
)
def test_deadlines_match_hand_computed_ones(
    start: datetime, minutes: float, deadline: datetime
) -> None:
    assert working_time().deadline(start, minutes) == deadline


@pytest.mark.parametrize(
    ("start", "counting_starts"),
    [
        (wib(7, 16), wib(8, 7, 30)),
        (wib(7, 12), wib(7, 13)),
        (wib(7, 7, 30), wib(7, 7, 30)),
        (wib(7, 6, 0), wib(7, 7, 30)),
        (wib(5, 10), wib(7, 7, 30)),
        (wib(23, 17), wib(28, 7, 30)),
    ],
)
def test_a_clock_started_outside_working_hours_counts_from_the_next_working_moment(
    start: datetime, counting_starts: datetime
) -> None:
    assert working_time().next_working_moment(start) == counting_starts


def test_a_start_given_in_utc_gives_the_same_answer() -> None:
    monday_three_pm_wib = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    deadline = working_time().deadline(monday_three_pm_wib, 240)

    assert deadline == wib(8, 10, 30)
    assert deadline.utcoffset() == timedelta(hours=7)


def test_working_minutes_between_two_moments() -> None:
    calendar = working_time()

    assert calendar.working_minutes(wib(7, 11), wib(8, 8, 30)) == 60 + 180 + 60
    assert calendar.working_minutes(wib(4, 16), wib(7, 8)) == 30 + 30
    assert calendar.working_minutes(wib(8, 9), wib(7, 9)) == 0


def test_a_closed_day_added_moves_deadlines() -> None:
    calendar = office_calendar()

    calendar.set_closed_day(
        day=date(2026, 12, 8), name="Cuti bersama", kind="cuti_bersama"
    )

    assert calendar.working_time().deadline(wib(7, 15), 240) == wib(9, 10, 30)


def test_overlapping_hours_are_refused_naming_the_day() -> None:
    calendar = office_calendar()
    hours = {"monday": [["07:30", "12:00"], ["11:00", "16:00"]]}

    with pytest.raises(CalendarError) as refused:
        calendar.change_weekly_hours(hours)

    assert refused.value.data["field"] == "monday"


def test_a_period_overlapping_another_is_refused() -> None:
    calendar = office_calendar()

    with pytest.raises(CalendarError, match="Ramadan"):
        calendar.set_period("Kerja bakti", date(2026, 3, 1), date(2026, 3, 5), {})


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        # From a Monday morning, the third working day closes on Wednesday.
        (wib(7, 7, 30), 3, wib(9, 16)),
        # Friday counts, then Monday and Tuesday.
        (wib(4, 9), 3, wib(8, 16)),
        # After Friday's close, Friday no longer counts.
        (wib(4, 17), 1, wib(7, 16)),
        # Five working days across Christmas: 23, 28, 29, 30, 31 December.
        (wib(23, 8), 5, wib(31, 16)),
    ],
)
def test_working_days_end_at_the_close_of_the_last_one(
    start: datetime, days: int, end: datetime
) -> None:
    assert working_time().end_of_working_days(start, days) == end


def test_a_day_worked_to_midnight_runs_into_the_next() -> None:
    calendar = office_calendar()
    calendar.change_weekly_hours(
        {"monday": [["00:00", "24:00"]], "tuesday": [["00:00", "24:00"]]}
    )

    deadline = calendar.working_time().deadline(wib(7, 23, 58), 5)

    assert deadline.replace(microsecond=0) == wib(8, 0, 3)


def test_a_time_that_is_not_a_time_of_day_is_refused_naming_the_day() -> None:
    calendar = office_calendar()

    with pytest.raises(CalendarError) as refused:
        calendar.change_weekly_hours({"friday": [["24:00", "24:00"]]})

    assert refused.value.data["field"] == "friday"


def test_a_week_without_any_working_day_is_refused() -> None:
    calendar = office_calendar()

    with pytest.raises(CalendarError, match="at least one working day"):
        calendar.change_weekly_hours({})


def test_a_year_near_at_hand_without_holidays_is_called_out() -> None:
    calendar = office_calendar()

    in_july = calendar.years_missing_holidays(date(2026, 7, 1))
    sixty_days_before_the_new_year = calendar.years_missing_holidays(date(2026, 11, 2))
    in_december = calendar.years_missing_holidays(date(2026, 12, 4))
    calendar.set_closed_day(date(2027, 1, 1), "Tahun Baru Masehi", "holiday")
    with_one_day_entered = calendar.years_missing_holidays(date(2026, 12, 4))
    calendar.confirm_year(2027, "SKB 3 Menteri 2027")

    assert in_july == []
    assert sixty_days_before_the_new_year == [2027]
    assert in_december == [2027]
    assert with_one_day_entered == [2027]
    assert calendar.years_missing_holidays(date(2026, 12, 4)) == []
    assert calendar.years_missing_holidays(date(2028, 11, 30)) == [2028, 2029]
