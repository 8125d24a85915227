"""Notifier's domain: who to tell, what to tell them, and whether it arrived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from purnajual.errors import ConflictError, ServiceError

NOTIFIER_NAMESPACE = uuid5(NAMESPACE_URL, "https://purnajual.biblembang.id/notifier")


class Purpose(StrEnum):
    RECEIPT = "receipt"
    REJECTION_LETTER = "rejection_letter"
    SCHEDULE = "schedule"
    SCHEDULE_REVISED = "schedule_revised"
    BERITA_ACARA = "berita_acara"
    OPERATIONS_ALERT = "operations_alert"


class DeliveryChannel(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    MANUAL = "manual"


class NotificationStatus(StrEnum):
    AWAITING_RECIPIENT = "awaiting_recipient"
    QUEUED = "queued"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    DELIVERED = "delivered"
    # A schedule replaced by a revision before it reached the stakeholder.
    SUPERSEDED = "superseded"


class NotifierError(ServiceError):
    """Root of notifier's errors."""


class NotificationConflictError(NotifierError, ConflictError):
    """The notification is not in a state that allows this command."""


def delivery_channel_for(
    request_channel: str, contact: dict[str, Any]
) -> tuple[DeliveryChannel, str]:
    """Answer on the channel the stakeholder used, when a machine can.

    Email and WhatsApp requests are answered by email and WhatsApp. Website
    and online-form requests by email if given, else WhatsApp. Letters, faxes,
    calls and visits are answered by staff: a delivery task to confirm.
    """
    email, phone = contact.get("email"), contact.get("phone")
    if request_channel == "email" and email:
        return DeliveryChannel.EMAIL, email
    if request_channel == "whatsapp" and phone:
        return DeliveryChannel.WHATSAPP, phone
    if request_channel in ("website", "online_form"):
        if email:
            return DeliveryChannel.EMAIL, email
        if phone:
            return DeliveryChannel.WHATSAPP, phone
    destination = {
        "post": contact.get("address"),
        "fax": phone,
        "phone": phone,
    }.get(request_channel) or (contact.get("address") or phone or email or "")
    return DeliveryChannel.MANUAL, destination


def notification_id_for(request_id: UUID, purpose: Purpose, about: str = "") -> UUID:
    """Each purpose is told once per request; an alert or a revised schedule
    once per thing it is about."""
    key = (
        f"{purpose.value}\x1f{about}"
        if purpose in (Purpose.OPERATIONS_ALERT, Purpose.SCHEDULE_REVISED)
        else purpose.value
    )
    return uuid5(NOTIFIER_NAMESPACE, f"notification\x1f{request_id}\x1f{key}")


class Recipient(Aggregate):
    """How to reach the stakeholder of one request, and who waits to know.

    Events of one request can reach the notifier out of order (a rejection
    letter before the submission, when one consumer lags). A notification
    composed before the contact is known is parked here; registering the
    contact addresses it. Both sides write this one aggregate, so the store
    serialises them and no notification is left parked.
    """

    TOPIC = "notifier.Recipient"

    class Created(Aggregate.Created):
        TOPIC = "notifier.Recipient.Created"

    class Opened(Created):
        TOPIC = "notifier.Recipient.Opened"
        request_id: UUID

    class ContactRegistered(Aggregate.Event):
        """Version 2 keeps the channel's message id, to answer in its thread."""

        TOPIC = "notifier.Recipient.ContactRegistered"
        class_version = 2
        reference: str
        request_channel: str
        contact: dict[str, Any]
        channel_message_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["channel_message_id"] = None

    class NotificationParked(Aggregate.Event):
        TOPIC = "notifier.Recipient.NotificationParked"
        notification_id: UUID

    @staticmethod
    def create_id(request_id: UUID) -> UUID:
        return uuid5(NOTIFIER_NAMESPACE, f"recipient\x1f{request_id}")

    @event(Opened)
    def __init__(self, request_id: UUID) -> None:
        self.request_id = request_id
        self.reference: str | None = None
        self.request_channel: str | None = None
        self.contact: dict[str, Any] | None = None
        self.channel_message_id: str | None = None
        self.parked: list[UUID] = []

    @event(ContactRegistered)
    def register_contact(
        self,
        reference: str,
        request_channel: str,
        contact: dict[str, Any],
        channel_message_id: str | None,
    ) -> None:
        self.reference = reference
        self.request_channel = request_channel
        self.contact = contact
        self.channel_message_id = channel_message_id
        self.parked = []

    @event(NotificationParked)
    def park(self, notification_id: UUID) -> None:
        self.parked.append(notification_id)


