"""The wire format: CloudEvents attributes in headers, JSON payload."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from purnajual.contracts import EVENT_CLASSES, RequestRejected
from purnajual.envelope import EnvelopeError, envelope_for, open_envelope


def a_rejection(reason: str = "Bukan wewenang balai") -> RequestRejected:
    return RequestRejected(
        request_id=uuid4(),
        reference="PPJ-2026-00007",
        decided_by="Kepala Balai",
        reason=reason,
        decided_at=datetime(2026, 12, 4, 3, 0, tzinfo=UTC),
    )


def test_an_envelope_survives_the_trip_through_headers_and_payload() -> None:
    event = a_rejection("Ma'ruf: ꦱꦸꦫꦠ् — رفض 👩🏽‍🌾 e\u0301")
    envelope = envelope_for(
        producer="approval", position=42, time=datetime.now(UTC), event=event
    )

    received = open_envelope(envelope.headers(), envelope.payload())

    assert received == envelope
    assert isinstance(received.data, RequestRejected)
    assert received.data.reason == "Ma'ruf: ꦱꦸꦫꦠ् — رفض 👩🏽‍🌾 e\u0301"
    assert received.producer == "approval"


def test_headers_carry_the_deduplication_id_and_the_log_position() -> None:
    envelope = envelope_for(
        producer="approval", position=42, time=datetime.now(UTC), event=a_rejection()
    )

    headers = envelope.headers()

    assert headers["Nats-Msg-Id"] == "approval:42"
    assert headers["ce-sequence"] == "42"
    assert headers["ce-type"] == RequestRejected.TYPE
    assert headers["ce-subject"] == str(envelope.data.request_id)
    assert all(value.isascii() for value in headers.values())


def test_header_names_are_read_in_any_case() -> None:
    envelope = envelope_for(
        producer="approval", position=3, time=datetime.now(UTC), event=a_rejection()
    )
    shouted = {name.upper(): value for name, value in envelope.headers().items()}

    assert open_envelope(shouted, envelope.payload()) == envelope


def test_an_unknown_event_type_is_refused_by_name() -> None:
    envelope = envelope_for(
        producer="approval", position=3, time=datetime.now(UTC), event=a_rejection()
    )
    headers = {**envelope.headers(), "ce-type": "id.example.unknown.v9"}

    with pytest.raises(EnvelopeError, match="unknown event type"):
        open_envelope(headers, envelope.payload())


def test_a_malformed_payload_is_refused() -> None:
    envelope = envelope_for(
        producer="approval", position=3, time=datetime.now(UTC), event=a_rejection()
    )

    with pytest.raises(EnvelopeError, match="malformed"):
        open_envelope(envelope.headers(), b'{"request_id": "not a uuid"}')


def test_missing_headers_are_named() -> None:
    with pytest.raises(EnvelopeError, match="ce-sequence"):
        open_envelope({"ce-id": "x", "ce-source": "/s", "ce-type": "t"}, b"{}")


def test_every_event_class_has_a_unique_subject_and_versioned_type() -> None:
    subjects = [cls.SUBJECT for cls in EVENT_CLASSES]
    types = [cls.TYPE for cls in EVENT_CLASSES]

    assert len(set(subjects)) == len(subjects)
    assert all(t.endswith(".v1") for t in types)
    assert all(subject.count(".") == 2 for subject in subjects)
