"""Notifier's HTTP API: what was sent to whom, and confirming deliveries by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from purnajual.inputs import Text
from purnajual.web import runtime_of
from services.notifier.application import NotifierApplication
from services.notifier.domain import (
    DeliveryChannel,
    Notification,
    NotificationStatus,
    Purpose,
)


class NotificationOut(BaseModel):
    notification_id: UUID
    request_id: UUID
    reference: str
    purpose: Purpose
    status: NotificationStatus
    channel: DeliveryChannel | None
    destination: str | None
    recipient_name: str | None
    subject: str
    body: str
    attempts: int
    last_error: str | None
    delivered: bool
    delivered_at: datetime | None
    confirmed_by: str | None


class ConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirmed_by: Annotated[
        Text, Field(max_length=120, examples=["Petugas front office"])
    ]
    note: Annotated[
        Text | None,
        Field(max_length=1000, examples=["Dikirim via pos tercatat RR123456789ID"]),
    ] = None


def notifier_app(request: Request) -> NotifierApplication:
    app = runtime_of(request).app
    assert isinstance(app, NotifierApplication)
    return app


App = Annotated[NotifierApplication, Depends(notifier_app)]
router = APIRouter(tags=["notifications"])


@router.get(
    "/notifications",
    response_model=list[NotificationOut],
    summary="What was sent to whom, and whether it arrived",
)
def list_notifications(
    app: App,
    request_id: UUID | None = None,
    reference: Annotated[
        str | None,
        Query(max_length=100, description="The request's reference instead of its id"),
    ] = None,
    status: Annotated[NotificationStatus | None, Query()] = None,
) -> list[NotificationOut]:
    """By request, or by status: ``awaiting_confirmation`` is staff's task list."""
    if reference is not None and request_id is None:
        # An unknown reference lists nothing, as an unknown id does.
        request_id = app.view.request_id_of(reference) or UUID(int=0)
    rows = app.view.select(request_id=request_id, status=status)
    return [_notification_out(app.notification(row.notification_id)) for row in rows]


@router.get(
    "/notifications/{notification_id}",
    response_model=NotificationOut,
    responses={404: {"description": "No such notification"}},
    summary="One notification",
)
def read_notification(notification_id: UUID, app: App) -> NotificationOut:
    """The message, where it goes and its delivery state."""
    return _notification_out(app.notification(notification_id))


@router.post(
    "/notifications/{notification_id}/delivered",
    response_model=NotificationOut,
    responses={
        404: {"description": "No such notification"},
        409: {"description": "Not awaiting a confirmation"},
    },
    summary="Confirm a delivery made by hand (post, fax, phone, walk-in)",
)
def confirm_delivery(
    notification_id: UUID, body: ConfirmationIn, app: App
) -> NotificationOut:
    """Staff record that the stakeholder received the message."""
    return _notification_out(
        app.confirm_delivery(notification_id, body.confirmed_by, body.note)
    )


def _notification_out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        notification_id=notification.id,
        request_id=notification.request_id,
        reference=notification.reference,
        purpose=notification.purpose,
        status=notification.status,
        channel=notification.channel,
        destination=notification.destination,
        recipient_name=notification.recipient_name,
        subject=notification.subject,
        body=notification.body,
        attempts=notification.attempts,
        last_error=notification.last_error,
        delivered=notification.status == NotificationStatus.DELIVERED,
        delivered_at=notification.delivered_at,
        confirmed_by=notification.confirmed_by,
    )
