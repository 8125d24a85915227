"""Scheduling on the in-memory store: schedules and officers' rosters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from purnajual.contracts import (
    OFFICE_CALENDAR_ID,
    WEEKDAYS,
    OfficeCalendarEvent,
    OfficeDayClosed,
    OfficeDayOpened,
    OfficeWeekChanged,
)
from purnajual.numbering import OFFICE_TIME_ZONE
from services.scheduling.application import (
    InvalidScheduleError,
    OfficerAssignment,
    ScheduleDraft,
    SchedulingApplication,
)
from services.scheduling.domain import (
    OfficerBookedError,
    ScheduleConflictError,
    ScheduleStatus,
)
from tests.builders import POPO, berita_acara_filed, deliver, request_approved
from tests.support import today_in_jakarta

ASEP = OfficerAssignment(
    name="Asep Suryana", employee_number="198203112006041001", role=None
)
DEWI = OfficerAssignment(
    name="Dewi Lestari", employee_number="199001052014022002", role=None
)


def draft(
    first_day: date, last_day: date, *officers: OfficerAssignment
) -> ScheduleDraft:
    return ScheduleDraft(
        visit_start=first_day,
        visit_end=last_day,
        location="Depo Garut",
        officers=list(officers) or [ASEP],
        equipment=["mikroskop"],
        scheduled_by="Kasi Jasa Produksi",
    )


def approved(app: SchedulingApplication, position: int) -> UUID:
    request_id = uuid4()
    deliver(app, "approval", position, request_approved(request_id))
    return request_id


def test_an_approved_request_waits_for_its_schedule() -> None:
    app = SchedulingApplication(env=POPO)

    request_id = approved(app, 1)

    assert [row.request_id for row in app.view.select(ScheduleStatus.AWAITING)] == [
        request_id
    ]


def test_issues_a_numbered_schedule() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    request_id = approved(app, 1)

    schedule = app.issue_schedule(request_id, draft(today, today + timedelta(days=1)))

    assert schedule.status == ScheduleStatus.SCHEDULED
    assert schedule.plan is not None
    assert schedule.plan["assignment_number"].startswith("ST-1/KP.440/F2.J/")
    assert app.view.select(ScheduleStatus.AWAITING) == []


def test_refuses_an_officer_already_booked_for_overlapping_days() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    first, second = approved(app, 1), approved(app, 2)
    app.issue_schedule(first, draft(today, today + timedelta(days=2)))
    same_officer_other_spelling = OfficerAssignment(
        name="Asep", employee_number="1982 0311 2006 04 1 001", role=None
    )

    with pytest.raises(OfficerBookedError) as refused:
        app.issue_schedule(
            second,
            draft(
                today + timedelta(days=2),
                today + timedelta(days=3),
                same_officer_other_spelling,
            ),
        )

    assert refused.value.data["officer"] == "Asep Suryana"
    assert app.schedule(second).status == ScheduleStatus.AWAITING


def test_books_an_officer_again_on_days_that_do_not_overlap() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    first, second = approved(app, 1), approved(app, 2)
    app.issue_schedule(first, draft(today, today))

    schedule = app.issue_schedule(
        second, draft(today + timedelta(days=1), today + timedelta(days=1))
    )

    assert schedule.status == ScheduleStatus.SCHEDULED


def test_a_refused_schedule_books_nobody() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    first, second, third = approved(app, 1), approved(app, 2), approved(app, 3)
    app.issue_schedule(first, draft(today, today, ASEP))

    with pytest.raises(OfficerBookedError):
        app.issue_schedule(second, draft(today, today, DEWI, ASEP))

    assert (
        app.issue_schedule(third, draft(today, today, DEWI)).status
        == ScheduleStatus.SCHEDULED
    )


def test_refuses_a_schedule_for_a_request_not_approved() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)

    with pytest.raises(ScheduleConflictError) as refused:
        app.issue_schedule(uuid4(), draft(today, today))

    assert refused.value.data["current_status"] == "not_approved"


def test_refuses_a_second_schedule() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    request_id = approved(app, 1)
    app.issue_schedule(request_id, draft(today, today))

    with pytest.raises(ScheduleConflictError):
        app.issue_schedule(
            request_id, draft(today + timedelta(days=5), today + timedelta(days=5))
        )


def test_refuses_a_visit_that_ends_before_it_starts() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    request_id = approved(app, 1)

    with pytest.raises(InvalidScheduleError) as refused:
        app.issue_schedule(request_id, draft(today + timedelta(days=2), today))

    assert refused.value.data["field"] == "visit_end"


def test_a_schedule_is_dated_when_issued_not_when_approved() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    request_id = approved(app, 1)
    approved_at = app.schedule(request_id).modified_on

    schedule = app.issue_schedule(request_id, draft(today, today))

    assert schedule.plan is not None
    assert schedule.plan["issued_at"] == schedule.modified_on > approved_at


def test_refuses_a_visit_longer_than_allowed_or_too_far_ahead() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO, max_visit_days=3, horizon_days=30)
    request_id = approved(app, 1)

    with pytest.raises(InvalidScheduleError) as too_long:
        app.issue_schedule(request_id, draft(today, today + timedelta(days=3)))
    with pytest.raises(InvalidScheduleError) as too_far:
        far = today + timedelta(days=31)
        app.issue_schedule(request_id, draft(far, far))

    assert too_long.value.data["field"] == "visit_end"
    assert too_far.value.data["field"] == "visit_start"


def test_a_revised_schedule_moves_the_visit_and_rebooks_the_officers() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    moved, other = approved(app, 1), approved(app, 2)
    app.issue_schedule(moved, draft(today, today, ASEP))

    next_week = draft(today + timedelta(days=7), today + timedelta(days=7), DEWI)
    revised, changed = app.revise_schedule(moved, next_week, "Hujan")
    _, changed_again = app.revise_schedule(moved, next_week, "Hujan (dikirim ulang)")
    # Asep is free again on the old day; Dewi is now taken on the new one.
    app.issue_schedule(other, draft(today, today, ASEP))
    with pytest.raises(OfficerBookedError):
        app.revise_schedule(
            other,
            draft(today + timedelta(days=7), today + timedelta(days=7), DEWI),
            "x",
        )

    assert (changed, changed_again) == (True, False)
    assert revised.plan is not None
    assert revised.plan["visit_start"] == today + timedelta(days=7)
    assert revised.plan["officers"][0]["name"] == DEWI.name
    assert revised.plan["revision"] == 1
    assert [r["reason"] for r in revised.revisions] == ["Hujan"]
    listed = {row.request_id: row for row in app.view.select(None)}
    assert listed[moved].visit_start == today + timedelta(days=7)


def test_only_a_scheduled_visit_not_yet_reported_can_be_revised() -> None:
    today = today_in_jakarta()

    app = SchedulingApplication(env=POPO)
    waiting, reported = approved(app, 1), approved(app, 2)
    app.issue_schedule(reported, draft(today, today))
    deliver(app, "fieldwork", 1, berita_acara_filed(reported))

    with pytest.raises(ScheduleConflictError) as not_scheduled:
        app.revise_schedule(waiting, draft(today, today), "x")
    with pytest.raises(ScheduleConflictError) as visited:
        app.revise_schedule(reported, draft(today, today), "x")

    assert not_scheduled.value.data["current_status"] == "awaiting"
    assert visited.value.data["current_status"] == "visited"
    # The reported visit's officer is free for another on the same day.
    third = approved(app, 3)
    assert app.issue_schedule(third, draft(today, today)).status == (
        ScheduleStatus.SCHEDULED
    )


def test_a_visit_under_way_keeps_its_start_while_its_team_or_end_changes() -> None:
    started = datetime.now(UTC)
    first_day = started.astimezone(OFFICE_TIME_ZONE).date()
    app = SchedulingApplication(env=POPO)
    app.now = lambda: started
    request_id, elsewhere = approved(app, 1), approved(app, 2)
    three_days = draft(first_day, first_day + timedelta(days=2), ASEP)
    app.issue_schedule(request_id, three_days)
    # Dewi spends the first day on another visit.
    app.issue_schedule(elsewhere, draft(first_day, first_day, DEWI))
    # The first day closes after the fact: the visit was already set for it.
    about = {"request_id": OFFICE_CALENDAR_ID, "reference": "office-calendar"}
    calendar_says(
        app, OfficeDayClosed(**about, day=first_day, name="Libur uji", kind="holiday")
    )

    # The second day of the visit: Asep falls ill, Dewi takes over for a day more.
    app.now = lambda: started + timedelta(days=1)
    swapped = draft(first_day, first_day + timedelta(days=3), DEWI)
    revised, changed = app.revise_schedule(request_id, swapped, "Petugas sakit")
    with pytest.raises(InvalidScheduleError) as start_moved_back:
        app.revise_schedule(
            request_id,
            draft(first_day - timedelta(days=1), first_day + timedelta(days=3), DEWI),
            "x",
        )
    # After the last day, the plan sent again is a retry; a new one is refused.
    app.now = lambda: started + timedelta(days=5)
    _, changed_on_retry = app.revise_schedule(request_id, swapped, "Petugas sakit")
    with pytest.raises(InvalidScheduleError) as all_days_past:
        app.revise_schedule(
            request_id, replace(swapped, officers=[ASEP]), "Petugas sembuh"
        )

    assert changed is True
    assert revised.plan is not None
    assert revised.plan["visit_start"] == first_day
    assert revised.plan["officers"][0]["name"] == DEWI.name
    assert start_moved_back.value.data["field"] == "visit_start"
    assert f"began on {first_day}" in start_moved_back.value.detail
    assert changed_on_retry is False
    assert all_days_past.value.data["field"] == "visit_end"


def test_a_visit_still_to_come_whose_first_day_closed_must_move() -> None:
    app = SchedulingApplication(env=POPO)
    request_id = approved(app, 1)
    first_day = next_weekday(today_in_jakarta() + timedelta(days=10))
    app.issue_schedule(request_id, draft(first_day, first_day, ASEP))
    about = {"request_id": OFFICE_CALENDAR_ID, "reference": "office-calendar"}
    calendar_says(
        app,
        OfficeDayClosed(**about, day=first_day, name="Cuti bersama", kind="holiday"),
    )

    with pytest.raises(InvalidScheduleError) as team_only:
        app.revise_schedule(request_id, draft(first_day, first_day, DEWI), "x")

    assert team_only.value.data["field"] == "visit_start"
    assert "Cuti bersama" in team_only.value.detail


def calendar_says(app: SchedulingApplication, *changes: OfficeCalendarEvent) -> None:
    for position, change in enumerate(changes, start=app.position_of("notifier") + 1):
        deliver(app, "notifier", position, change)


def test_a_visit_starting_or_ending_on_a_closed_day_is_refused_unless_worked() -> None:
    app = SchedulingApplication(env=POPO)
    first, second = approved(app, 1), approved(app, 2)
    holiday = next_weekday(today_in_jakarta() + timedelta(days=10))
    # The Sunday of the week after, so its Friday is not the holiday.
    sunday = holiday + timedelta(days=13 - holiday.weekday())
    about = {"request_id": OFFICE_CALENDAR_ID, "reference": "office-calendar"}
    calendar_says(
        app,
        OfficeWeekChanged(**about, working_weekdays=list(WEEKDAYS[:5])),
        OfficeDayClosed(**about, day=holiday, name="Libur uji", kind="holiday"),
    )

    with pytest.raises(InvalidScheduleError) as on_the_holiday:
        app.issue_schedule(first, draft(holiday, holiday))
    with pytest.raises(InvalidScheduleError) as ending_on_sunday:
        app.issue_schedule(first, draft(sunday - timedelta(days=2), sunday))
    worked = app.issue_schedule(
        first, replace(draft(holiday, holiday), work_on_closed_days=True)
    )
    calendar_says(app, OfficeDayOpened(**about, day=holiday))
    reopened = app.issue_schedule(second, draft(holiday, holiday, DEWI))

    assert on_the_holiday.value.data["field"] == "visit_start"
    assert "Libur uji" in on_the_holiday.value.detail
    assert ending_on_sunday.value.data == {
        "field": "visit_end",
        "closed_because": "Sunday",
    }
    assert worked.status == ScheduleStatus.SCHEDULED
    assert reopened.status == ScheduleStatus.SCHEDULED


def next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_an_employee_number_is_one_officer_in_any_script_and_needs_a_digit() -> None:
    today = today_in_jakarta()
    app = SchedulingApplication(env=POPO)
    first, second = approved(app, 1), approved(app, 2)
    in_arabic_indic_digits = OfficerAssignment(
        name="Asep", employee_number="١٩٨٢٠٣١١٢٠٠٦٠٤١٠٠١", role=None
    )
    app.issue_schedule(first, draft(today, today, ASEP))

    with pytest.raises(OfficerBookedError):
        app.issue_schedule(second, draft(today, today, in_arabic_indic_digits))
    with pytest.raises(InvalidScheduleError) as punctuation_only:
        app.issue_schedule(
            second,
            draft(today, today, OfficerAssignment("Rina", "--", role=None)),
        )

    assert punctuation_only.value.data["field"] == "officers.0.employee_number"


def test_a_visit_on_a_day_closed_after_it_was_set_is_shown_for_revision() -> None:
    app = SchedulingApplication(env=POPO)
    request_id = approved(app, 1)
    day = next_weekday(today_in_jakarta() + timedelta(days=10))
    app.issue_schedule(request_id, draft(day, day))
    about = {"request_id": OFFICE_CALENDAR_ID, "reference": "office-calendar"}

    calendar_says(
        app, OfficeDayClosed(**about, day=day, name="Cuti bersama", kind="holiday")
    )

    [row] = app.view.select(ScheduleStatus.SCHEDULED)
    assert app.closed_day_of(row, app.office_days()) == f"{day} is Cuti bersama"
