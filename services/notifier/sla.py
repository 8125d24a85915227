"""A clock per step of every request, measured in office working time.

Each step of the procedure has a time standard (configuration). Its clock
starts and stops with the events of the procedure; a warning fires when most
of the time is used, a breach when all of it is. Events of one request come
from several streams and may arrive out of order, so a clock can learn that
it stopped before it learns that it started: it judges itself as soon as it
knows both.

The deadline of a clock is fixed when the clock starts, on the calendar as it
is then. A later change to the calendar (a holiday added by decree) applies to
clocks that start after it; clocks already running keep their deadline, so a
warning or breach never moves once announced. Known limit: the working minutes
a verdict reports are counted on the calendar as it is at the verdict, so after
such a change they can disagree with the deadline (a breach of a 20-minute
standard after 15 counted minutes). Recording the calendar's version with each
clock would settle it, if calendar changes during running clocks become common.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.notifier.domain import NOTIFIER_NAMESPACE
from services.notifier.office_calendar import WorkingTime


class SlaStep(StrEnum):
    """The steps with a published time standard, in the SOP's order."""

    REGISTRATION = "registration"
    DECISION = "decision"
    REJECTION_LETTER = "rejection_letter"
    SCHEDULE = "schedule"
    CONVEYANCE = "conveyance"
    FIELD_VISIT = "field_visit"


class ClockState(StrEnum):
    WAITING = "waiting"
    OPEN = "open"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True)
class Target:
    """A time standard: working minutes, or whole working days."""

    minutes: float | None = None
    working_days: int | None = None
    warning_working_days: int | None = None

    def describe(self) -> str:
        if self.working_days is not None:
            return f"{self.working_days} working days"
        return f"{self.minutes:g} working minutes"


DEFAULT_TARGETS: dict[SlaStep, Target] = {
    SlaStep.REGISTRATION: Target(minutes=10),
    SlaStep.DECISION: Target(minutes=20),
    SlaStep.REJECTION_LETTER: Target(minutes=20),
    SlaStep.SCHEDULE: Target(minutes=20),
    SlaStep.CONVEYANCE: Target(minutes=10),
    SlaStep.FIELD_VISIT: Target(working_days=5, warning_working_days=3),
}


@dataclass(frozen=True)
class ClockPlan:
    """When a started clock counts from, warns and breaches."""

    counting_from: datetime
    warning_at: datetime
    deadline: datetime
    target: str


def plan_clock(
    started_at: datetime, target: Target, warning_share: float, calendar: WorkingTime
) -> ClockPlan:
    """The clock's moments on the calendar as it is now."""
    counting_from = calendar.next_working_moment(started_at)
    if target.working_days is not None:
        deadline = calendar.end_of_working_days(started_at, target.working_days)
        if target.warning_working_days is not None:
            warning_at = calendar.end_of_working_days(
                started_at, target.warning_working_days
            )
        else:
            whole = calendar.working_minutes(counting_from, deadline)
            warning_at = calendar.deadline(started_at, whole * warning_share)
    else:
        assert target.minutes is not None
        deadline = calendar.deadline(started_at, target.minutes)
        warning_at = calendar.deadline(started_at, target.minutes * warning_share)
    return ClockPlan(counting_from, warning_at, deadline, target.describe())


