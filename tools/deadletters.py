"""Inspects and replays the messages consumers set aside in the DEADLETTER stream.

``python -m tools.deadletters list`` shows each dead letter: its sequence, the
consumer that set it aside, the original subject and the reason.
``python -m tools.deadletters replay SEQUENCE`` publishes the original message
again on its original subject, marked for the one service that set it aside
(the others ignore it), and removes it from DEADLETTER. Replay after fixing the
cause: a message that still fails comes back to DEADLETTER.

``NATS_URL`` (default: the nats-server of ``make run``) says where to look.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import nats
from nats.js import JetStreamContext

from purnajual.contracts import DEAD_LETTER_STREAM_NAME
from purnajual.messaging import (
    CONSUMER_HEADER,
    DEAD_LETTER_REASON_HEADER,
    ORIGINAL_SUBJECT_HEADER,
    REPLAY_FOR_HEADER,
)

DEFAULT_NATS_URL = "nats://127.0.0.1:14222"


async def list_dead_letters(js: JetStreamContext) -> list[str]:
    """One line per dead letter, oldest first."""
    info = await js.stream_info(DEAD_LETTER_STREAM_NAME)
    lines: list[str] = []
    if not info.state.messages:
        return lines
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            message = await js.get_msg(DEAD_LETTER_STREAM_NAME, sequence)
        except nats.js.errors.NotFoundError:
            continue
        headers = message.headers or {}
        lines.append(
            f"{sequence:>6}  {headers.get(CONSUMER_HEADER, '?'):<28} "
            f"{headers.get(ORIGINAL_SUBJECT_HEADER, '?'):<36} "
            f"{headers.get(DEAD_LETTER_REASON_HEADER, '')}"
        )
    return lines


async def replay(js: JetStreamContext, sequence: int) -> str:
    """Re-publishes one dead letter for the service that set it aside."""
    message = await js.get_msg(DEAD_LETTER_STREAM_NAME, sequence)
    headers = dict(message.headers or {})
    subject = headers.pop(ORIGINAL_SUBJECT_HEADER)
    consumer = headers.pop(CONSUMER_HEADER)
    headers.pop(DEAD_LETTER_REASON_HEADER, None)
    service = consumer.split("-from-", 1)[0]
    headers[REPLAY_FOR_HEADER] = service
    headers["Nats-Msg-Id"] = f"replay:{DEAD_LETTER_STREAM_NAME}:{sequence}"
    await js.publish(subject, message.data or b"", headers=headers, timeout=5)
    await js.delete_msg(DEAD_LETTER_STREAM_NAME, sequence)
    return f"replayed {sequence} on {subject} for {service}"


async def main_async(arguments: argparse.Namespace) -> None:
    client = await nats.connect(arguments.nats_url, connect_timeout=3)
    try:
        js = client.jetstream(timeout=5)
        if arguments.command == "list":
            lines = await list_dead_letters(js)
            print("\n".join(lines) if lines else "no dead letters")
        else:
            print(await replay(js, arguments.sequence))
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS_URL)
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="show every dead letter")
    replaying = commands.add_parser("replay", help="publish one again")
    replaying.add_argument("sequence", type=int)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
