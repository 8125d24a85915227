"""Walks example requests through every step of the procedure over HTTP.

Run the system first (``make run``), then ``make walkthrough`` or
``python -m examples.walkthrough [example.json ...]``. Each example is a
request plus what the head, the section head and the officers do with it. The
walk is resumable: a step already taken is not taken again, so running it
twice shows the same request. At the end it prints the request's timeline as
intake shows it, and the events of that request found in the NATS streams.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats

EXAMPLES_DIR = Path(__file__).parent
BUSY_RETRIES = 5
OFFICE_TIME_ZONE = ZoneInfo("Asia/Jakarta")
STREAMS = ("INTAKE", "APPROVAL", "SCHEDULING", "FIELDWORK", "NOTIFIER")
FINAL_STATUSES = ("berita_acara_delivered", "rejection_letter_delivered")


class Services:
    """Where each service listens; defaults are those of ``make run``."""

    def __init__(self, base_urls: dict[str, str] | None = None) -> None:
        defaults = {
            "intake": "http://127.0.0.1:8001",
            "approval": "http://127.0.0.1:8002",
            "scheduling": "http://127.0.0.1:8003",
            "fieldwork": "http://127.0.0.1:8004",
            "notifier": "http://127.0.0.1:8005",
        }
        for name in defaults:
            defaults[name] = os.environ.get(f"{name.upper()}_URL", defaults[name])
        self.urls = {**defaults, **(base_urls or {})}
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(
        self, method: str, service: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """One request; a 503 (store busy or briefly down) is retried as told."""
        for _ in range(BUSY_RETRIES):
            response = self.http.request(method, self.urls[service] + path, **kwargs)
            if response.status_code != 503:
                break
            time.sleep(min(float(response.headers.get("retry-after", 1)), 5))
        return response

    def wait_for(
        self, service: str, path: str, timeout: float = 30, **params: Any
    ) -> dict[str, Any]:
        """Polls until the resource exists: events take a moment to arrive."""
        return self.wait_until(service, path, lambda _: True, timeout, **params)

    def wait_until(
        self,
        service: str,
        path: str,
        condition: Callable[[dict[str, Any]], bool],
        timeout: float = 30,
        **params: Any,
    ) -> dict[str, Any]:
        """Polls until the resource exists and meets ``condition``."""

        def found() -> dict[str, Any] | None:
            response = self.call("GET", service, path, params=params)
            if response.status_code != 200:
                return None
            body: dict[str, Any] = response.json()
            return body if condition(body) else None

        return _poll(found, timeout, f"{service}{path} never reached the state wanted")

    def wait_for_notification(
        self, request_id: str, purpose: str, timeout: float = 30
    ) -> dict[str, Any]:
        """Polls until the message is delivered, or waits for staff to deliver."""

        def found() -> dict[str, Any] | None:
            listed = self.call(
                "GET", "notifier", "/notifications", params={"request_id": request_id}
            ).json()
            for notification in listed:
                if notification["purpose"] == purpose and notification["status"] in (
                    "delivered",
                    "awaiting_confirmation",
                ):
                    return dict(notification)
            return None

        return _poll(found, timeout, f"no {purpose} notification for {request_id}")


def _poll(
    found: Callable[[], dict[str, Any] | None], timeout: float, failure: str
) -> dict[str, Any]:
    """Asks ``found`` every tenth of a second until it answers or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        answer = found()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(failure)
        time.sleep(0.1)


def expect(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise SystemExit(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text}"
        )
    return response.json()


def visit_today(today: str) -> dict[str, Any]:
    """The walk carries the visit out today, whatever day today is, so on a
    weekend or a holiday the officers are said to work it."""
    return {"visit_start": today, "visit_end": today, "work_on_closed_days": True}


