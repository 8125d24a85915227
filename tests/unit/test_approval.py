"""Approval on the in-memory store: the inbox, decisions, rejection letters."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from purnajual.numbering import OFFICE_TIME_ZONE
from services.approval.application import ApprovalApplication, ApprovalNotFoundError
from services.approval.domain import ApprovalStatus, DecisionConflictError
from tests.builders import POPO, deliver, request_submitted


def approval_with_a_pending_request() -> tuple[ApprovalApplication, UUID]:
    app = ApprovalApplication(env=POPO)
    submitted = request_submitted()
    deliver(app, "intake", 1, submitted)
    return app, submitted.request_id


def test_a_submitted_request_enters_the_inbox_once() -> None:
    app = ApprovalApplication(env=POPO)
    submitted = request_submitted()

    deliver(app, "intake", 1, submitted)
    deliver(app, "intake", 2, submitted)

    inbox = app.view.select(ApprovalStatus.PENDING)
    assert [row.request_id for row in inbox] == [submitted.request_id]
    assert app.approval(submitted.request_id).version == 1


def test_approving_leaves_the_inbox_with_the_disposition() -> None:
    app, request_id = approval_with_a_pending_request()

    approval = app.approve(request_id, "Kepala Balai", "Jadwalkan minggu ini.")

    assert approval.status == ApprovalStatus.APPROVED
    assert approval.disposition == "Jadwalkan minggu ini."
    assert app.view.select(ApprovalStatus.PENDING) == []


def test_refuses_a_decision_on_a_request_already_decided() -> None:
    app, request_id = approval_with_a_pending_request()
    app.approve(request_id, "Kepala Balai", "Jadwalkan.")

    with pytest.raises(DecisionConflictError) as refused:
        app.reject(request_id, "Kepala Balai", "Berubah pikiran.")

    assert refused.value.data["current_status"] == "approved"


def test_a_rejection_letter_needs_a_rejection() -> None:
    app, request_id = approval_with_a_pending_request()

    with pytest.raises(DecisionConflictError) as refused:
        app.issue_rejection_letter(request_id, "Kasi", "Isi surat.")

    assert refused.value.data["current_status"] == "pending"


def test_rejection_letters_are_numbered_in_the_official_format_one_after_another() -> (
    None
):
    app = ApprovalApplication(env=POPO)
    numbers = []
    for position in (1, 2):
        submitted = request_submitted()
        deliver(app, "intake", position, submitted)
        app.reject(submitted.request_id, "Kepala Balai", "Di luar wewenang.")
        approval = app.issue_rejection_letter(
            submitted.request_id, "Kasi", "Isi surat."
        )
        assert approval.letter is not None
        numbers.append(approval.letter["letter_number"])
        issued_at = approval.letter["issued_at"]

    # Month and year of the office's calendar on the day the letters were issued.
    issued = issued_at.astimezone(OFFICE_TIME_ZONE)
    assert numbers == [
        f"B-1/PK.210/F2.J/{issued:%m}/{issued:%Y}",
        f"B-2/PK.210/F2.J/{issued:%m}/{issued:%Y}",
    ]


def test_a_second_rejection_letter_is_refused() -> None:
    app, request_id = approval_with_a_pending_request()
    app.reject(request_id, "Kepala Balai", "Di luar wewenang.")
    app.issue_rejection_letter(request_id, "Kasi", "Isi surat.")

    with pytest.raises(DecisionConflictError):
        app.issue_rejection_letter(request_id, "Kasi", "Lagi.")


def test_an_unknown_request_is_not_found() -> None:
    app = ApprovalApplication(env=POPO)

    with pytest.raises(ApprovalNotFoundError):
        app.approve(uuid4(), "Kepala Balai", "Jadwalkan.")


def test_a_decision_and_its_letter_are_dated_by_their_own_events() -> None:
    app, request_id = approval_with_a_pending_request()
    entered = app.approval(request_id).modified_on

    rejected = app.reject(request_id, "Kepala Balai", "Di luar wewenang.")
    lettered = app.issue_rejection_letter(request_id, "Kasi", "Isi surat.")

    assert rejected.decided_at is not None and rejected.decided_at > entered
    assert lettered.letter is not None
    assert lettered.letter["issued_at"] == lettered.modified_on
    assert lettered.letter["issued_at"] > rejected.decided_at
