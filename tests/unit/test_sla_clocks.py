"""The steps' clocks, driven by events and a controlled "now".

Times are in Western Indonesia Time. Monday 7 December 2026 is a working day
from 07:30 to 12:00 and 13:00 to 16:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

from purnajual.contracts import RequestApproved, RequestRejected, ScheduleIssued
from purnajual.persistence import event_store_env
from services.notifier.application import NotifierApplication
from services.notifier.domain import DeliveryChannel, Notification, Purpose
from services.notifier.sla import ClockState, SlaClock, SlaStep
from services.notifier.transports import FileOutbox
from tests.builders import (
    POPO,
    deliver,
    request_approved,
    request_submitted,
    schedule_issued,
    schedule_revised,
)

WIB = timezone(timedelta(hours=7))


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=WIB)


def notifier(
    env: dict[str, str] | None = None, outbox: Path | None = None
) -> NotifierApplication:
    transport = FileOutbox(outbox or Path("/nonexistent"))
    return NotifierApplication(
        env=env or POPO,
        transports={
            DeliveryChannel.EMAIL: transport,
            DeliveryChannel.WHATSAPP: transport,
        },
    )


def submitted_at(
    app: NotifierApplication, received: datetime, registered: datetime
) -> UUID:
    request_id = uuid4()
    event = request_submitted(request_id).model_copy(
        update={"received_at": received, "submitted_at": registered}
    )
    deliver(app, "intake", app.position_of("intake") + 1, event)
    return request_id


def clock(app: NotifierApplication, request_id: UUID, step: SlaStep) -> SlaClock:
    found = app.find(SlaClock.create_id(request_id, step.value), SlaClock)
    assert found is not None
    return found


def judged(app: NotifierApplication, request_id: UUID) -> list[tuple[str, str]]:
    return [
        (event.step, type(event).__name__)
        for _, event in app.events_after(0, limit=10_000)
        if isinstance(event, SlaClock.Judged) and event.request_id == request_id
    ]


def decided(request_id: UUID, at: datetime) -> RequestApproved:
    return request_approved(request_id).model_copy(update={"decided_at": at})


def test_steps_done_in_time_are_met_with_the_working_time_they_took() -> None:
    app = notifier()
    request_id = submitted_at(app, wib(7, 8, 55), wib(7, 9, 0))

    deliver(app, "approval", 1, decided(request_id, wib(7, 9, 12)))

    assert judged(app, request_id) == [("registration", "Met"), ("decision", "Met")]
    assert clock(app, request_id, SlaStep.DECISION).state == ClockState.MET
    assert clock(app, request_id, SlaStep.SCHEDULE).state == ClockState.OPEN
    met = [e for _, e in app.events_after(0) if isinstance(e, SlaClock.Met)]
    assert [e.working_minutes_used for e in met] == [5, 12]


def test_a_decision_left_waiting_warns_then_breaches_each_once() -> None:
    app = notifier()
    request_id = submitted_at(app, wib(7, 9, 0), wib(7, 9, 0))

    app.raise_due_clocks(wib(7, 9, 15))
    early = judged(app, request_id)
    app.raise_due_clocks(wib(7, 9, 16))
    app.raise_due_clocks(wib(7, 9, 17))
    app.raise_due_clocks(wib(7, 9, 20))
    app.raise_due_clocks(wib(7, 10, 0))

    assert early == [("registration", "Met")]
    assert judged(app, request_id) == [
        ("registration", "Met"),
        ("decision", "WarningRaised"),
        ("decision", "Breached"),
    ]
    assert clock(app, request_id, SlaStep.DECISION).state == ClockState.BREACHED


def test_a_clock_over_lunch_warns_after_the_break_not_during_it() -> None:
    app = notifier()
    request_id = submitted_at(app, wib(7, 11, 50), wib(7, 11, 50))

    app.raise_due_clocks(wib(7, 12, 30))
    at_lunch = clock(app, request_id, SlaStep.DECISION).state
    app.raise_due_clocks(wib(7, 13, 6))

    assert at_lunch == ClockState.OPEN
    assert clock(app, request_id, SlaStep.DECISION).state == ClockState.WARNING


def test_a_decision_heard_of_before_the_submission_is_still_judged() -> None:
    app = notifier()
    request_id = uuid4()
    deliver(app, "approval", 1, decided(request_id, wib(7, 9, 20)))
    event = request_submitted(request_id).model_copy(
        update={"received_at": wib(7, 9, 0), "submitted_at": wib(7, 9, 5)}
    )

    deliver(app, "intake", 1, event)

    assert ("decision", "Met") in judged(app, request_id)


def test_a_late_stop_the_watcher_missed_is_a_breach_once() -> None:
    app = notifier()
    request_id = submitted_at(app, wib(7, 9, 0), wib(7, 9, 0))
    rejected = RequestRejected(
        request_id=request_id,
        reference="PPJ-2026-00001",
        decided_by="Kepala Balai",
        reason="x",
        decided_at=wib(7, 14, 0),
    )

    deliver(app, "approval", 1, rejected)
    app.raise_due_clocks(wib(7, 14, 5))

    assert judged(app, request_id).count(("decision", "Breached")) == 1
    assert clock(app, request_id, SlaStep.REJECTION_LETTER).state == ClockState.OPEN


def test_the_field_visit_warns_after_3_and_breaches_after_5_working_days() -> None:
    app = notifier()
    request_id = uuid4()
    issued: ScheduleIssued = schedule_issued(request_id, date(2026, 12, 7)).model_copy(
        update={"issued_at": wib(4, 10, 0)}
    )
    deliver(app, "scheduling", 1, issued)
    visit = clock(app, request_id, SlaStep.FIELD_VISIT)

    assert visit.plan is not None
    assert visit.plan["warning_at"] == wib(9, 16, 0)
    assert visit.plan["deadline"] == wib(11, 16, 30)


def test_conveying_the_schedule_stops_its_clock(tmp_path: Path) -> None:
    app = notifier(outbox=tmp_path)
    request_id = submitted_at(app, wib(7, 9, 0), wib(7, 9, 0))
    issued = schedule_issued(request_id).model_copy(
        update={"issued_at": datetime.now(WIB)}
    )
    deliver(app, "scheduling", 1, issued)

    app.deliver(Notification.create_id(request_id, Purpose.SCHEDULE.value))

    conveyance = clock(app, request_id, SlaStep.CONVEYANCE)
    assert conveyance.stopped_at is not None
    assert conveyance.state in (ClockState.MET, ClockState.BREACHED)


def test_two_notifiers_on_one_store_announce_a_breach_once(tmp_path: Path) -> None:
    env = event_store_env(service="notifier", database_url=None, var_dir=tmp_path)
    first, second = notifier(env), notifier(env)
    request_id = submitted_at(first, wib(7, 9, 0), wib(7, 9, 0))

    first.raise_due_clocks(wib(7, 10, 0))
    second.raise_due_clocks(wib(7, 10, 0))
    second.raise_due_clocks(wib(7, 11, 0))

    assert judged(second, request_id).count(("decision", "Breached")) == 1


def test_a_breach_is_told_to_the_operations_contacts_once(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    app = NotifierApplication(
        env=POPO,
        transports={DeliveryChannel.EMAIL: outbox, DeliveryChannel.WHATSAPP: outbox},
        operations_emails=["kasi.jasa@biblembang.id", "tu@biblembang.id"],
    )
    request_id = submitted_at(app, wib(7, 9, 0), wib(7, 9, 0))

    app.raise_due_clocks(wib(7, 10, 0))
    app.raise_due_clocks(wib(7, 11, 0))

    alerts = [
        row
        for row in app.view.select(request_id=request_id, status=None)
        if row.purpose == Purpose.OPERATIONS_ALERT
    ]
    assert len(alerts) == 1
    assert alerts[0].destination == "kasi.jasa@biblembang.id, tu@biblembang.id"
    app.deliver(alerts[0].notification_id)
    assert app.notification(alerts[0].notification_id).delivered_at is not None


def test_a_calendar_change_leaves_running_clocks_as_announced() -> None:
    app = notifier()
    before = submitted_at(app, wib(7, 15, 50), wib(7, 15, 50))
    announced = clock(app, before, SlaStep.DECISION).plan

    app.change_calendar(
        lambda calendar: calendar.set_closed_day(
            day=date(2026, 12, 8), name="Cuti bersama tambahan", kind="cuti_bersama"
        )
    )
    after = submitted_at(app, wib(7, 15, 50), wib(7, 15, 50))

    assert announced is not None
    assert clock(app, before, SlaStep.DECISION).plan == announced
    assert announced["deadline"] == wib(8, 7, 40)
    new_plan = clock(app, after, SlaStep.DECISION).plan
    assert new_plan is not None
    assert new_plan["deadline"] == wib(9, 7, 40)


def test_a_stop_in_time_heard_of_after_the_breach_turns_it_to_met() -> None:
    app = NotifierApplication(
        env=POPO,
        transports={},
        operations_emails=["kasi.jasa@biblembang.id"],
    )
    request_id = submitted_at(app, wib(7, 9, 0), wib(7, 9, 0))

    # The notifier was behind: the watcher saw no decision by 09:20.
    app.raise_due_clocks(wib(7, 9, 25))
    deliver(app, "approval", 1, decided(request_id, wib(7, 9, 12)))

    decision = [kind for step, kind in judged(app, request_id) if step == "decision"]
    assert decision == ["WarningRaised", "Breached", "Met"]
    assert clock(app, request_id, SlaStep.DECISION).state == ClockState.MET
    met = app.clocks.select(state=ClockState.MET, request_id=request_id)
    assert {row.step: row.working_minutes_used for row in met}[SlaStep.DECISION] == 12.0
    # Counters never go down: the breach stays counted beside the met.
    metrics = app.metric_lines()
    assert 'purnajual_sla_breaches_total{step="decision"} 1' in metrics
    assert 'purnajual_sla_met_total{step="decision"} 1' in metrics
    alerts = [
        row
        for row in app.view.select(request_id=request_id, status=None)
        if row.purpose == Purpose.OPERATIONS_ALERT
    ]
    assert len(alerts) == 1


def test_a_step_breached_while_running_shows_the_time_it_took_once_stopped() -> None:
    app = notifier()
    request_id = submitted_at(app, wib(7, 9, 0), wib(7, 9, 0))

    app.raise_due_clocks(wib(7, 9, 25))
    deliver(app, "approval", 1, decided(request_id, wib(7, 9, 30)))

    decision = [kind for step, kind in judged(app, request_id) if step == "decision"]
    assert decision == ["WarningRaised", "Breached"]
    rows = app.clocks.select(state=ClockState.BREACHED, request_id=request_id)
    assert [(row.step, row.working_minutes_used) for row in rows] == [
        (SlaStep.DECISION, 30.0)
    ]


def test_a_clock_stopped_exactly_at_its_deadline_is_met() -> None:
    app = notifier()
    request_id = submitted_at(app, wib(7, 9, 0), wib(7, 9, 0))

    app.raise_due_clocks(wib(7, 9, 20))
    deliver(app, "approval", 1, decided(request_id, wib(7, 9, 20)))

    assert [k for s, k in judged(app, request_id) if s == "decision"] == [
        "WarningRaised",
        "Met",
    ]


def test_a_working_days_standard_without_its_own_warning_warns_at_the_share() -> None:
    from services.notifier.sla import Target, plan_clock

    calendar = notifier().calendar().working_time()

    plan = plan_clock(wib(7, 7, 30), Target(working_days=5), 0.8, calendar)

    assert plan.deadline == wib(11, 16, 30)
    assert plan.warning_at < plan.deadline
    # The week holds 2250 working minutes; 80 % of them end on Thursday.
    assert plan.warning_at == wib(10, 16, 0)


def test_a_visit_moved_before_its_day_moves_its_clock() -> None:
    app = notifier()
    request_id = uuid4()
    deliver(app, "scheduling", 1, schedule_issued(request_id, date(2026, 12, 7)))

    moved_ahead = schedule_revised(request_id, date(2026, 12, 14)).model_copy(
        update={"revised_at": wib(4, 15, 0)}
    )
    deliver(app, "scheduling", 2, moved_ahead)
    app.raise_due_clocks(wib(11, 16, 31))

    moved = clock(app, request_id, SlaStep.FIELD_VISIT)
    assert moved.plan is not None
    assert moved.plan["deadline"] == wib(18, 16, 30)
    assert moved.state == ClockState.OPEN
    assert visit_verdicts(app, request_id) == []
    app.raise_due_clocks(wib(18, 16, 31))
    assert visit_verdicts(app, request_id) == ["WarningRaised", "Breached"]


def test_a_visit_moved_once_its_day_has_come_keeps_its_deadline() -> None:
    app = notifier()
    request_id = uuid4()
    deliver(app, "scheduling", 1, schedule_issued(request_id, date(2026, 12, 7)))
    app.raise_due_clocks(wib(9, 16, 1))

    moved_late = schedule_revised(request_id, date(2026, 12, 14)).model_copy(
        update={"revised_at": wib(9, 17, 0)}
    )
    deliver(app, "scheduling", 2, moved_late)
    app.raise_due_clocks(wib(11, 16, 31))

    kept = clock(app, request_id, SlaStep.FIELD_VISIT)
    assert kept.plan is not None
    assert kept.plan["deadline"] == wib(11, 16, 30)
    assert visit_verdicts(app, request_id) == ["WarningRaised", "Breached"]


def visit_verdicts(app: NotifierApplication, request_id: UUID) -> list[str]:
    return [
        kind for step, kind in judged(app, request_id) if step == SlaStep.FIELD_VISIT
    ]


def test_a_breach_stands_when_the_visit_is_moved_after_it() -> None:
    app = notifier()
    request_id = uuid4()
    deliver(app, "scheduling", 1, schedule_issued(request_id, date(2026, 12, 7)))
    app.raise_due_clocks(wib(11, 16, 31))

    deliver(app, "scheduling", 2, schedule_revised(request_id, date(2026, 12, 21)))

    kept = clock(app, request_id, SlaStep.FIELD_VISIT)
    assert kept.state == ClockState.BREACHED
    assert kept.plan is not None
    assert kept.plan["deadline"] == wib(11, 16, 30)