class SlaClock(Aggregate):
    """The clock of one step of one request."""

    TOPIC = "notifier.SlaClock"

    class Created(Aggregate.Created):
        TOPIC = "notifier.SlaClock.Created"

    class Opened(Created):
        TOPIC = "notifier.SlaClock.Opened"
        request_id: UUID
        reference: str
        step: str

    class Started(Aggregate.Event):
        TOPIC = "notifier.SlaClock.Started"
        started_at: datetime
        counting_from: datetime
        warning_at: datetime
        deadline: datetime
        target: str

    class Restarted(Aggregate.Event):
        """The step's start moved before it began (a visit rescheduled ahead
        of its day): the clock counts from the new start."""

        TOPIC = "notifier.SlaClock.Restarted"
        started_at: datetime
        counting_from: datetime
        warning_at: datetime
        deadline: datetime
        target: str

        def apply(self, aggregate: SlaClock) -> None:
            aggregate.plan = {
                "started_at": self.started_at,
                "counting_from": self.counting_from,
                "warning_at": self.warning_at,
                "deadline": self.deadline,
                "target": self.target,
            }

    class Stopped(Aggregate.Event):
        """Carries the working time the step took, when its start is known."""

        TOPIC = "notifier.SlaClock.Stopped"
        stopped_at: datetime
        working_minutes_used: float | None

    # The three events that are announced carry all a reader needs.
    class Judged(Aggregate.Event):
        TOPIC = "notifier.SlaClock.Judged"
        request_id: UUID
        reference: str
        step: str
        started_at: datetime
        deadline: datetime
        target: str
        working_minutes_used: float

    class WarningRaised(Judged):
        TOPIC = "notifier.SlaClock.WarningRaised"

        def apply(self, aggregate: SlaClock) -> None:
            aggregate.warned = True

    class Breached(Judged):
        TOPIC = "notifier.SlaClock.Breached"

        def apply(self, aggregate: SlaClock) -> None:
            aggregate.breached = True

    class Met(Judged):
        TOPIC = "notifier.SlaClock.Met"

        def apply(self, aggregate: SlaClock) -> None:
            aggregate.met = True

    @staticmethod
    def create_id(request_id: UUID, step: str) -> UUID:
        return uuid5(NOTIFIER_NAMESPACE, f"sla-clock\x1f{request_id}\x1f{step}")

    @event(Opened)
    def __init__(self, request_id: UUID, reference: str, step: str) -> None:
        self.request_id = request_id
        self.reference = reference
        self.step = SlaStep(step)
        self.plan: dict[str, Any] | None = None
        self.stopped_at: datetime | None = None
        self.warned = False
        self.breached = False
        self.met = False

    @property
    def state(self) -> ClockState:
        if self.met:
            return ClockState.MET
        if self.breached:
            return ClockState.BREACHED
        if self.plan is None:
            return ClockState.WAITING
        return ClockState.WARNING if self.warned else ClockState.OPEN

    @property
    def running(self) -> bool:
        return self.plan is not None and self.stopped_at is None

    def start(
        self, started_at: datetime, plan: ClockPlan, calendar: WorkingTime
    ) -> None:
        """Starts the clock once; judges it at once if its stop is known."""
        if self.plan is not None:
            return
        self._start(
            started_at=started_at,
            counting_from=plan.counting_from,
            warning_at=plan.warning_at,
            deadline=plan.deadline,
            target=plan.target,
        )
        if self.stopped_at is not None:
            self._judge(self.stopped_at, calendar)

    def restart(
        self,
        started_at: datetime,
        plan: ClockPlan,
        calendar: WorkingTime,
        moved_at: datetime,
    ) -> None:
        """Moves the clock's start, if it had not begun counting at ``moved_at``.

        A clock not started yet just starts. Once counting has begun the
        original deadline stands: moving a visit already due does not give
        the step more time, so a late visit cannot escape its breach.
        """
        if self.plan is None:
            self.start(started_at, plan, calendar)
            return
        # A move heard of only after the old deadline passed (the notifier
        # days behind) leaves the verdict the watcher reached.
        if self.stopped_at is not None or self.breached or self.met:
            return
        if moved_at >= self.plan["counting_from"]:
            return
        self.trigger_event(
            self.Restarted,
            started_at=started_at,
            counting_from=plan.counting_from,
            warning_at=plan.warning_at,
            deadline=plan.deadline,
            target=plan.target,
        )

    def stop(self, stopped_at: datetime, calendar: WorkingTime) -> None:
        """Stops the clock once; judges it if it has started."""
        if self.stopped_at is not None:
            return
        used = None
        if self.plan is not None:
            used = round(
                calendar.working_minutes(self.plan["counting_from"], stopped_at), 3
            )
        self._stop(stopped_at=stopped_at, working_minutes_used=used)
        if self.plan is not None:
            self._judge(stopped_at, calendar)

    def raise_due(self, now: datetime, calendar: WorkingTime) -> None:
        """The warning and the breach whose moment has come, each once."""
        if not self.running or self.plan is None:
            return
        if not self.warned and now >= self.plan["warning_at"]:
            self._announce(self.WarningRaised, self.plan["warning_at"], calendar)
        if not self.breached and now > self.plan["deadline"]:
            self._announce(self.Breached, self.plan["deadline"], calendar)

    def _judge(self, stopped_at: datetime, calendar: WorkingTime) -> None:
        """The step's own time decides. A stop in time that reaches the notifier
        after the watcher found the clock breached (the notifier or the broker
        was behind) turns the verdict to met: the breach stays in the history,
        the met that follows it corrects it."""
        assert self.plan is not None
        if self.met:
            return
        if stopped_at <= self.plan["deadline"]:
            self._announce(self.Met, stopped_at, calendar)
        elif not self.breached:
            self._announce(self.Breached, stopped_at, calendar)

    def _announce(
        self, kind: type[SlaClock.Judged], until: datetime, calendar: WorkingTime
    ) -> None:
        assert self.plan is not None
        self.trigger_event(
            kind,
            request_id=self.request_id,
            reference=self.reference,
            step=self.step.value,
            started_at=self.plan["started_at"],
            deadline=self.plan["deadline"],
            target=self.plan["target"],
            working_minutes_used=round(
                calendar.working_minutes(self.plan["counting_from"], until), 3
            ),
        )

    @event(Started)
    def _start(
        self,
        started_at: datetime,
        counting_from: datetime,
        warning_at: datetime,
        deadline: datetime,
        target: str,
    ) -> None:
        self.plan = {
            "started_at": started_at,
            "counting_from": counting_from,
            "warning_at": warning_at,
            "deadline": deadline,
            "target": target,
        }

    @event(Stopped)
    def _stop(self, stopped_at: datetime, working_minutes_used: float | None) -> None:
        self.stopped_at = stopped_at
