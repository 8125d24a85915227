"""Every endpoint of every service, fuzzed from its own OpenAPI: never a 5xx.

Schemathesis generates valid and invalid inputs from each service's
``/openapi.json`` and sends them to the service running as a process. The
number of examples is bounded so the run fits in CI; raise
``PURNAJUAL_FUZZ_EXAMPLES`` for a longer run by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import NatsServer, ServiceProcess, running

SERVICE_NAMES = ("intake", "approval", "scheduling", "fieldwork", "notifier")
EXAMPLES = os.environ.get("PURNAJUAL_FUZZ_EXAMPLES", "25")


@pytest.fixture(scope="module")
def services(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, ServiceProcess]]:
    directory = tmp_path_factory.mktemp("fuzz")
    nats_server = NatsServer(store_dir=directory / "nats")
    nats_server.start()
    made = {
        name: ServiceProcess(
            name=name,
            env={
                "NATS_URL": nats_server.url,
                "PURNAJUAL_VAR_DIR": str(directory / "var"),
            },
            log_path=directory / f"{name}.log",
        )
        for name in SERVICE_NAMES
    }
    with running(*made.values()):
        yield made
    nats_server.stop()


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_no_input_makes_a_service_answer_5xx(
    name: str, services: dict[str, ServiceProcess], tmp_path: Path
) -> None:
    service = services[name]
    schemathesis = Path(sys.executable).parent / "schemathesis"

    completed = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{service.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            EXAMPLES,
            "--phases",
            "examples,coverage,fuzzing",
            "--request-timeout",
            "10",
            "--generation-deterministic",
            # The live feed never ends by design; everything else is fuzzed.
            "--exclude-path",
            "/sla/stream",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )

    assert completed.returncode == 0, completed.stdout[-6000:] + service.log()[-3000:]