def walk(
    services: Services, example: dict[str, Any], say: Any = print
) -> dict[str, Any]:
    """Takes one example through the procedure; answers intake's final view."""
    submitted = expect(
        services.call("POST", "intake", "/requests", json=example["request"]), 200, 201
    )
    request_id, reference = submitted["request_id"], submitted["reference"]
    say(f"1 submitted        {reference} (request {request_id})")

    approval = services.wait_for("approval", f"/approvals/{request_id}")
    if "approve" in example and approval["status"] == "pending":
        expect(
            services.call(
                "POST",
                "approval",
                f"/approvals/{request_id}/approve",
                json=example["approve"],
            ),
            200,
        )
        say("2 approved         by " + example["approve"]["decided_by"])
    if "reject" in example and approval["status"] == "pending":
        expect(
            services.call(
                "POST",
                "approval",
                f"/approvals/{request_id}/reject",
                json=example["reject"],
            ),
            200,
        )
        say("2 rejected         " + example["reject"]["reason"])
    if "rejection_letter" in example:
        approval = services.wait_for("approval", f"/approvals/{request_id}")
        if approval["status"] == "rejected":
            letter = expect(
                services.call(
                    "POST",
                    "approval",
                    f"/approvals/{request_id}/rejection-letter",
                    json=example["rejection_letter"],
                ),
                200,
            )
            say("3 rejection letter " + letter["rejection_letter"]["letter_number"])

    if "schedule" in example:
        schedule = services.wait_for("scheduling", f"/schedules/{request_id}")
        if schedule["status"] == "awaiting":
            today = datetime.now(OFFICE_TIME_ZONE).date().isoformat()
            body = {**example["schedule"], **visit_today(today)}
            issued = expect(
                services.call(
                    "POST", "scheduling", f"/schedules/{request_id}", json=body
                ),
                201,
            )
            say(
                "4 scheduled        "
                + issued["schedule"]["assignment_number"]
                + f" on {today}"
            )

    if "revise_schedule" in example:
        schedule = services.wait_for("scheduling", f"/schedules/{request_id}")
        if schedule["status"] == "scheduled" and not schedule["revisions"]:
            # The stakeholder has the first schedule when the plan changes.
            services.wait_for_notification(request_id, "schedule")
            today = datetime.now(OFFICE_TIME_ZONE).date().isoformat()
            body = {**example["revise_schedule"], **visit_today(today)}
            revised = expect(
                services.call(
                    "POST",
                    "scheduling",
                    f"/schedules/{request_id}/revisions",
                    json=body,
                ),
                201,
            )
            say(
                "4 schedule revised "
                + f"to {revised['schedule']['location']}: "
                + example["revise_schedule"]["reason"]
            )
            # The visit is carried out as revised: wait until fieldwork has it.
            services.wait_until(
                "fieldwork",
                f"/visits/{request_id}",
                lambda visit: visit["location"] == revised["schedule"]["location"],
            )

    if "berita_acara" in example:
        visit = services.wait_for("fieldwork", f"/visits/{request_id}")
        if visit["status"] == "scheduled":
            today = datetime.now(OFFICE_TIME_ZONE).date().isoformat()
            body = {
                "samples": [],
                "container_checks": [],
                **example["berita_acara"],
                "visit_date": today,
            }
            filed = expect(
                services.call(
                    "POST", "fieldwork", f"/visits/{request_id}/berita-acara", json=body
                ),
                201,
            )
            verdicts = [s["verdict"] for s in filed["berita_acara"]["samples"]]
            say(
                "6 berita acara     "
                + filed["berita_acara"]["number"]
                + (f" {verdicts}" if verdicts else "")
            )

    return finish(services, request_id, example, say)


def finish(
    services: Services, request_id: str, example: dict[str, Any], say: Any
) -> dict[str, Any]:
    """Confirms hand deliveries as staff would, until the request is done."""
    confirmation = example.get(
        "confirm_delivery", {"confirmed_by": "Petugas front office", "note": None}
    )
    deadline = time.monotonic() + 60
    while True:
        tasks = expect(
            services.call(
                "GET",
                "notifier",
                "/notifications",
                params={"request_id": request_id, "status": "awaiting_confirmation"},
            ),
            200,
        )
        for task in tasks:
            path = f"/notifications/{task['notification_id']}/delivered"
            expect(services.call("POST", "notifier", path, json=confirmation), 200, 409)
            say(f"  delivered by hand: {task['purpose']} to {task['destination']}")
        view: dict[str, Any] = expect(
            services.call("GET", "intake", f"/requests/{request_id}"), 200
        )
        if view["status"] in FINAL_STATUSES:
            return view
        if time.monotonic() > deadline:
            raise TimeoutError(f"request {request_id} stuck at {view['status']}")
        time.sleep(0.2)


async def events_in_streams(nats_url: str, request_id: str) -> list[dict[str, Any]]:
    """Every published event of one request, read straight from the streams."""
    client = await nats.connect(nats_url, connect_timeout=3, max_reconnect_attempts=1)
    js = client.jetstream()
    found = []
    try:
        for stream in STREAMS:
            info = await js.stream_info(stream)
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                message = await js.get_msg(stream, sequence)
                headers = message.headers or {}
                if headers.get("ce-subject") == request_id:
                    found.append(
                        {
                            "stream": stream,
                            "sequence": sequence,
                            "subject": message.subject,
                            "time": headers.get("ce-time", ""),
                        }
                    )
    finally:
        await client.close()
    return sorted(found, key=lambda event: event["time"])


def print_timeline(view: dict[str, Any]) -> None:
    print(
        f"\nTimeline of {view['reference']} "
        f"({view['stakeholder']['institution']}): {view['status']}"
    )
    for entry in view["timeline"]:
        at = datetime.fromisoformat(entry["at"]).astimezone(OFFICE_TIME_ZONE)
        details = ", ".join(
            f"{key}={value}" for key, value in entry["details"].items() if value
        )
        print(f"  {at:%Y-%m-%d %H:%M:%S} WIB  {entry['step']:<27} {details[:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "examples", nargs="*", type=Path, help="example files (default: all)"
    )
    parser.add_argument(
        "--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:14222")
    )
    arguments = parser.parse_args()
    paths = arguments.examples or sorted(EXAMPLES_DIR.glob("*.json"))
    with Services() as services:
        walk_all(services, paths, arguments.nats_url)


def walk_all(services: Services, paths: list[Path], nats_url: str) -> None:
    for path in paths:
        example = json.loads(path.read_text(encoding="utf-8"))
        print(f"\n== {path.name}: {example['title']}")
        view = walk(services, example)
        print_timeline(view)
        try:
            events = asyncio.run(events_in_streams(nats_url, view["request_id"]))
        except Exception as error:
            print(f"  (could not read NATS at {nats_url}: {error!r})", file=sys.stderr)
            continue
        print(f"Events of {view['reference']} in NATS JetStream:")
        for event in events:
            print(f"  {event['stream']:<11} #{event['sequence']:<5} {event['subject']}")


if __name__ == "__main__":
    main()
