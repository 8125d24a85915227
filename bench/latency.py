"""Commit-to-effect latency per hop, and memory at rest, of the five services.

``python -m bench.latency`` (what ``make bench`` calls) starts a system of its
own: a nats-server on a free loopback port with a temporary store, and the
five services as processes with their event stores in a temporary directory
(SQLite), or in PostgreSQL when ``DATABASE_URL`` is set. Nothing else is
touched; everything it started is stopped and removed at the end.

Memory at rest. Once every service answers ``GET /ready`` and has been idle
for a few seconds, the resident set (``VmRSS`` in ``/proc/<pid>/status``) of
each service process is read and summed. MB here is 2**20 bytes. Target: the
five together under 600 MB.

Latency. N requests (``--requests``) walk the approved path over HTTP, as
``examples/walkthrough.py`` walks them: submit, approve, schedule, file the
Berita Acara. By default one request at a time, with a pause of ``--pace``
seconds between the end of one and the start of the next, so the machine is
never saturated; with ``--overlap`` a request starts ``--pace`` seconds after
the previous one started, finished or not. The walk polls the services while
it waits, so overlapping requests add their polling to the load measured.
Every request has its own channel message id and its own officers, because
scheduling refuses an officer already booked on the same days. Then, for
each hop, the latency is the downstream effect's time minus its cause's:

- the cause time is the ``ce-time`` of the integration event read back from
  the upstream service's JetStream stream;
- the effect time is the ``timestamp`` of the domain event the downstream
  service recorded, read from its own event store after the services stopped.

``ce-time`` is the timestamp of the upstream domain event, taken just before
the upstream commit, so each figure includes that commit and slightly
overstates the latency. The effect's timestamp is likewise taken just before
the downstream commit. Both come from the same machine clock. Target: p95
under 100 ms.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from examples.walkthrough import EXAMPLES_DIR, OFFICE_TIME_ZONE, Services, walk
from purnajual.contracts import (
    BeritaAcaraFiled,
    IntegrationEvent,
    RequestApproved,
    RequestSubmitted,
    ScheduleConveyed,
    ScheduleIssued,
)
from purnajual.persistence import ServiceApplication, event_store_env
from purnajual.service import ServiceDefinition
from services.approval.domain import Approval
from services.approval.main import APPROVAL
from services.fieldwork.domain import Visit
from services.fieldwork.main import FIELDWORK
from services.intake.domain import ServiceRequest, Step
from services.intake.main import INTAKE
from services.notifier.domain import Notification, Purpose
from services.notifier.main import NOTIFIER
from services.scheduling.domain import Schedule
from services.scheduling.main import SCHEDULING
from tests.support import Broker, NatsServer, ServiceProcess, running

DEFINITIONS: dict[str, ServiceDefinition[Any, Any]] = {
    definition.name: definition
    for definition in (INTAKE, APPROVAL, SCHEDULING, FIELDWORK, NOTIFIER)
}
TEMPLATE = EXAMPLES_DIR / "01-garut-field-semen-test.json"
LATENCY_TARGET_MS = 100.0
MEMORY_TARGET_MB = 600.0
REQUEST_TIMEOUT_SECONDS = 60.0
STORE_PAGE_SIZE = 500
CE_TIME_NOTE = (
    "ce-time is the upstream domain event's timestamp, taken just before the "
    "upstream commit,\nso these figures include that commit and slightly "
    "overstate the latency."
)

Effect = tuple[UUID, datetime]
EffectOf = Callable[[DomainEventProtocol[UUID]], Effect | None]


@dataclass(frozen=True)
class Hop:
    """One step of the path: a published event and what it causes downstream.

    ``effect_of`` answers, for a downstream domain event that is the effect,
    the request it belongs to and its timestamp; for any other event, None.
    """

    label: str
    stream: str
    cause: type[IntegrationEvent]
    effect_service: str
    effect_of: EffectOf


def _approval_requested(event: DomainEventProtocol[UUID]) -> Effect | None:
    if isinstance(event, Approval.Requested):
        return event.originator_id, event.timestamp
    return None


def _awaiting_schedule(event: DomainEventProtocol[UUID]) -> Effect | None:
    if isinstance(event, Schedule.AwaitingSchedule):
        return event.originator_id, event.timestamp
    return None


def _visit_scheduled(event: DomainEventProtocol[UUID]) -> Effect | None:
    if isinstance(event, Visit.Scheduled):
        return event.originator_id, event.timestamp
    return None


def _berita_acara_composed(event: DomainEventProtocol[UUID]) -> Effect | None:
    if isinstance(event, Notification.Composed):
        if event.purpose == Purpose.BERITA_ACARA:
            return event.request_id, event.timestamp
    return None


def _schedule_conveyed_recorded(event: DomainEventProtocol[UUID]) -> Effect | None:
    if isinstance(event, ServiceRequest.StepRecorded):
        if event.step == Step.SCHEDULE_CONVEYED:
            return event.originator_id, event.timestamp
    return None


HOPS: tuple[Hop, ...] = (
    Hop(
        "intake RequestSubmitted -> approval Approval.Requested",
        "INTAKE",
        RequestSubmitted,
        "approval",
        _approval_requested,
    ),
    Hop(
        "approval RequestApproved -> scheduling Schedule.AwaitingSchedule",
        "APPROVAL",
        RequestApproved,
        "scheduling",
        _awaiting_schedule,
    ),
    Hop(
        "scheduling ScheduleIssued -> fieldwork Visit.Scheduled",
        "SCHEDULING",
        ScheduleIssued,
        "fieldwork",
        _visit_scheduled,
    ),
    Hop(
        "fieldwork BeritaAcaraFiled -> notifier Notification.Composed",
        "FIELDWORK",
        BeritaAcaraFiled,
        "notifier",
        _berita_acara_composed,
    ),
    Hop(
        "notifier ScheduleConveyed -> intake StepRecorded",
        "NOTIFIER",
        ScheduleConveyed,
        "intake",
        _schedule_conveyed_recorded,
    ),
)


class BenchFailed(Exception):
    """Something the bench needs did not happen; the message says what."""


@dataclass
class System:
    """What the bench started: where it lives, NATS and the five services."""

    workdir: Path
    database_url: str | None
    nats: NatsServer
    services: dict[str, ServiceProcess]

    @property
    def var_dir(self) -> Path:
        return self.workdir / "var"

    def urls(self) -> dict[str, str]:
        return {name: service.url for name, service in self.services.items()}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--requests", type=int, default=50, help="requests to drive (default 50)"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=0.1,
        help="seconds between two requests (default 0.1)",
    )
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="start a request --pace seconds after the previous one started, "
        "without waiting for it to finish",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds of idleness before memory is read (default 5)",
    )
    arguments = parser.parse_args()
    if arguments.requests < 1 or arguments.pace < 0 or arguments.settle < 0:
        parser.error("--requests must be at least 1; --pace, --settle not negative")
    return arguments


def service_env(
    name: str, nats_url: str, var_dir: Path, database_url: str | None
) -> dict[str, str]:
    """A service's environment: our NATS, our store, loopback, no real sending."""
    env = {
        "NATS_URL": nats_url,
        "PURNAJUAL_VAR_DIR": str(var_dir),
        f"{name.upper()}_HOST": "127.0.0.1",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if name == "notifier":
        env["NOTIFIER_EMAIL_TRANSPORT"] = "file"
        env["NOTIFIER_WHATSAPP_TRANSPORT"] = "file"
        env["NOTIFIER_OUTBOX_DIR"] = str(var_dir / "outbox")
    return env


@contextmanager
def own_system(database_url: str | None) -> Iterator[System]:
    """NATS and the five services (not yet started), all removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="purnajual-bench-"))
    nats = NatsServer(store_dir=workdir / "nats")
    try:
        # NATS first: the services retry until it answers, but need its URL.
        nats.start()
        (workdir / "log").mkdir()
        services = {
            name: ServiceProcess(
                name=name,
                env=service_env(name, nats.url, workdir / "var", database_url),
                log_path=workdir / "log" / f"{name}.log",
            )
            for name in DEFINITIONS
        }
        yield System(workdir, database_url, nats, services)
    finally:
        stop_nats(nats)
        shutil.rmtree(workdir, ignore_errors=True)


def stop_nats(nats: NatsServer) -> None:
    try:
        nats.stop()
    except subprocess.TimeoutExpired:
        assert nats.process is not None
        nats.process.kill()
        nats.process.wait()


def log_tails(system: System, lines: int = 5) -> str:
    """The last lines of each service's log, to say why a request got stuck."""
    tails = []
    for name, service in system.services.items():
        last = service.log().splitlines()[-lines:]
        tails.append(f"--- {name}.log\n" + "\n".join(last))
    return "\n".join(tails)


def rss_megabytes(pid: int) -> float:
    """The resident set of one process, from ``/proc``, in MB (2**20 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchFailed(f"no VmRSS for process {pid}")


def memory(system: System) -> dict[str, float]:
    usage = {}
    for name, service in system.services.items():
        assert service.process is not None
        usage[name] = rss_megabytes(service.process.pid)
    return usage


def request_example(template: dict[str, Any], run: str, number: int) -> dict[str, Any]:
    """The template made unique: its own channel message and its own officers."""
    example = copy.deepcopy(template)

    # A new channel message id is a new request; intake registers each once.
    request = example["request"]
    request["channel_message_id"] = f"<bench-{run}-{number}@purnajual.invalid>"
    request["received_at"] = datetime.now(OFFICE_TIME_ZONE).isoformat()

    # Officers are told apart by employee number; the Berita Acara names them too.
    numbers: dict[str, str] = {}
    for position, officer in enumerate(example["schedule"]["officers"]):
        numbers[officer["name"]] = f"BENCH{run}{number:05d}{position}"
        officer["employee_number"] = numbers[officer["name"]]
    for officer in example["berita_acara"]["center_officers"]:
        if officer.get("employee_number") and officer["name"] in numbers:
            officer["employee_number"] = numbers[officer["name"]]
    return example


def walk_request(
    urls: dict[str, str], example: dict[str, Any], deadline: float
) -> UUID:
    """Walks one request to the end, until intake also shows the schedule conveyed."""
    try:
        with Services(urls) as services:
            view = walk(services, example, say=_silent)
            request_id = str(view["request_id"])
            _wait_for_step(services, request_id, Step.SCHEDULE_CONVEYED, deadline)
    except SystemExit as refusal:
        # The walkthrough stops the program on a refusal; here it fails one request.
        raise BenchFailed(str(refusal)) from None
    return UUID(request_id)


def _silent(line: str) -> None:
    return None


def _wait_for_step(
    services: Services, request_id: str, step: str, deadline: float
) -> None:
    # The walk ends at the last delivery; the conveyed schedule may lag it.
    while True:
        response = services.call("GET", "intake", f"/requests/{request_id}")
        timeline = response.json().get("timeline", []) if response.is_success else []
        if any(entry.get("step") == step for entry in timeline):
            return
        if time.monotonic() > deadline:
            raise BenchFailed(f"intake never recorded {step} for {request_id}")
        time.sleep(0.1)


def drive(system: System, requests: int, pace: float, overlap: bool) -> list[UUID]:
    """Walks the requests, one after another or overlapping; fails on a stuck one."""
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    run = uuid.uuid4().hex[:8].upper()
    executor = ThreadPoolExecutor(max_workers=requests, thread_name_prefix="walk")
    started: list[tuple[float, Future[UUID]]] = []
    try:
        # Each request walks in a thread, so a stuck one cannot hold the bench.
        for number in range(requests):
            deadline = time.monotonic() + REQUEST_TIMEOUT_SECONDS
            example = request_example(template, run, number)
            future = executor.submit(walk_request, system.urls(), example, deadline)
            started.append((deadline, future))
            if not overlap:
                _result(number, deadline, future)
            time.sleep(pace)

        # Each request gets its own 60 s, counted from its start.
        return [
            _result(number, deadline, future)
            for number, (deadline, future) in enumerate(started)
        ]
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _result(number: int, deadline: float, future: Future[UUID]) -> UUID:
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise BenchFailed(
            f"request {number + 1} did not finish within "
            f"{REQUEST_TIMEOUT_SECONDS:.0f} s"
        ) from None
    except Exception as error:
        raise BenchFailed(f"request {number + 1} failed: {error!r}") from None


def cause_times(
    system: System, request_ids: set[UUID]
) -> dict[str, dict[UUID, datetime]]:
    """Per hop, the ``ce-time`` of each request's cause, from the upstream stream."""
    broker = Broker(system.nats.url)
    times: dict[str, dict[UUID, datetime]] = {}
    for hop in HOPS:
        found = times.setdefault(hop.label, {})
        for envelope in broker.envelopes(hop.stream):
            request_id = envelope.data.request_id
            if isinstance(envelope.data, hop.cause) and request_id in request_ids:
                found.setdefault(request_id, envelope.time)
    return times


def open_store(system: System, name: str) -> ServiceApplication:
    """The service's application on its store, as the service built it, to read."""
    definition = DEFINITIONS[name]
    settings = definition.settings_class(
        var_dir=system.var_dir, database_url=system.database_url
    )
    env = event_store_env(
        service=name, database_url=system.database_url, var_dir=system.var_dir
    )
    application: ServiceApplication = definition.make_application(
        {**env, "CREATE_TABLE": "n"}, settings
    )
    return application


def stored_events(app: ServiceApplication) -> Iterator[DomainEventProtocol[UUID]]:
    """Every event of the service's log, a page at a time."""
    position = 0
    while page := list(app.events_after(position, STORE_PAGE_SIZE)):
        yield from (domain_event for _, domain_event in page)
        position = page[-1][0]


def effect_times(
    system: System, request_ids: set[UUID]
) -> dict[str, dict[UUID, datetime]]:
    """Per hop, when each request's effect was recorded downstream."""
    times: dict[str, dict[UUID, datetime]] = {}
    for hop in HOPS:
        found = times.setdefault(hop.label, {})
        app = open_store(system, hop.effect_service)
        try:
            for domain_event in stored_events(app):
                effect = hop.effect_of(domain_event)
                if effect is not None and effect[0] in request_ids:
                    found.setdefault(*effect)
        finally:
            app.close()
    return times


def latencies(
    causes: dict[str, dict[UUID, datetime]], effects: dict[str, dict[UUID, datetime]]
) -> dict[str, list[float]]:
    """Per hop, effect time minus cause time in ms, for requests that have both."""
    figures: dict[str, list[float]] = {}
    for hop in HOPS:
        cause, effect = causes[hop.label], effects[hop.label]
        figures[hop.label] = [
            (effect[request_id] - cause[request_id]).total_seconds() * 1000
            for request_id in cause.keys() & effect.keys()
        ]
    return figures


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with ``share`` at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def verdict(value: float, target: float) -> str:
    return "met" if value < target else "NOT met"


def describe_store(database_url: str | None) -> str:
    if not database_url:
        return "SQLite (one file per service in a temporary directory)"
    parts = urlsplit(database_url)
    database = parts.path.lstrip("/") or "postgres"
    return (
        f"PostgreSQL (database {database} on {parts.hostname}:{parts.port or 5432}, "
        "a schema per service)"
    )


def print_memory(title: str, usage: dict[str, float], judge: bool) -> None:
    print(f"\n{title}")
    for name, megabytes in usage.items():
        print(f"  {name:<12}{megabytes:8.1f} MB")
    total = sum(usage.values())
    target = f"   target < {MEMORY_TARGET_MB:.0f} MB: " if judge else ""
    judged = verdict(total, MEMORY_TARGET_MB) if judge else ""
    print(f"  {'total':<12}{total:8.1f} MB{target}{judged}")


def print_latencies(figures: dict[str, list[float]], requests: int) -> None:
    width = max(len(hop.label) for hop in HOPS)
    print("\nCommit-to-effect latency per hop (ms)")
    print(f"  {'hop':<{width}}  count     p50     p95     max")
    for label, values in figures.items():
        if not values:
            print(f"  {label:<{width}}      0       -       -       -")
            continue
        print(
            f"  {label:<{width}}  {len(values):5d}"
            f" {percentile(values, 0.5):7.1f} {percentile(values, 0.95):7.1f}"
            f" {max(values):7.1f}"
        )
    pooled = [value for values in figures.values() for value in values]
    overall = percentile(pooled, 0.95)
    print(
        f"\np95 across all hops: {overall:.1f} ms "
        f"(target < {LATENCY_TARGET_MS:.0f} ms: {verdict(overall, LATENCY_TARGET_MS)})"
    )
    missing = len(HOPS) * requests - len(pooled)
    if missing:
        print(f"{missing} cause/effect pairs were not found in the streams or stores")
    print(CE_TIME_NOTE)


def run(arguments: argparse.Namespace, database_url: str | None) -> None:
    print("purnajual bench: commit-to-effect latency and memory at rest")
    print(f"store:    {describe_store(database_url)}")
    pace = f"{arguments.pace:g} s"
    mode = (
        f"started {pace} apart, overlapping"
        if arguments.overlap
        else f"one at a time, {pace} pause between"
    )
    print(f"requests: {arguments.requests}, {mode}")
    with own_system(database_url) as system:
        with running(*system.services.values()):
            # Memory is read once the services are up and have nothing to do.
            time.sleep(arguments.settle)
            at_rest = memory(system)
            print_memory(
                f"Memory at rest (VmRSS, {arguments.settle:g} s idle)", at_rest, True
            )

            # Every request walks the approved path; then its causes are read.
            began = time.monotonic()
            try:
                request_ids = drive(
                    system, arguments.requests, arguments.pace, arguments.overlap
                )
            except BenchFailed as error:
                raise BenchFailed(f"{error}\n{log_tails(system)}") from None
            took = time.monotonic() - began
            print_memory(
                f"Memory after the {len(request_ids)} requests (for comparison)",
                memory(system),
                False,
            )
            causes = cause_times(system, set(request_ids))

        # The stores are read once the services have stopped writing.
        effects = effect_times(system, set(request_ids))
    print(f"\n{len(request_ids)} requests walked the approved path in {took:.1f} s")
    print_latencies(latencies(causes, effects), len(request_ids))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    arguments = parse_arguments()
    database_url = os.environ.get("DATABASE_URL") or None

    # SIGTERM stops the bench as Ctrl-C does: through the clean-up.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run(arguments, database_url)
    except (BenchFailed, AssertionError) as error:
        raise SystemExit(f"bench failed: {error}") from None
    except KeyboardInterrupt:
        raise SystemExit(
            "bench interrupted; everything it started is stopped"
        ) from None


if __name__ == "__main__":
    main()
