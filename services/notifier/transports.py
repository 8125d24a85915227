"""How a message leaves: SMTP, a WhatsApp HTTP gateway, or files in an outbox.

Sending is at least once: if the notifier stops after the server accepted a
message and before it recorded the delivery, it sends again after restart.
Every message carries the notification id (the email Message-ID, the
gateway's idempotency key, the outbox file name) so the receiving side can
drop the repeat; the outbox simply overwrites the same file.
"""

from __future__ import annotations

import json
import os
import smtplib
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from uuid import UUID

import httpx

from services.notifier.domain import NotifierError


class DeliveryError(NotifierError):
    """The server or gateway did not take the message; it will be retried."""


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: UUID
    reference: str
    channel: str
    destination: str
    recipient_name: str
    subject: str
    text: str
    in_reply_to: str | None = None


class Transport(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Hands the message over. Raises ``DeliveryError``."""


class FileOutbox:
    """Writes each message as JSON under ``<outbox>/<channel>/<id>.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: OutgoingMessage) -> None:
        folder = self.directory / message.channel
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{message.notification_id}.json"
            partial = target.with_suffix(".json.partial")
            content = {
                **asdict(message),
                "notification_id": str(message.notification_id),
            }
            partial.write_text(
                json.dumps(content, ensure_ascii=False, indent=2), "utf-8"
            )
            os.replace(partial, target)
        except OSError as error:
            raise DeliveryError(f"outbox not writable: {error}") from error


class SmtpTransport:
    """Sends email through the configured SMTP server."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None,
        password: str | None,
        starttls: bool,
        timeout_seconds: float = 10,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout_seconds = timeout_seconds

    def send(self, message: OutgoingMessage) -> None:
        try:
            email = self._compose(message)
        except ValueError as error:
            raise DeliveryError(f"cannot write this email: {error}") from error
        try:
            with smtplib.SMTP(
                self.host, self.port, timeout=self.timeout_seconds
            ) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}") from error

    def _compose(self, message: OutgoingMessage) -> EmailMessage:
        """The email; raises ``ValueError`` for an address or header it refuses."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.destination
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = f"<{message.notification_id}@purnajual.biblembang.id>"
        email["X-Purnajual-Reference"] = message.reference
        if message.in_reply_to:
            # The id came from outside: no whitespace may reach a header.
            thread = "".join(message.in_reply_to.split())
            if not thread.startswith("<"):
                thread = f"<{thread}>"
            email["In-Reply-To"] = thread
            email["References"] = thread
        email.set_content(message.text)
        return email


def whatsapp_number(phone: str) -> str:
    """The international number WhatsApp expects: "0812-1111 2222" is "6281211112222".

    Indonesian numbers written with the trunk prefix 0 get the country code 62;
    numbers written with a + keep theirs.
    """
    digits = "".join(c for c in phone if c.isdigit())
    if phone.strip().startswith("+"):
        return digits
    if digits.startswith("0"):
        return "62" + digits[1:]
    return digits


class WhatsAppGateway:
    """Posts the message to a WhatsApp gateway's HTTP API.

    The request is ``POST <url>`` with JSON ``{"to", "text", "reference",
    "idempotency_key"}`` and a bearer token; any 2xx answer means accepted.
    """

    def __init__(
        self, *, url: str, token: str | None, timeout_seconds: float = 10
    ) -> None:
        self.url = url
        self.token = token
        self.timeout_seconds = timeout_seconds

    def send(self, message: OutgoingMessage) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = {
            "to": whatsapp_number(message.destination),
            "text": f"*{message.subject}*\n\n{message.text}",
            "reference": message.reference,
            "idempotency_key": str(message.notification_id),
        }
        try:
            response = httpx.post(
                self.url, json=payload, headers=headers, timeout=self.timeout_seconds
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"WhatsApp gateway unreachable: {error}") from error
        if not response.is_success:
            raise DeliveryError(
                f"WhatsApp gateway answered {response.status_code}: "
                f"{response.text[:200]}"
            )
