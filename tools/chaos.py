"""A chaos run: many requests through the procedure while parts keep failing.

``python -m tools.chaos`` starts a system of its own on loopback: a PostgreSQL
cluster (``initdb``/``pg_ctl``, on a free port, in a temporary directory), a
nats-server and the five services. Walkers drive ``--requests`` requests
through the whole procedure over HTTP (three in four approved and taken to a
delivered Berita Acara, one in four rejected and its letter delivered by hand),
retrying a step when a service is down, as a real client would. Meanwhile an
injector ``kill -9``s a random service and restarts it, restarts the
nats-server, and restarts PostgreSQL, ``--faults`` times at random moments.

Then it checks the invariants and prints the figures:

- every request reached its final state at intake (else it is *lost*);
- every event of every request is in the streams exactly once (else
  *duplicated* or *missing*);
- each stream holds as many messages as its service's event store holds
  publishable events;
- the notifier composed one message per purpose per request, and delivered it
  once.

The run stops by itself (``--deadline`` seconds at most) and removes what it
started; it exits non-zero when an invariant fails. CI runs a short version
(``tests/chaos``); ``python -m tools.chaos --requests 300 --faults 40`` is the
long run, by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from examples.walkthrough import visit_today
from purnajual.contracts import SlaClockEvent
from purnajual.messaging import Translator
from purnajual.numbering import OFFICE_TIME_ZONE
from purnajual.persistence import ServiceApplication, event_store_env
from services.approval import messaging as approval_messaging
from services.approval.application import ApprovalApplication
from services.fieldwork import messaging as fieldwork_messaging
from services.fieldwork.application import FieldworkApplication
from services.fieldwork.config import FieldworkSettings
from services.intake import messaging as intake_messaging
from services.intake.application import IntakeApplication
from services.intake.config import DEFAULT_CATALOGUE
from services.notifier import messaging as notifier_messaging
from services.notifier.application import NotifierApplication
from services.notifier.domain import Notification
from services.scheduling import messaging as scheduling_messaging
from services.scheduling.application import SchedulingApplication
from tests.support import Broker, NatsServer, OwnPostgres, ServiceProcess, running

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SERVICE_NAMES = ("intake", "approval", "scheduling", "fieldwork", "notifier")
STREAMS = ("INTAKE", "APPROVAL", "SCHEDULING", "FIELDWORK", "NOTIFIER")
APPROVED_EVENTS = {
    "intake.request.submitted",
    "approval.request.approved",
    "scheduling.schedule.issued",
    "fieldwork.berita_acara.filed",
    "notifier.receipt.delivered",
    "notifier.schedule.conveyed",
    "notifier.berita_acara.delivered",
}
REJECTED_EVENTS = {
    "intake.request.submitted",
    "approval.request.rejected",
    "approval.rejection_letter.issued",
    "notifier.receipt.delivered",
    "notifier.rejection_letter.delivered",
}
FINAL = {"berita_acara_delivered", "rejection_letter_delivered"}
TRANSIENT_STATUSES = {502, 503, 504}
FAULT_CYCLE_SECONDS = 3.0


class ServerError(Exception):
    """A 5xx other than "unavailable": always a defect."""


@dataclass
class Figures:
    requests: int = 0
    walked: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    server_errors: list[str] = field(default_factory=list)


class Walker:
    """Takes requests through the procedure, retrying steps through failures."""

    def __init__(self, urls: dict[str, str], figures: Figures, deadline: float) -> None:
        self.urls = urls
        self.figures = figures
        self.deadline = deadline
        self.lock = threading.Lock()

    def call(
        self, client: httpx.Client, method: str, service: str, path: str, **kw: Any
    ) -> httpx.Response:
        """One call, repeated while the service is down or restarting."""
        while True:
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"{method} {service}{path}: deadline passed")
            try:
                response = client.request(method, self.urls[service] + path, **kw)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code not in TRANSIENT_STATUSES:
                if response.status_code >= 500:
                    with self.lock:
                        self.figures.server_errors.append(
                            f"{service}{path}: {response.text}"
                        )
                    raise ServerError(response.text)
                return response
            with self.lock:
                self.figures.retries += 1
            time.sleep(0.2)

    def until(
        self,
        client: httpx.Client,
        service: str,
        path: str,
        ready: Callable[[Any], bool],
    ) -> Any:
        """Polls a resource until it exists and ``ready`` says so."""
        while True:
            response = self.call(client, "GET", service, path)
            if response.status_code == 200 and ready(response.json()):
                return response.json()
            time.sleep(0.2)

    def walk(self, number: int, rejected: bool) -> str:
        with httpx.Client(timeout=10) as client:
            return self._walk(client, number, rejected)

    def _walk(self, client: httpx.Client, number: int, rejected: bool) -> str:
        example = _example(rejected)
        body = {**example["request"], "channel_message_id": f"chaos-{number}"}
        submitted = self.call(client, "POST", "intake", "/requests", json=body).json()
        request_id = submitted["request_id"]
        self.until(client, "approval", f"/approvals/{request_id}", lambda _: True)
        if rejected:
            self.call(
                client,
                "POST",
                "approval",
                f"/approvals/{request_id}/reject",
                json=example["reject"],
            )
            self.call(
                client,
                "POST",
                "approval",
                f"/approvals/{request_id}/rejection-letter",
                json=example["rejection_letter"],
            )
        else:
            self.call(
                client,
                "POST",
                "approval",
                f"/approvals/{request_id}/approve",
                json=example["approve"],
            )
            self.until(client, "scheduling", f"/schedules/{request_id}", lambda _: True)
            officers = [
                {"name": f"Petugas {number}", "employee_number": f"CHAOS{number}"}
            ]
            while True:
                # Retries while a service is down may carry the walk past midnight
                # WIB, when today's visit becomes yesterday's and is refused.
                today = _office_today()
                schedule = {
                    **example["schedule"],
                    **visit_today(today),
                    "officers": officers,
                }
                answer = self.call(
                    client,
                    "POST",
                    "scheduling",
                    f"/schedules/{request_id}",
                    json=schedule,
                )
                if answer.status_code != 422 or _office_today() == today:
                    break
            self.until(client, "fieldwork", f"/visits/{request_id}", lambda _: True)
            report = {**example["berita_acara"], "visit_date": today}
            self.call(
                client,
                "POST",
                "fieldwork",
                f"/visits/{request_id}/berita-acara",
                json=report,
            )
        self._deliver_by_hand_until_final(client, request_id)
        return str(request_id)

    def _deliver_by_hand_until_final(
        self, client: httpx.Client, request_id: str
    ) -> None:
        while True:
            tasks = self.call(
                client,
                "GET",
                "notifier",
                "/notifications",
                params={"request_id": request_id, "status": "awaiting_confirmation"},
            ).json()
            for task in tasks:
                self.call(
                    client,
                    "POST",
                    "notifier",
                    f"/notifications/{task['notification_id']}/delivered",
                    json={"confirmed_by": "chaos walker"},
                )
            view = self.call(client, "GET", "intake", f"/requests/{request_id}")
            if view.status_code == 200 and view.json()["status"] in FINAL:
                return
            time.sleep(0.3)


def _office_today() -> str:
    return datetime.now(OFFICE_TIME_ZONE).date().isoformat()


def _example(rejected: bool) -> dict[str, Any]:
    name = (
        "03-private-buyer-rejected.json"
        if rejected
        else "01-garut-field-semen-test.json"
    )
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


class Injector:
    """Breaks one part at a time, at random moments, until told to stop."""

    def __init__(
        self,
        services: dict[str, ServiceProcess],
        nats_server: NatsServer,
        postgres: OwnPostgres,
        figures: Figures,
        faults: int,
        rng: random.Random,
    ) -> None:
        self.services = services
        self.nats_server = nats_server
        self.postgres = postgres
        self.figures = figures
        self.faults = faults
        self.rng = rng
        self.stop = threading.Event()

    def run(self) -> None:
        for _ in range(self.faults):
            if self.stop.wait(self.rng.uniform(0.5, 2.5)):
                return
            kind = self.rng.choice(["kill", "kill", "kill", "nats", "postgres"])
            if kind == "kill":
                name = self.rng.choice(SERVICE_NAMES)
                self.services[name].kill()
                time.sleep(self.rng.uniform(0.2, 2))
                self.services[name].start(wait_ready=False)
                self.figures.faults[f"kill -9 {name}"] += 1
            elif kind == "nats":
                self.nats_server.stop()
                time.sleep(self.rng.uniform(0.5, 3))
                self.nats_server.start()
                self.figures.faults["nats restart"] += 1
            else:
                self.postgres.stop()
                time.sleep(self.rng.uniform(0.5, 3))
                self.postgres.start()
                self.figures.faults["postgres restart"] += 1


def publishable_counts(database_url: str, var_dir: Path) -> dict[str, int]:
    """Per service, how many events of its store have a public counterpart."""
    builders: dict[
        str, tuple[Callable[[dict[str, str]], ServiceApplication], Translator]
    ] = {
        "intake": (
            lambda env: IntakeApplication(
                env, catalogue={k.code: k for k in DEFAULT_CATALOGUE}
            ),
            intake_messaging.to_integration_event,
        ),
        "approval": (ApprovalApplication, approval_messaging.to_integration_event),
        "scheduling": (
            SchedulingApplication,
            scheduling_messaging.to_integration_event,
        ),
        "fieldwork": (
            lambda env: FieldworkApplication(
                env, standard=FieldworkSettings().standard()
            ),
            fieldwork_messaging.to_integration_event,
        ),
        "notifier": (
            lambda env: NotifierApplication(env, transports={}),
            notifier_messaging.to_integration_event,
        ),
    }
    counts = {}
    for name, (build, translate) in builders.items():
        app = build(
            event_store_env(service=name, database_url=database_url, var_dir=var_dir)
        )
        try:
            counts[name] = sum(
                1
                for _, domain_event in app.events_after(0, limit=1_000_000)
                if translate(domain_event) is not None
            )
        finally:
            app.close()
    return counts


def composed_notifications(
    database_url: str, var_dir: Path
) -> Counter[tuple[str, str]]:
    env = event_store_env(
        service="notifier", database_url=database_url, var_dir=var_dir
    )
    app = NotifierApplication(env, transports={})
    try:
        return Counter(
            (str(event.request_id), event.purpose)
            for _, event in app.events_after(0, limit=1_000_000)
            if isinstance(event, Notification.Composed)
        )
    finally:
        app.close()


def check(
    broker: Broker, walked: dict[str, bool], database_url: str, var_dir: Path
) -> dict[str, int]:
    """Counts every violation of the invariants."""
    events: dict[str, Counter[str]] = {request_id: Counter() for request_id in walked}
    stream_sizes = {}
    for stream in STREAMS:
        envelopes = broker.envelopes(stream)
        stream_sizes[stream.lower()] = len(envelopes)
        for envelope in envelopes:
            if envelope.subject in events:
                # A clock's verdict is once per step, not once per request.
                key = envelope.data.SUBJECT
                if isinstance(envelope.data, SlaClockEvent):
                    key += f":{envelope.data.step}"
                events[envelope.subject][key] += 1
    duplicated = missing = 0
    for request_id, rejected in walked.items():
        expected = REJECTED_EVENTS if rejected else APPROVED_EVENTS
        duplicated += sum(1 for n in events[request_id].values() if n > 1)
        missing += len(expected - set(events[request_id]))
    counts = publishable_counts(database_url, var_dir)
    composed = composed_notifications(database_url, var_dir)
    return {
        "duplicated events": duplicated,
        "missing events": missing,
        "streams unlike stores": sum(
            1 for name, count in counts.items() if stream_sizes[name] != count
        ),
        "messages composed twice": sum(1 for n in composed.values() if n > 1),
    }


def run(requests: int, faults: int, seed: int, deadline_seconds: float) -> int:
    rng = random.Random(seed)
    directory = Path(tempfile.mkdtemp(prefix="purnajual-chaos-"))
    postgres = OwnPostgres()
    nats_server = NatsServer(store_dir=directory / "nats")
    figures = Figures(requests=requests)
    try:
        postgres.create()
        postgres.start()
        nats_server.start()
        env = {
            "NATS_URL": nats_server.url,
            "DATABASE_URL": postgres.url,
            "PURNAJUAL_VAR_DIR": str(directory / "var"),
            "PURNAJUAL_LOG_LEVEL": "WARNING",
        }
        services = {
            name: ServiceProcess(name=name, env=env, log_path=directory / f"{name}.log")
            for name in SERVICE_NAMES
        }
        with running(*services.values()):
            walked = drive(
                services, nats_server, postgres, figures, faults, rng, deadline_seconds
            )
        figures.walked = len(walked)
        violations = check(
            Broker(nats_server.url), walked, postgres.url, directory / "var"
        )
    finally:
        nats_server.stop()
        postgres.remove()
        shutil.rmtree(directory, ignore_errors=True)

    lost = requests - figures.walked
    rows = {
        "requests": requests,
        "faults injected": f"{sum(figures.faults.values())} {dict(figures.faults)}",
        "calls retried": figures.retries,
        "lost": lost,
        **violations,
        "server errors": len(figures.server_errors),
    }
    for name, value in rows.items():
        print(f"{name:<26}{value}")
    for error in figures.server_errors[:5]:
        print(f"  {error[:200]}")
    failed = lost or any(violations.values()) or figures.server_errors
    verdict = "FAILED" if failed else "nothing lost, nothing twice"
    print(f"{'verdict':<26}{verdict}")
    return 1 if failed else 0


def drive(
    services: dict[str, ServiceProcess],
    nats_server: NatsServer,
    postgres: OwnPostgres,
    figures: Figures,
    faults: int,
    rng: random.Random,
    deadline_seconds: float,
) -> dict[str, bool]:
    """Walks every request while the injector breaks things; answers the walked."""
    deadline = time.monotonic() + deadline_seconds
    walker = Walker({n: s.url for n, s in services.items()}, figures, deadline)
    injector = Injector(services, nats_server, postgres, figures, faults, rng)
    breaking = threading.Thread(target=injector.run)
    breaking.start()
    walked: dict[str, bool] = {}
    try:
        # Requests start spread over the time the faults take, so each fault
        # meets requests at every step.
        pace = max(0.05, faults * FAULT_CYCLE_SECONDS / max(figures.requests, 1))
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = {}
            for number in range(figures.requests):
                rejected = number % 4 == 3
                futures[pool.submit(walker.walk, number, rejected)] = rejected
                time.sleep(pace)
            for future, rejected in futures.items():
                try:
                    walked[future.result()] = rejected
                except (TimeoutError, ServerError) as error:
                    print(f"a request did not finish: {error}", file=sys.stderr)
    finally:
        # The faults not yet injected still come: recovery is part of the test.
        breaking.join(timeout=max(0.0, deadline - time.monotonic()))
        injector.stop.set()
        breaking.join()
    for service in services.values():
        if service.process is None or service.process.poll() is not None:
            service.start(wait_ready=False)
    for service in services.values():
        service.wait_ready(timeout=60)
    return walked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--faults", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--deadline", type=float, default=900, help="seconds")
    arguments = parser.parse_args()
    sys.exit(
        run(arguments.requests, arguments.faults, arguments.seed, arguments.deadline)
    )


if __name__ == "__main__":
    main()
