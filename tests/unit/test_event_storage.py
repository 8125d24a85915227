"""Every stored event comes back exactly as it was saved, with a stable topic.

Runs the whole procedure through the five applications on SQLite files, as
the embedded default stores them, and reads every event back from disk.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import Recording

from purnajual.contracts import (
    OFFICE_CALENDAR_ID,
    WEEKDAYS,
    ClosedDay,
    OfficeCalendarAnnounced,
    OfficeDayClosed,
    OfficeDayOpened,
    OfficeWeekChanged,
)
from purnajual.numbering import NumberSeries
from purnajual.persistence import ServiceApplication, event_store_env
from services.approval.application import ApprovalApplication
from services.approval.domain import Approval
from services.fieldwork.application import FieldworkApplication
from services.fieldwork.config import FieldworkSettings
from services.fieldwork.domain import Visit
from services.intake.application import IntakeApplication, Submission
from services.intake.config import DEFAULT_CATALOGUE
from services.intake.domain import Channel, ReferenceIndex, ServiceRequest
from services.notifier.application import NotifierApplication
from services.notifier.domain import DeliveryChannel, Notification, Purpose, Recipient
from services.notifier.office_calendar import OfficeCalendar
from services.notifier.report import RequestFacts
from services.notifier.sla import SlaClock
from services.notifier.transports import DeliveryError, OutgoingMessage
from services.scheduling.application import (
    OfficerAssignment,
    ScheduleDraft,
    SchedulingApplication,
)
from services.scheduling.domain import OfficeDays, OfficerRoster, Schedule
from tests.builders import (
    NOW,
    berita_acara_filed,
    deliver,
    rejection_letter_issued,
    request_approved,
    request_submitted,
    schedule_issued,
    schedule_revised,
    stakeholder,
)
from tests.unit.test_fieldwork import report

CALENDAR = (
    Path(__file__).resolve().parents[2] / "services/notifier/calendar_default.json"
)
AGGREGATES: list[type[Aggregate]] = [
    ServiceRequest,
    ReferenceIndex,
    Approval,
    Schedule,
    OfficerRoster,
    Visit,
    Recipient,
    Notification,
    NumberSeries,
    OfficeCalendar,
    SlaClock,
    RequestFacts,
    OfficeDays,
]
AppT = TypeVar("AppT", bound=ServiceApplication)


def capturing(app_class: type[AppT], tmp_path: Path, **kwargs: Any) -> AppT:
    """The application on SQLite, remembering every recording it commits."""

    class Capturing(app_class):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.recordings: list[Recording[UUID]] = []
            super().__init__(*args, **kwargs)

        def _notify(self, recordings: list[Recording[UUID]]) -> None:
            self.recordings.extend(recordings)
            super()._notify(recordings)

    env = event_store_env(service=app_class.name, database_url=None, var_dir=tmp_path)
    app: AppT = Capturing(env=env, **kwargs)
    return app


class FlakyTransport:
    """Fails once, then accepts: produces both failure and delivery events."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: OutgoingMessage) -> None:
        self.calls += 1
        if self.calls == 1:
            raise DeliveryError("temporarily unavailable")


