"""The short chaos run: requests through the procedure while parts keep failing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import REPOSITORY


# The run's own deadline (420 s) comes first, so a stuck run still prints its
# figures instead of being cut off by the suite's 300 s limit per test.
@pytest.mark.timeout(600)
def test_nothing_is_lost_or_done_twice_while_services_nats_and_postgres_fail() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.chaos",
            "--requests",
            "40",
            "--faults",
            "16",
            "--seed",
            "2026",
            "--deadline",
            "420",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPOSITORY,
    )

    figures = {
        line[:26].strip(): line[26:].strip()
        for line in completed.stdout.splitlines()
        if line and not line.startswith(" ")
    }
    assert completed.returncode == 0, completed.stdout + completed.stderr[-3000:]
    assert figures["verdict"] == "nothing lost, nothing twice"
    assert figures["lost"] == "0"
    assert figures["duplicated events"] == "0"
    assert int(figures["faults injected"].split()[0]) >= 10
