"""`make run`'s launcher: starts everything, refuses taken ports, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, wait_for

pytestmark = pytest.mark.e2e
SERVICE_NAMES = ("intake", "approval", "scheduling", "fieldwork", "notifier")


def launcher(var_dir: Path, ports: dict[str, int]) -> subprocess.Popen[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NATS_URL", "DATABASE_URL")
    }
    env |= {f"{name.upper()}_PORT": str(port) for name, port in ports.items()}
    env |= {"PURNAJUAL_VAR_DIR": str(var_dir), "PURNAJUAL_NATS_PORT": str(free_port())}
    return subprocess.Popen(
        [sys.executable, "-m", "purnajual.launcher"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, int]]]:
    ports = {name: free_port() for name in SERVICE_NAMES}
    first = launcher(tmp_path / "first", ports)
    try:
        assert first.stdout is not None
        for line in first.stdout:
            if "purnajual is running" in line or "Error" in line:
                break
        yield first, ports
    finally:
        if first.poll() is None:
            # Stopped as a user would, so it stops the NATS it started too.
            os.kill(first.pid, signal.SIGINT)
            try:
                first.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
        assert first.stdout is not None
        first.stdout.close()


def test_starts_every_service_and_stops_them_all_on_ctrl_c(
    running: tuple[subprocess.Popen[str], dict[str, int]],
) -> None:
    process, ports = running

    ready = {
        name: httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code
        for name, port in ports.items()
    }
    os.kill(process.pid, signal.SIGINT)

    assert ready == dict.fromkeys(SERVICE_NAMES, 200)
    assert process.wait(timeout=30) == 0
    assert wait_for(
        lambda: all(
            _refused(f"http://127.0.0.1:{port}/health") for port in ports.values()
        )
    )


def test_a_second_ctrl_c_while_stopping_does_not_cut_the_stop_short(
    running: tuple[subprocess.Popen[str], dict[str, int]],
) -> None:
    process, ports = running

    os.kill(process.pid, signal.SIGINT)
    os.kill(process.pid, signal.SIGTERM)
    os.kill(process.pid, signal.SIGINT)

    assert process.wait(timeout=30) == 0
    assert process.stdout is not None
    assert "Traceback" not in process.stdout.read()
    assert wait_for(
        lambda: all(
            _refused(f"http://127.0.0.1:{port}/health") for port in ports.values()
        )
    )


def test_a_second_launch_on_taken_ports_is_refused_before_it_starts_anything(
    running: tuple[subprocess.Popen[str], dict[str, int]], tmp_path: Path
) -> None:
    _, ports = running

    second = launcher(tmp_path / "second", ports)
    output, _ = second.communicate(timeout=60)

    assert second.returncode != 0
    assert f"port {ports['intake']} for intake is taken" in output
    assert "purnajual is running" not in output
    assert not (tmp_path / "second" / "nats").exists()


def _refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.ConnectError:
        return True
    return False
