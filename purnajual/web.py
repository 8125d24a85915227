"""The HTTP side every service shares: errors as problem+json, limits, health.

Errors become responses in one place. A service raises its own errors (all
subclasses of ``ServiceError``), validation failures come from FastAPI, and
anything else is logged once and answered as a 500 problem that reveals
nothing of the internals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import OperationalError, PersistenceError
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from purnajual.errors import ServiceError
from purnajual.messaging import Messaging
from purnajual.persistence import ServiceApplication

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://purnajual.biblembang.id/problems/"


def problem_response(
    *,
    status: int,
    title: str,
    problem: str,
    detail: str,
    instance: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + problem,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location)


def install_problem_handlers(api: FastAPI) -> None:
    """Turns every failure into ``application/problem+json``."""

    @api.exception_handler(ServiceError)
    async def on_service_error(request: Request, error: ServiceError) -> JSONResponse:
        headers = {"Retry-After": "2"} if error.status == 503 else None
        return problem_response(
            status=error.status,
            title=error.title,
            problem=error.problem,
            detail=error.detail,
            instance=request.url.path,
            headers=headers,
            **error.data,
        )

    @api.exception_handler(RequestValidationError)
    async def on_invalid_request(
        request: Request, error: RequestValidationError
    ) -> JSONResponse:
        errors = [
            {"field": _field_path(item["loc"]), "message": item["msg"]}
            for item in error.errors()
        ]
        fields = ", ".join(item["field"] for item in errors)
        return problem_response(
            status=422,
            title="Invalid input",
            problem="invalid-input",
            detail=f"Check these fields: {fields}",
            instance=request.url.path,
            errors=errors,
        )

    @api.exception_handler(StarletteHTTPException)
    async def on_http_error(
        request: Request, error: StarletteHTTPException
    ) -> JSONResponse:
        return problem_response(
            status=error.status_code,
            title=str(error.detail),
            problem=f"http-{error.status_code}",
            detail=str(error.detail),
            instance=request.url.path,
            headers=dict(error.headers or {}),
        )

    @api.exception_handler(PersistenceError)
    async def on_store_error(request: Request, error: PersistenceError) -> JSONResponse:
        logger.warning("event store unavailable", extra={"error": repr(error)})
        status = 503 if isinstance(error, OperationalError) else 500
        return problem_response(
            status=status,
            title="Event store unavailable",
            problem="store-unavailable",
            detail="The database did not answer; try again in a few seconds.",
            instance=request.url.path,
            headers={"Retry-After": "2"},
        )

    @api.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=error)
        return problem_response(
            status=500,
            title="Internal error",
            problem="internal-error",
            detail="Something went wrong on our side; nothing was stored.",
            instance=request.url.path,
        )


class BodySizeLimit:
    """Refuses request bodies over a limit with 413, without reading them whole.

    A declared ``Content-Length`` over the limit is refused at once; a chunked
    body is counted as it streams and cut off when it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_body_bytes:
                await self._refuse(scope, send)
                return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem_response(
            status=413,
            title="Request body too large",
            problem="body-too-large",
            detail=f"The body is over the limit of {self.max_body_bytes} bytes.",
            instance=scope.get("path", ""),
            limit_bytes=self.max_body_bytes,
        )
        await response(scope, _drain_receive, send)


async def _drain_receive() -> Message:
    return {"type": "http.disconnect"}


class _BodyTooLarge(Exception):
    pass


@dataclass
class Runtime:
    """What a running service holds: its application, NATS side and workers."""

    app: ServiceApplication
    messaging: Messaging
    workers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


RuntimeFactory = Callable[[], Runtime]


def create_service_api(
    *,
    service: str,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    build_runtime: RuntimeFactory,
    max_body_bytes: int,
) -> FastAPI:
    """A FastAPI app with the shared lifespan, error handling and probes."""

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        # Opening the event store may create tables: not on the event loop.
        runtime = await asyncio.to_thread(build_runtime)
        api.state.runtime = runtime
        await runtime.messaging.start()
        workers = [asyncio.create_task(worker()) for worker in runtime.workers]
        logger.info("service started")
        try:
            yield
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await runtime.messaging.stop()
            runtime.app.close()
            logger.info("service stopped")

    api = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_problem_handlers(api)
    api.add_middleware(BodySizeLimit, max_body_bytes=max_body_bytes)
    api.include_router(_probes_router(service))
    for router in routers:
        api.include_router(router)
    return api


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _probes_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        """Alive: the process is up and serving HTTP."""
        return {"status": "ok", "service": service}

    @router.get(
        "/ready",
        summary="Readiness: database and NATS reachable, consumers attached",
        responses={503: {"description": "Not ready; the body says what is missing"}},
    )
    async def ready(request: Request) -> JSONResponse:
        """Ready: the event store answers, NATS is connected, consumers fetch."""
        runtime = runtime_of(request)
        database_ok = True
        try:
            await asyncio.wait_for(
                asyncio.to_thread(runtime.app.recorder.max_notification_id), 3
            )
        except Exception as error:
            logger.warning("readiness: database check failed", extra={"error": repr(error)})
            database_ok = False
        messaging_ok, messaging = runtime.messaging.is_ready()
        relay = runtime.messaging.relay
        body = {
            "service": service,
            "ready": database_ok and messaging_ok,
            "database": database_ok,
            "relay_lag": relay.lag() if relay and database_ok else None,
            **messaging,
        }
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    return router
