"""Approval's HTTP API: the head's inbox and the decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from purnajual.inputs import Text
from purnajual.web import Responses, request_id_finder, runtime_of
from services.approval.application import ApprovalApplication
from services.approval.domain import Approval, ApprovalStatus

NOT_FOUND: Responses = {404: {"description": "Approval does not know this request"}}
CONFLICT: Responses = {409: {"description": "Not allowed in the request's status"}}


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decided_by: Annotated[Text, Field(max_length=120, examples=["Kepala Balai"])]
    disposition: Annotated[
        Text,
        Field(
            max_length=2000,
            description="The head's instruction (disposisi) to the section head.",
            examples=["Kasi Jasa Produksi: jadwalkan uji semen beku minggu depan."],
        ),
    ]


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decided_by: Annotated[Text, Field(max_length=120)]
    reason: Annotated[Text, Field(max_length=2000)]


class RejectionLetterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drafted_by: Annotated[Text, Field(max_length=120, examples=["Kasi Jasa Produksi"])]
    body: Annotated[Text, Field(max_length=20000, description="The letter's text.")]


class ApprovalOut(BaseModel):
    request_id: UUID
    reference: str
    status: ApprovalStatus
    submitted_at: datetime
    request: dict[str, Any]
    decided_by: str | None
    decided_at: datetime | None
    disposition: str | None
    reason: str | None
    rejection_letter: dict[str, Any] | None


class InboxItem(BaseModel):
    request_id: UUID
    reference: str
    status: ApprovalStatus
    submitted_at: datetime
    institution: str
    services: list[str]


def approval_app(request: Request) -> ApprovalApplication:
    app = runtime_of(request).app
    assert isinstance(app, ApprovalApplication)
    return app


App = Annotated[ApprovalApplication, Depends(approval_app)]
RequestId = Annotated[
    UUID, Depends(request_id_finder(lambda request: approval_app(request).view))
]
router = APIRouter(tags=["approvals"])


@router.get("/approvals", response_model=list[InboxItem], summary="The head's inbox")
def list_approvals(
    app: App, status: Annotated[ApprovalStatus | None, Query()] = None
) -> list[InboxItem]:
    """Requests by approval status, oldest first; ``status=pending`` is the inbox."""
    return [
        InboxItem(
            request_id=row.request_id,
            reference=row.reference,
            status=row.status,
            submitted_at=row.submitted_at,
            institution=row.institution,
            services=row.services,
        )
        for row in app.view.select(status)
    ]


@router.get(
    "/approvals/{request_id}",
    response_model=ApprovalOut,
    responses=NOT_FOUND,
    summary="One request's approval",
)
def read_approval(request_id: RequestId, app: App) -> ApprovalOut:
    """The request as the head sees it, with the decision if there is one."""
    return _approval_out(app.approval(request_id))


@router.post(
    "/approvals/{request_id}/approve",
    response_model=ApprovalOut,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Approve a pending request (step 2)",
)
def approve(request_id: RequestId, body: ApproveIn, app: App) -> ApprovalOut:
    """The head approves, with a disposition to the section head."""
    return _approval_out(app.approve(request_id, body.decided_by, body.disposition))


@router.post(
    "/approvals/{request_id}/reject",
    response_model=ApprovalOut,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Reject a pending request (step 2)",
)
def reject(request_id: RequestId, body: RejectIn, app: App) -> ApprovalOut:
    """The head rejects, giving the reason the letter will carry."""
    return _approval_out(app.reject(request_id, body.decided_by, body.reason))


@router.post(
    "/approvals/{request_id}/rejection-letter",
    response_model=ApprovalOut,
    responses={**NOT_FOUND, **CONFLICT},
    summary="Issue the numbered rejection letter (step 3)",
)
def issue_rejection_letter(
    request_id: RequestId, body: RejectionLetterIn, app: App
) -> ApprovalOut:
    """The section head's letter to the stakeholder, numbered officially."""
    return _approval_out(
        app.issue_rejection_letter(request_id, body.drafted_by, body.body)
    )


def _approval_out(approval: Approval) -> ApprovalOut:
    return ApprovalOut(
        request_id=approval.id,
        reference=approval.reference,
        status=approval.status,
        submitted_at=approval.submitted_at,
        request=approval.request,
        decided_by=approval.decided_by,
        decided_at=approval.decided_at,
        disposition=approval.disposition,
        reason=approval.reason,
        rejection_letter=approval.letter,
    )
