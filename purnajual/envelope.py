"""CloudEvents 1.0 in binary mode over NATS: attributes in ``ce-*`` headers.

The payload is the integration event as JSON. Header values are
percent-encoded where the NATS binding asks for it (space, ``"``, ``%`` and
anything outside printable ASCII). Header names are read case-insensitively,
because nats-py hands them over as a case-sensitive ``dict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote

from pydantic import ValidationError

from purnajual.contracts import EVENT_CLASS_BY_TYPE, IntegrationEvent

SPEC_VERSION = "1.0"
NATS_MSG_ID = "Nats-Msg-Id"
CE_ID = "ce-id"
CE_SOURCE = "ce-source"
CE_SPECVERSION = "ce-specversion"
CE_TYPE = "ce-type"
CE_TIME = "ce-time"
CE_SUBJECT = "ce-subject"
CE_DATACONTENTTYPE = "ce-datacontenttype"
CE_CORRELATIONID = "ce-correlationid"
CE_SEQUENCE = "ce-sequence"
JSON_CONTENT_TYPE = "application/json"
_SAFE_HEADER_CHARACTERS = "".join(
    chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%'
)


class EnvelopeError(Exception):
    """A message that is not a well-formed event of a known type."""


@dataclass(frozen=True)
class Envelope:
    """One integration event with its CloudEvents attributes.

    ``sequence`` is the position of the event in its producer's event log
    (the notification id). Consumers track it; it is never the stream
    sequence, which changes if a stream is rebuilt.
    """

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    sequence: int
    data: IntegrationEvent

    @property
    def producer(self) -> str:
        return self.source.rsplit("/", 1)[-1]

    def headers(self) -> dict[str, str]:
        """NATS headers for publishing, including the de-duplication id."""
        attributes = {
            CE_SPECVERSION: SPEC_VERSION,
            CE_ID: self.id,
            CE_SOURCE: self.source,
            CE_TYPE: self.type,
            CE_TIME: self.time.isoformat(),
            CE_SUBJECT: self.subject,
            CE_DATACONTENTTYPE: JSON_CONTENT_TYPE,
            CE_CORRELATIONID: self.subject,
            CE_SEQUENCE: str(self.sequence),
        }
        encoded = {
            name: quote(value, safe=_SAFE_HEADER_CHARACTERS)
            for name, value in attributes.items()
        }
        encoded[NATS_MSG_ID] = self.id
        return encoded

    def payload(self) -> bytes:
        return self.data.model_dump_json().encode()


def envelope_for(
    *, producer: str, position: int, time: datetime, event: IntegrationEvent
) -> Envelope:
    """Wraps an integration event taken from position ``position`` of a log."""
    return Envelope(
        id=f"{producer}:{position}",
        source=f"/purnajual/{producer}",
        type=event.TYPE,
        subject=str(event.request_id),
        time=time,
        sequence=position,
        data=event,
    )


def open_envelope(headers: dict[str, str] | None, payload: bytes) -> Envelope:
    """Reads a received message back into an envelope.

    Raises ``EnvelopeError`` naming what is missing or malformed.
    """
    # Header names are case-insensitive on the wire.
    received = {name.lower(): unquote(value) for name, value in (headers or {}).items()}

    # Every attribute we rely on must be there before the payload is looked at.
    missing = [
        name
        for name in (CE_ID, CE_SOURCE, CE_TYPE, CE_TIME, CE_SUBJECT, CE_SEQUENCE)
        if not received.get(name)
    ]
    if missing:
        raise EnvelopeError(f"missing headers: {', '.join(missing)}")
    event_class = EVENT_CLASS_BY_TYPE.get(received[CE_TYPE])
    if event_class is None:
        raise EnvelopeError(f"unknown event type {received[CE_TYPE]!r}")

    # The attributes and the payload are validated as one.
    try:
        sequence = int(received[CE_SEQUENCE])
        time = datetime.fromisoformat(received[CE_TIME])
        data = event_class.model_validate_json(payload)
    except (ValueError, ValidationError) as error:
        raise EnvelopeError(f"malformed {received[CE_TYPE]}: {error}") from error
    return Envelope(
        id=received[CE_ID],
        source=received[CE_SOURCE],
        type=received[CE_TYPE],
        subject=received[CE_SUBJECT],
        time=time,
        sequence=sequence,
        data=data,
    )