def run_the_procedure(tmp_path: Path) -> list[ServiceApplication]:
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    intake = capturing(
        IntakeApplication, tmp_path, catalogue={k.code: k for k in DEFAULT_CATALOGUE}
    )
    outcome = intake.submit(
        Submission(
            channel=Channel.EMAIL,
            channel_message_id="m-1",
            received_at=None,
            stakeholder=stakeholder(),
            services=["field_semen_test"],
            description="Uji semen.",
        )
    )
    deliver(intake, "approval", 1, request_approved(outcome.request_id))

    approval = capturing(ApprovalApplication, tmp_path)
    approved, rejected = request_submitted(), request_submitted()
    deliver(approval, "intake", 1, approved)
    deliver(approval, "intake", 2, rejected)
    approval.approve(approved.request_id, "Kepala Balai", "Jadwalkan.")
    approval.reject(rejected.request_id, "Kepala Balai", "Di luar wewenang.")
    approval.issue_rejection_letter(rejected.request_id, "Kasi", "Isi surat.")

    scheduling = capturing(SchedulingApplication, tmp_path)
    deliver(scheduling, "approval", 1, request_approved(approved.request_id))
    about = {"request_id": OFFICE_CALENDAR_ID, "reference": "office-calendar"}
    # A holiday far from the visit below, which starts today whatever today is.
    holiday = today + timedelta(days=60)
    for position, change in enumerate(
        [
            OfficeWeekChanged(**about, working_weekdays=list(WEEKDAYS)),
            OfficeDayClosed(**about, day=holiday, name="x", kind="holiday"),
            OfficeDayOpened(**about, day=holiday),
            OfficeCalendarAnnounced(
                **about,
                working_weekdays=list(WEEKDAYS),
                closed_days=[ClosedDay(day=holiday, name="x", kind="holiday")],
            ),
        ],
        start=1,
    ):
        deliver(scheduling, "notifier", position, change)
    scheduling.issue_schedule(
        approved.request_id,
        ScheduleDraft(
            visit_start=today,
            visit_end=today + timedelta(days=1),
            location="Depo Garut",
            officers=[
                OfficerAssignment(name="Asep", employee_number="1", role="ketua")
            ],
            equipment=["mikroskop"],
            scheduled_by="Kasi",
        ),
    )

    scheduling.revise_schedule(
        approved.request_id,
        ScheduleDraft(
            visit_start=today + timedelta(days=1),
            visit_end=today + timedelta(days=1),
            location="Depo Garut",
            officers=[OfficerAssignment(name="Dewi", employee_number="2", role=None)],
            equipment=["mikroskop"],
            scheduled_by="Kasi",
        ),
        reason="Petugas sakit.",
    )
    deliver(scheduling, "fieldwork", 1, berita_acara_filed(approved.request_id))

    fieldwork = capturing(
        FieldworkApplication, tmp_path, standard=FieldworkSettings().standard()
    )
    deliver(fieldwork, "scheduling", 1, schedule_issued(approved.request_id, today))
    deliver(fieldwork, "scheduling", 2, schedule_revised(approved.request_id, today))
    fieldwork.file_berita_acara(approved.request_id, report(today))

    transport = FlakyTransport()
    notifier = capturing(
        NotifierApplication,
        tmp_path,
        transports={
            DeliveryChannel.EMAIL: transport,
            DeliveryChannel.WHATSAPP: transport,
        },
    )
    deliver(notifier, "approval", 1, rejection_letter_issued(rejected.request_id))
    deliver(notifier, "intake", 1, request_submitted(rejected.request_id))
    deliver(notifier, "fieldwork", 1, berita_acara_filed(rejected.request_id))
    deliver(notifier, "approval", 5, request_approved(approved.request_id))
    deliver(notifier, "intake", 10, request_submitted(approved.request_id))
    # The builders revise at NOW, so a visit after it restarts the field clock.
    visit_day = NOW.date() + timedelta(days=10)
    deliver(notifier, "scheduling", 1, schedule_issued(approved.request_id, visit_day))
    deliver(notifier, "scheduling", 2, schedule_revised(approved.request_id, visit_day))
    notifier.raise_due_clocks(datetime.now(UTC) + timedelta(days=30))
    letter = Notification.create_id(rejected.request_id, Purpose.REJECTION_LETTER)
    notifier.deliver(letter)
    notifier.deliver(letter)
    post = request_submitted(channel="post")
    deliver(notifier, "intake", 11, post)
    receipt = Notification.create_id(post.request_id, Purpose.RECEIPT)
    notifier.confirm_delivery(receipt, "Front office", "Pos tercatat")
    # The office calendar, recorded and then changed by an admin.
    notifier.open_calendar(json.loads(CALENDAR.read_text(encoding="utf-8")))
    weekly = notifier.calendar().weekly_hours
    notifier.change_calendar(lambda calendar: calendar.change_weekly_hours(weekly))
    notifier.change_calendar(
        lambda calendar: calendar.remove_closed_day(date(2026, 12, 24))
    )
    notifier.change_calendar(lambda calendar: calendar.remove_period("Ramadan 1447 H"))
    notifier.change_calendar(lambda calendar: calendar.withdraw_year_confirmation(2026))

    # A second notifier on the same store, whose mail server always fails.
    failing = capturing(
        NotifierApplication,
        tmp_path,
        transports={DeliveryChannel.EMAIL: _AlwaysFails()},
        max_delivery_attempts=1,
    )
    failing.deliver(Notification.create_id(rejected.request_id, Purpose.RECEIPT))
    return [intake, approval, scheduling, fieldwork, notifier, failing]


class _AlwaysFails:
    def send(self, message: OutgoingMessage) -> None:
        raise DeliveryError("mailbox full")


def all_event_topics() -> set[str]:
    """Every concrete event class's topic; bases of other events are not stored."""
    classes = [
        value
        for aggregate in AGGREGATES
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, CanMutateAggregate)
        and name not in ("Created", "Event")
    ]
    concrete = [
        cls
        for cls in classes
        if not any(o is not cls and issubclass(o, cls) for o in classes)
    ]
    return {cls.TOPIC for cls in concrete}  # type: ignore[attr-defined]


def test_every_event_reads_back_equal_from_the_sqlite_store(tmp_path: Path) -> None:
    apps = run_the_procedure(tmp_path)

    for app in apps:
        for recording in app.recordings:  # type: ignore[attr-defined]
            stored = app.recorder.select_notifications(
                start=recording.notification.id, limit=1
            )[0]
            assert app.mapper.to_domain_event(stored) == recording.domain_event


def test_the_list_of_aggregates_here_names_every_aggregate_of_the_code() -> None:
    def descendants(cls: type[Aggregate]) -> set[type[Aggregate]]:
        found = set()
        for sub in cls.__subclasses__():
            found |= {sub} | descendants(sub)
        return found

    ours = {
        cls
        for cls in descendants(Aggregate)
        if cls.__module__.startswith(("services.", "purnajual."))
        and not cls.__module__.startswith("tests.")
    }

    assert ours == set(AGGREGATES)


def test_the_procedure_exercises_every_event_class_and_stores_explicit_topics(
    tmp_path: Path,
) -> None:
    apps = run_the_procedure(tmp_path)

    stored_topics = {
        notification.topic
        for app in apps
        for notification in app.recorder.select_notifications(start=1, limit=10_000)
    }

    assert all_event_topics() <= stored_topics
    assert all(":" not in topic for topic in stored_topics)
