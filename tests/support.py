"""Real parts for the tests: a nats-server, PostgreSQL databases, service processes.

Everything a test starts it owns: a nats-server on a free port with its own
store, a database created for it, services as real processes over HTTP. None
of it is aimed at the NATS that may already run on port 4222.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
from psycopg import sql

from purnajual.contracts import IntegrationEvent
from purnajual.envelope import Envelope, envelope_for, open_envelope
from purnajual.launcher import nats_server_binary
from purnajual.numbering import OFFICE_TIME_ZONE

REPOSITORY = Path(__file__).resolve().parent.parent


def today_in_jakarta() -> date:
    """The office's date now, asked at each use so a run may cross midnight WIB."""
    return datetime.now(OFFICE_TIME_ZONE).date()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(condition: Any, timeout: float = 20, interval: float = 0.05) -> Any:
    """Polls ``condition`` until it returns something truthy; fails on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)


@dataclass
class NatsServer:
    """A nats-server with JetStream that a test run owns."""

    store_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                nats_server_binary(),
                "--jetstream",
                "--store_dir",
                str(self.store_dir),
                "--addr",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _port_open(self.port), timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class PostgresServer:
    """Creates and drops throwaway databases on a PostgreSQL server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"purnajual_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )
        self.created.append(name)
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            for name in self.created:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)
                    )
                )
        self.created.clear()


@dataclass
class ServiceProcess:
    """One service running as a real process, reached over HTTP."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_ready: bool = True) -> None:
        env = {
            **os.environ,
            **self.env,
            f"{self.name.upper()}_PORT": str(self.port),
            "PYTHONPATH": str(REPOSITORY),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                env=env,
                cwd=REPOSITORY,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()}")
            try:
                return httpx.get(f"{self.url}/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=timeout, interval=0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """``kill -9``: no chance to finish anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=10)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, json=json, timeout=10, **kwargs)

    def put(self, path: str, json: Any) -> httpx.Response:
        return httpx.put(self.url + path, json=json, timeout=10)


@contextmanager
def running(*services: ServiceProcess) -> Iterator[None]:
    try:
        for service in services:
            service.start(wait_ready=False)
        for service in services:
            service.wait_ready()
        yield
    finally:
        for service in services:
            service.stop()


class Broker:
    """A test's own NATS client: publish upstream events, read streams."""

    def __init__(self, url: str) -> None:
        self.url = url

    def publish(
        self,
        producer: str,
        position: int,
        event: IntegrationEvent,
        msg_id: str | None = None,
        time: datetime | None = None,
    ) -> None:
        """Publishes as the producer's relay would, at log position ``position``."""
        envelope = envelope_for(
            producer=producer,
            position=position,
            time=time or datetime.now(UTC),
            event=event,
        )
        headers = envelope.headers()
        if msg_id is not None:
            headers["Nats-Msg-Id"] = msg_id
        asyncio.run(self._publish(event.SUBJECT, envelope.payload(), headers))

    def publish_raw(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> None:
        asyncio.run(self._publish(subject, payload, headers))

    async def _publish(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> None:
        client = await nats.connect(self.url, connect_timeout=3)
        try:
            js = client.jetstream(timeout=5)
            await js.publish(subject, payload, headers=headers)
        finally:
            await client.close()

    def messages(self, stream: str) -> list[tuple[str, dict[str, str], bytes]]:
        """Every message in a stream: subject, headers, payload."""
        return asyncio.run(self._messages(stream))

    async def _messages(self, stream: str) -> list[tuple[str, dict[str, str], bytes]]:
        client = await nats.connect(self.url, connect_timeout=3)
        try:
            js = client.jetstream(timeout=5)
            try:
                info = await js.stream_info(stream)
            except nats.js.errors.NotFoundError:
                return []
            found = []
            for sequence in range(info.state.first_seq, info.state.last_seq + 1):
                if info.state.messages == 0:
                    break
                message = await js.get_msg(stream, sequence)
                found.append(
                    (
                        message.subject or "",
                        dict(message.headers or {}),
                        message.data or b"",
                    )
                )
            return found
        finally:
            await client.close()

    def envelopes(self, stream: str) -> list[Envelope]:
        return [
            open_envelope(headers, payload)
            for subject, headers, payload in self.messages(stream)
            if not subject.startswith("deadletter.")
        ]

    def subjects(self, stream: str, request_id: str | None = None) -> list[str]:
        return [
            envelope.data.SUBJECT
            for envelope in self.envelopes(stream)
            if request_id is None or envelope.subject == request_id
        ]


class OwnPostgres:
    """A PostgreSQL cluster of the test's own, which it may stop and restart.

    Made with the machine's ``initdb`` and ``pg_ctl``; as root they run as the
    ``postgres`` user, since PostgreSQL refuses to run as root.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="purnajual-pg-"))
        self.directory.chmod(0o755)
        self.data = self.directory / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command], check=True, capture_output=True, timeout=120
        )

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            _pg_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            _pg_binary("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run(
            _pg_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
        )

    def execute(self, statement: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(statement.encode())

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


def _pg_binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: install PostgreSQL's server tools")
    return found
