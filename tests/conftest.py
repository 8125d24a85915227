"""Fixtures: the test run's own nats-server and PostgreSQL databases.

PostgreSQL comes from ``PURNAJUAL_TEST_DATABASE_URL`` when set (an admin URL
on which the tests may create and drop databases), else from a testcontainers
PostgreSQL where Docker runs. With ``PURNAJUAL_REQUIRE_POSTGRES=1`` (as in CI)
a missing PostgreSQL fails the run instead of skipping its tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import (
    Broker,
    NatsServer,
    OwnPostgres,
    PostgresServer,
    ServiceProcess,
)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fresh_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test alone, which it may stop and restart."""
    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    yield server
    server.stop()


def _postgres_admin_url() -> Iterator[str | None]:
    configured = os.environ.get("PURNAJUAL_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        yield None
        return
    try:
        from testcontainers.community.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver=None)
        container.start()
    except Exception:
        yield None
        return
    try:
        yield container.get_connection_url()
    finally:
        container.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    for admin_url in _postgres_admin_url():
        if admin_url is None:
            if os.environ.get("PURNAJUAL_REQUIRE_POSTGRES") == "1":
                pytest.fail("PostgreSQL is required here but none is reachable")
            pytest.skip("no PostgreSQL: set PURNAJUAL_TEST_DATABASE_URL or run Docker")
        server = PostgresServer(admin_url)
        try:
            yield server
        finally:
            server.drop_all()


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    """A new, empty database for this test."""
    return postgres_server.create_database()


@pytest.fixture
def broker(nats_server: NatsServer) -> Broker:
    return Broker(nats_server.url)


ServiceFactory = Callable[..., ServiceProcess]


@pytest.fixture
def service_process(tmp_path: Path) -> Iterator[ServiceFactory]:
    """Makes service processes; stops them all at the end of the test."""
    made: list[ServiceProcess] = []

    def make(name: str, **env: str) -> ServiceProcess:
        service = ServiceProcess(
            name=name,
            env={"PURNAJUAL_VAR_DIR": str(tmp_path / "var"), **env},
            log_path=tmp_path / f"{name}.log",
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.stop()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL cluster of this test alone, which it may stop and restart."""
    server = OwnPostgres()
    server.create()
    server.start()
    yield server
    server.remove()