class Notification(Aggregate):
    """One message to the stakeholder, from composition to delivery."""

    TOPIC = "notifier.Notification"

    class Created(Aggregate.Created):
        TOPIC = "notifier.Notification.Created"

    class Composed(Created):
        TOPIC = "notifier.Notification.Composed"
        request_id: UUID
        reference: str
        purpose: str
        subject: str
        body: str
        source_event: str

    class Addressed(Aggregate.Event):
        """Version 2 names the message this one answers (email threading)."""

        TOPIC = "notifier.Notification.Addressed"
        class_version = 2
        channel: str
        destination: str
        recipient_name: str
        in_reply_to: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["in_reply_to"] = None

    class DeliveryFailed(Aggregate.Event):
        TOPIC = "notifier.Notification.DeliveryFailed"
        attempt: int
        error: str
        retry_at: datetime

    class HandedToStaff(Aggregate.Event):
        TOPIC = "notifier.Notification.HandedToStaff"
        reason: str

    class Superseded(Aggregate.Event):
        TOPIC = "notifier.Notification.Superseded"
        by_notification: UUID

    class Delivered(Aggregate.Event):
        TOPIC = "notifier.Notification.Delivered"
        request_id: UUID
        reference: str
        purpose: str
        channel: str
        confirmed_by: str | None
        note: str | None

        def apply(self, aggregate: Notification) -> None:
            aggregate.status = NotificationStatus.DELIVERED
            aggregate.delivered_at = self.timestamp
            aggregate.confirmed_by = self.confirmed_by

    @staticmethod
    def create_id(request_id: UUID, purpose: str, source_event: str = "") -> UUID:
        return notification_id_for(request_id, Purpose(purpose), source_event)

    @event(Composed)
    def __init__(
        self,
        request_id: UUID,
        reference: str,
        purpose: str,
        subject: str,
        body: str,
        source_event: str,
    ) -> None:
        self.request_id = request_id
        self.reference = reference
        self.purpose = Purpose(purpose)
        self.subject = subject
        self.body = body
        self.source_event = source_event
        self.status = NotificationStatus.AWAITING_RECIPIENT
        self.channel: DeliveryChannel | None = None
        self.destination: str | None = None
        self.recipient_name: str | None = None
        self.in_reply_to: str | None = None
        self.attempts = 0
        self.last_error: str | None = None
        self.retry_at: datetime | None = None
        self.delivered_at: datetime | None = None
        self.confirmed_by: str | None = None

    @event(Addressed)
    def address(
        self,
        channel: str,
        destination: str,
        recipient_name: str,
        in_reply_to: str | None,
    ) -> None:
        """Fixes where the message goes; machines send, staff deliver by hand."""
        self.channel = DeliveryChannel(channel)
        self.destination = destination
        self.recipient_name = recipient_name
        self.in_reply_to = in_reply_to
        self.status = (
            NotificationStatus.AWAITING_CONFIRMATION
            if self.channel == DeliveryChannel.MANUAL
            else NotificationStatus.QUEUED
        )

    def record_failure(self, error: str, backoff: timedelta) -> None:
        self._fail(
            attempt=self.attempts + 1, error=error, retry_at=datetime.now(UTC) + backoff
        )

    @event(DeliveryFailed)
    def _fail(self, attempt: int, error: str, retry_at: datetime) -> None:
        self.attempts = attempt
        self.last_error = error
        self.retry_at = retry_at

    @event(HandedToStaff)
    def hand_to_staff(self, reason: str) -> None:
        """Sending keeps failing: staff deliver it another way and confirm."""
        self.status = NotificationStatus.AWAITING_CONFIRMATION
        self.last_error = reason

    @property
    def outstanding(self) -> bool:
        """Composed and not yet delivered (nor superseded)."""
        return self.status not in (
            NotificationStatus.DELIVERED,
            NotificationStatus.SUPERSEDED,
        )

    @event(Superseded)
    def supersede(self, by_notification: UUID) -> None:
        """A newer version replaces this one; it is no longer to be delivered."""
        self.status = NotificationStatus.SUPERSEDED

    def mark_sent(self) -> None:
        """The SMTP server, gateway or outbox accepted the message."""
        self._deliver(None, None)

    def confirm_delivery(self, confirmed_by: str, note: str | None) -> None:
        """Staff confirm a delivery by hand.

        Raises ``NotificationConflictError`` unless a staff task is waiting.
        """
        if self.status != NotificationStatus.AWAITING_CONFIRMATION:
            raise NotificationConflictError(
                f"Notification {self.id} is {self.status.value}; only a delivery "
                "awaiting confirmation can be confirmed.",
                notification_id=str(self.id),
                current_status=self.status.value,
            )
        self._deliver(confirmed_by, note)

    def _deliver(self, confirmed_by: str | None, note: str | None) -> None:
        assert self.channel is not None
        self.trigger_event(
            self.Delivered,
            request_id=self.request_id,
            reference=self.reference,
            purpose=self.purpose.value,
            channel=self.channel.value,
            confirmed_by=confirmed_by,
            note=note,
        )
