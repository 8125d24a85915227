"""Writes ``docs/asyncapi.yaml``: the event contract, from the code that is it.

The payload schemas come from ``purnajual.contracts``; who consumes what comes
from each service's ``messaging.CONSUMES``. A test fails when the committed
document differs from what this produces, so the document cannot drift.

``python -m tools.asyncapi`` rewrites the file; ``--check`` only compares.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from purnajual.contracts import (
    CONTRACT_VERSION,
    DEAD_LETTER_STREAM_NAME,
    EVENT_CLASSES,
    STREAMS,
    IntegrationEvent,
)
from services.approval import messaging as approval
from services.fieldwork import messaging as fieldwork
from services.intake import messaging as intake
from services.notifier import messaging as notifier
from services.scheduling import messaging as scheduling

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml"
CONSUMERS = {
    "intake": intake.CONSUMES,
    "approval": approval.CONSUMES,
    "scheduling": scheduling.CONSUMES,
    "fieldwork": fieldwork.CONSUMES,
    "notifier": notifier.CONSUMES,
}
HEADERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "CloudEvents 1.0 attributes in binary mode (NATS binding): one header per "
        "attribute, values percent-encoded where the binding asks. Read header "
        "names case-insensitively."
    ),
    "required": [
        "Nats-Msg-Id",
        "ce-specversion",
        "ce-id",
        "ce-source",
        "ce-type",
        "ce-time",
        "ce-subject",
        "ce-sequence",
    ],
    "properties": {
        "Nats-Msg-Id": {
            "type": "string",
            "description": "Equals ce-id; JetStream drops a repeat within 2 minutes",
        },
        "ce-specversion": {"type": "string", "const": "1.0"},
        "ce-id": {
            "type": "string",
            "description": "<producer>:<position in the producer's event log>",
            "examples": ["intake:42"],
        },
        "ce-source": {"type": "string", "examples": ["/purnajual/intake"]},
        "ce-type": {"type": "string", "description": "Versioned event type"},
        "ce-time": {"type": "string", "format": "date-time"},
        "ce-subject": {"type": "string", "description": "The request id"},
        "ce-correlationid": {"type": "string", "description": "The request id"},
        "ce-datacontenttype": {"type": "string", "const": "application/json"},
        "ce-sequence": {
            "type": "string",
            "description": (
                "Position in the producer's event log; consumers track it to "
                "apply each event once and in order"
            ),
        },
    },
}


def _producer(event_class: type[IntegrationEvent]) -> str:
    return event_class.SUBJECT.split(".", 1)[0]


def _matches(subject: str, pattern: str) -> bool:
    if pattern.endswith(".>"):
        return subject.startswith(pattern[:-1])
    return subject == pattern


def build() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a plain mapping."""
    schemas: dict[str, Any] = {"CloudEventHeaders": HEADERS_SCHEMA}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    for event_class in EVENT_CLASSES:
        name = event_class.__name__
        schema = event_class.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (event_class.__doc__ or name).strip().split("\n")[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "correlationId": {"location": "$message.header#/ce-subject"},
            "x-cloudevents-type": event_class.TYPE,
        }
        producer = _producer(event_class)
        channels[name] = {
            "address": event_class.SUBJECT,
            "description": (
                f"Published by {producer} on stream {STREAMS[producer].name}."
            ),
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        channel = {"$ref": f"#/channels/{name}"}
        operations[f"{producer}Sends{name}"] = {
            "action": "send",
            "channel": channel,
            "summary": f"{producer} publishes it from its event log (outbox relay).",
        }
        for consumer, consumes in CONSUMERS.items():
            for stream, subjects in consumes:
                if stream.service == producer and any(
                    _matches(event_class.SUBJECT, pattern) for pattern in subjects
                ):
                    operations[f"{consumer}Receives{name}"] = {
                        "action": "receive",
                        "channel": channel,
                        "summary": (
                            f"{consumer} applies it once, in order, through the "
                            f"durable pull consumer {consumer}-from-{producer}."
                        ),
                    }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "purnajual integration events",
            "version": CONTRACT_VERSION,
            "description": (
                "The events the five purnajual services publish on NATS JetStream. "
                "One stream per producing service ("
                + ", ".join(spec.name for spec in STREAMS.values())
                + f"; unprocessable messages go to {DEAD_LETTER_STREAM_NAME}), "
                "subjects <service>.<aggregate>.<event>, JSON payloads, CloudEvents "
                "attributes in ce-* headers. Readers ignore fields they do not know; "
                "a breaking change gets a new ce-type version."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {
                "host": "127.0.0.1:14222",
                "protocol": "nats",
                "description": "The nats-server that `make run` starts.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    header = "# Generated by `python -m tools.asyncapi` from purnajual/contracts.py.\n"
    return header + yaml.safe_dump(build(), sort_keys=False, allow_unicode=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Writes docs/asyncapi.yaml.")
    parser.add_argument("--check", action="store_true", help="only compare")
    arguments = parser.parse_args()
    text = render()
    if arguments.check:
        if DOCUMENT.read_text(encoding="utf-8") != text:
            sys.exit(f"{DOCUMENT} is out of date: run python -m tools.asyncapi")
        return
    DOCUMENT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
