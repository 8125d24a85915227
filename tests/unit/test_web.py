"""The shared HTTP layer, served by a real uvicorn on a free loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel

from purnajual.web import BodySizeLimit, UnexpectedErrors, install_problem_handlers
from tests.support import free_port

LIMIT = 64 * 1024


class Echo(BaseModel):
    text: str


def small_app() -> FastAPI:
    api = FastAPI()
    install_problem_handlers(api)
    api.add_middleware(UnexpectedErrors)
    api.add_middleware(BodySizeLimit, max_body_bytes=LIMIT)

    @api.post("/echo")
    def echo(body: Echo) -> Echo:
        return body

    @api.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    @api.get("/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    return api


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(small_app(), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def test_an_unexpected_error_is_a_500_problem_and_the_connection_stays_usable(
    base_url: str,
) -> None:
    with httpx.Client(base_url=base_url) as client:
        broken = client.get("/broken")
        after = client.post("/echo", json={"text": "masih hidup"})

    assert broken.status_code == 500
    assert broken.headers["content-type"] == "application/problem+json"
    assert "a bug" not in broken.text
    assert after.json() == {"text": "masih hidup"}


def test_a_declared_oversized_body_is_refused_at_once(base_url: str) -> None:
    response = httpx.post(f"{base_url}/raw", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json()["limit_bytes"] == LIMIT


def test_a_chunked_oversized_body_is_refused_with_413(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(50 * 1024):
            yield b"x" * 1024

    response = httpx.post(f"{base_url}/raw", content=chunks(), timeout=30)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_chunked_body_within_the_limit_is_read_whole(base_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1024

    response = httpx.post(f"{base_url}/raw", content=chunks())

    assert response.json() == {"length": 10 * 1024}
