"""Intake on the in-memory store: registering requests and keeping timelines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from purnajual.contracts import (
    ReceiptDelivered,
    RequestApproved,
    RequestSummary,
    ScheduleRevisionConveyed,
)
from purnajual.numbering import OFFICE_TIME_ZONE, NumberSeries
from services.intake.application import (
    IntakeApplication,
    MessageIdReusedError,
    RequestNotFoundError,
    Submission,
    SubmissionRejectedError,
)
from services.intake.config import DEFAULT_CATALOGUE
from services.intake.domain import Channel, ReferenceIndex, Step, status_of
from tests.builders import (
    NOW,
    POPO,
    deliver,
    schedule_issued,
    schedule_revised,
    stakeholder,
)


def intake() -> IntakeApplication:
    return IntakeApplication(
        env=POPO, catalogue={kind.code: kind for kind in DEFAULT_CATALOGUE}
    )


def a_submission(**overrides: Any) -> Submission:
    values: dict[str, Any] = {
        "channel": Channel.WHATSAPP,
        "channel_message_id": f"wamid.{uuid4().hex}",
        "received_at": None,
        "stakeholder": stakeholder(),
        "services": ["field_semen_test"],
        "description": "Angka kebuntingan turun.",
        **overrides,
    }
    return Submission(**values)


def test_registers_a_request_with_the_next_reference_of_the_year() -> None:
    app = intake()

    first = app.submit(a_submission())
    second = app.submit(a_submission())

    # Numbers run per year of the office's calendar, not of UTC.
    received = app.request(first.reference).received_at
    year = received.astimezone(OFFICE_TIME_ZONE).year
    assert (first.reference, second.reference) == (
        f"PPJ-{year}-00001",
        f"PPJ-{year}-00002",
    )
    assert first.created and second.created
    assert app.request(first.reference).status == Step.SUBMITTED


def test_the_same_channel_message_twice_is_the_same_request() -> None:
    app = intake()
    submission = a_submission()
    first = app.submit(submission)
    events_before = app.recorder.max_notification_id()

    again = app.submit(submission)

    assert again.request_id == first.request_id
    assert again.reference == first.reference
    assert not again.created
    assert app.recorder.max_notification_id() == events_before


def test_a_message_id_reused_for_other_content_is_refused_not_merged() -> None:
    app = intake()
    received_at = datetime.now(UTC) - timedelta(hours=1)
    first = app.submit(a_submission(channel_message_id="m-1", received_at=received_at))
    events_before = app.recorder.max_notification_id()

    retried = app.submit(
        a_submission(channel_message_id="m-1", received_at=received_at)
    )
    with pytest.raises(MessageIdReusedError) as reused:
        app.submit(a_submission(channel_message_id="m-1", services=["container_check"]))

    assert retried.reference == first.reference
    assert reused.value.data == {
        "field": "channel_message_id",
        "reference": first.reference,
        "differs_in": "services",
    }
    assert app.recorder.max_notification_id() == events_before


def test_the_same_message_id_on_another_channel_is_another_request() -> None:
    app = intake()
    on_whatsapp = app.submit(a_submission(channel_message_id="m-1"))

    by_email = app.submit(a_submission(channel=Channel.EMAIL, channel_message_id="m-1"))

    assert by_email.request_id != on_whatsapp.request_id


def test_refuses_a_service_not_in_the_catalogue_naming_its_position() -> None:
    app = intake()

    with pytest.raises(SubmissionRejectedError) as refused:
        app.submit(a_submission(services=["field_semen_test", "massage"]))

    assert refused.value.data["field"] == "services.1"
    assert app.recorder.max_notification_id() in (None, 0)


def test_refuses_a_received_at_in_the_future() -> None:
    app = intake()

    with pytest.raises(SubmissionRejectedError) as refused:
        app.submit(a_submission(received_at=datetime.now(UTC) + timedelta(hours=2)))

    assert refused.value.data["field"] == "received_at"


def test_refuses_a_whatsapp_request_without_a_phone_to_answer() -> None:
    app = intake()

    with pytest.raises(SubmissionRejectedError) as refused:
        app.submit(a_submission(stakeholder=stakeholder(phone=None)))

    assert refused.value.data["field"] == "stakeholder.phone"


def test_finds_a_request_by_reference_in_any_case_or_by_id() -> None:
    app = intake()
    outcome = app.submit(a_submission())

    assert app.request(outcome.reference.lower()).id == outcome.request_id
    assert app.request(str(outcome.request_id)).reference == outcome.reference
    with pytest.raises(RequestNotFoundError):
        app.request("PPJ-1999-00001")


def test_an_approval_appears_on_the_timeline_once() -> None:
    app = intake()
    outcome = app.submit(a_submission())
    approved = RequestApproved(
        request_id=outcome.request_id,
        reference=outcome.reference,
        decided_by="Kepala Balai",
        disposition="Jadwalkan.",
        decided_at=NOW,
        request=RequestSummary(
            institution="x", services=["field_semen_test"], description="y"
        ),
    )

    deliver(app, "approval", 1, approved)
    deliver(app, "approval", 2, approved)

    request = app.request(outcome.reference)
    assert request.status == Step.APPROVED
    assert list(request.timeline) == [Step.APPROVED]
    assert request.version == 2


def test_a_delivered_receipt_is_on_the_timeline_but_not_the_status() -> None:
    app = intake()
    outcome = app.submit(a_submission())

    deliver(
        app,
        "notifier",
        1,
        ReceiptDelivered(
            request_id=outcome.request_id,
            reference=outcome.reference,
            notification_id=uuid4(),
            purpose="receipt",
            channel="whatsapp",
            delivered_at=NOW,
        ),
    )

    request = app.request(outcome.reference)
    assert [entry["step"] for entry in request.timeline.values()] == [
        "receipt_delivered"
    ]
    assert request.status == Step.SUBMITTED


def test_lists_requests_newest_first_and_by_status() -> None:
    app = intake()
    older = app.submit(a_submission(received_at=NOW - timedelta(days=1)))
    newer = app.submit(a_submission(received_at=NOW))

    total, rows = app.view.select(status="submitted", channel=None, limit=10, offset=0)

    assert total == 2
    assert [row.reference for row in rows] == [newer.reference, older.reference]
    assert app.view.select(status="approved", channel=None, limit=10, offset=0)[0] == 0


def test_the_id_of_something_else_is_not_a_request() -> None:
    app = intake()
    outcome = app.submit(a_submission())
    received = app.request(outcome.reference).received_at
    year = received.astimezone(OFFICE_TIME_ZONE).year
    series_id = NumberSeries.create_id(f"reference/PPJ/{year}")
    index_id = ReferenceIndex.create_id(outcome.reference)

    for other in (series_id, index_id):
        with pytest.raises(RequestNotFoundError):
            app.request(str(other))


def test_each_revision_of_a_schedule_is_on_the_timeline_without_moving_the_status() -> (
    None
):
    app = intake()
    outcome = app.submit(a_submission())
    visit_day = NOW.date() + timedelta(days=7)

    deliver(app, "scheduling", 1, schedule_issued(outcome.request_id, NOW.date()))
    deliver(app, "scheduling", 2, schedule_revised(outcome.request_id, visit_day))
    deliver(app, "scheduling", 3, schedule_revised(outcome.request_id, visit_day, 2))

    request = app.request(outcome.reference)
    assert [entry["step"] for entry in request.timeline.values()] == [
        "scheduled",
        "schedule_revised",
        "schedule_revised",
    ]
    assert [e["details"].get("revision") for e in request.timeline.values()] == [
        None,
        1,
        2,
    ]
    assert request.status == Step.SCHEDULED
    # The list agrees, whatever order its set of steps comes out in.
    _, [row] = app.view.select(status="scheduled", channel=None, limit=10, offset=0)
    assert row.request_id == outcome.request_id


@pytest.mark.parametrize(
    "steps",
    [
        [Step.SCHEDULED, Step.SCHEDULE_REVISED, Step.RECEIPT_DELIVERED],
        [Step.RECEIPT_DELIVERED, Step.SCHEDULE_REVISED, Step.SCHEDULED],
    ],
)
def test_the_status_does_not_depend_on_the_order_steps_are_listed(
    steps: list[Step],
) -> None:
    assert status_of(steps) == Step.SCHEDULED
    assert status_of([Step.RECEIPT_DELIVERED]) == Step.SUBMITTED


def test_a_revision_delivered_before_the_first_schedule_conveys_it() -> None:
    app = intake()
    outcome = app.submit(a_submission())
    visit_day = NOW.date() + timedelta(days=7)
    deliver(app, "scheduling", 1, schedule_issued(outcome.request_id, NOW.date()))
    deliver(app, "scheduling", 2, schedule_revised(outcome.request_id, visit_day))

    deliver(
        app,
        "notifier",
        1,
        ScheduleRevisionConveyed(
            request_id=outcome.request_id,
            reference=outcome.reference,
            notification_id=uuid4(),
            purpose="schedule_revised",
            channel="manual",
            delivered_at=NOW,
            confirmed_by="Yanti",
        ),
    )

    request = app.request(outcome.reference)
    assert request.status == Step.SCHEDULE_CONVEYED
    assert [entry["step"] for entry in request.timeline.values()][-2:] == [
        "schedule_revision_conveyed",
        "schedule_conveyed",
    ]
