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
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)
from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from purnajual.errors import NotFoundError, ServiceError
from purnajual.messaging import Messaging
from purnajual.persistence import ServiceApplication
from purnajual.views import LogView

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
STORE_WATCH_SECONDS = 1.0
_PROBE_PATHS = frozenset({"/health", "/ready", "/metrics"})
PROBLEM_TYPE_BASE = "https://purnajual.biblembang.id/problems/"
Responses = dict[int | str, dict[str, Any]]


class FieldProblem(BaseModel):
    field: str = Field(description="Where: body.stakeholder.email, query.status, ...")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of every service is answered."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = Field(None, description="The input at fault, when one is")
    current_status: str | None = Field(
        None, description="The state that forbids the command, on a 409"
    )
    errors: list[FieldProblem] | None = Field(
        None, description="Every input at fault, on a 422"
    )


# Answers any operation can give besides its own.
_COMMON_RESPONSES: Responses = {
    "400": {"description": "The body could not be read (not UTF-8, broken JSON)"},
    "422": {"description": "Invalid input; the problem names each field at fault"},
    "500": {"description": "Internal error; nothing was stored"},
    "503": {"description": "The event store is unavailable; retry after a moment"},
}
_BODY_RESPONSES: Responses = {
    "413": {"description": "Request body over the limit; the problem states it"},
}


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
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _field_path(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location)


def _input_path(request: Request, field: str) -> str:
    """A field a rule names, placed as validation places it: path, query or body.

    Commands carry their input in the body and questions in the query, so a
    stray query parameter of the same name never moves a body field.
    """
    name = field.split(".")[0]
    if name in request.path_params:
        return f"path.{field}"
    if request.method in ("POST", "PUT", "PATCH"):
        return f"body.{field}"
    return f"query.{field}"


def _malformed_input(item: dict[str, Any]) -> dict[str, str]:
    """One validation error as ``field`` and ``message``.

    Broken JSON is placed at the body, with where it broke in the message,
    rather than at a character offset posing as a field.
    """
    if item["type"] == "json_invalid":
        position = item["loc"][-1]
        reason = item.get("ctx", {}).get("error", "")
        return {
            "field": "body",
            "message": f"Not valid JSON at character {position}: {reason}.",
        }
    return {"field": _field_path(item["loc"]), "message": item["msg"]}


def install_problem_handlers(api: FastAPI) -> None:
    """Turns every failure into ``application/problem+json``."""

    @api.exception_handler(ServiceError)
    async def on_service_error(request: Request, error: ServiceError) -> JSONResponse:
        headers = {"Retry-After": "2"} if error.status == 503 else None
        data = dict(error.data)

        # A broken rule names its field like a malformed input does, so a
        # client reads every 422 from the same ``errors`` list.
        if error.status == 422 and isinstance(data.get("field"), str):
            data.setdefault(
                "errors",
                [
                    {
                        "field": _input_path(request, data["field"]),
                        "message": error.detail,
                    }
                ],
            )
        return problem_response(
            status=error.status,
            title=error.title,
            problem=error.problem,
            detail=error.detail,
            instance=request.url.path,
            headers=headers,
            **data,
        )

    @api.exception_handler(RequestValidationError)
    async def on_invalid_request(
        request: Request, error: RequestValidationError
    ) -> JSONResponse:
        errors = [_malformed_input(item) for item in error.errors()]
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
        logger.warning("event store error", extra={"error": repr(error)})
        if isinstance(error, IntegrityError):
            status, title, problem, detail = (
                503,
                "Busy: try again",
                "busy",
                "Too many simultaneous changes to the same record; try again.",
            )
        elif isinstance(error, OperationalError | InterfaceError):
            status, title, problem, detail = (
                503,
                "Event store unavailable",
                "store-unavailable",
                "The database did not answer; try again in a few seconds.",
            )
        else:
            status, title, problem, detail = (
                500,
                "Event store error",
                "store-error",
                "The database refused the change; nothing was stored.",
            )
        return problem_response(
            status=status,
            title=title,
            problem=problem,
            detail=detail,
            instance=request.url.path,
            headers={"Retry-After": "2"} if status == 503 else None,
        )


class FailFastWhileStoreDown:
    """Answers 503 at once while the event store is known to be down.

    The probes stay open: ``/ready`` must say why the service is not ready.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = (
            getattr(scope["app"].state, "runtime", None)
            if scope["type"] == "http"
            else None
        )
        if runtime is None or runtime.store_up or scope["path"] in _PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            status=503,
            title="Event store unavailable",
            problem="store-unavailable",
            detail="The database does not answer; try again in a few seconds.",
            instance=scope["path"],
            headers={"Retry-After": "2"},
        )
        await response(scope, receive, send)


class UnexpectedErrors:
    """Answers any error no handler took with a 500 problem, logged once.

    Sits inside Starlette's outermost error middleware, which would answer too
    but then re-raise, so the server drops a keep-alive connection the client
    still holds.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            logger.exception("unexpected error", exc_info=error)
            if started:
                return
            response = problem_response(
                status=500,
                title="Internal error",
                problem="internal-error",
                detail="Something went wrong on our side; nothing was stored.",
                instance=scope.get("path", ""),
            )
            await response(scope, receive, send)


class BodySizeLimit:
    """Refuses request bodies over a limit with 413, without reading them whole.

    A declared ``Content-Length`` over the limit is refused at once. A chunked
    body is counted as it streams: past the limit the 413 goes out, the
    application is told the client left, and whatever it answers is dropped.
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
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes and not started:
                    refused = True
                    await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem_response(
            status=413,
            title="Request body too large",
            problem="body-too-large",
            detail=f"The body is over the limit of {self.max_body_bytes} bytes.",
            instance=scope.get("path", ""),
            limit_bytes=self.max_body_bytes,
        )
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


@dataclass
class Runtime:
    """What a running service holds: its application, NATS side and workers."""

    app: ServiceApplication
    messaging: Messaging
    workers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    store_answers: Callable[[], bool] = lambda: True
    store_up: bool = True

    async def watch_store(self) -> None:
        """Notes every second whether the event store answers.

        The store library retries a failing call for many seconds; while the
        store is known to be down, requests are refused at once instead.
        """
        while True:
            up = await asyncio.to_thread(self.store_answers)
            if up != self.store_up:
                log = logger.info if up else logger.warning
                log("event store " + ("back" if up else "down"))
            self.store_up = up
            await asyncio.sleep(STORE_WATCH_SECONDS)


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
        workers: list[asyncio.Future[None]] = [
            asyncio.ensure_future(worker())
            for worker in [*runtime.workers, runtime.watch_store]
        ]
        logger.info("service started")
        try:
            yield
        finally:
            for task in workers:
                task.cancel()
            if workers:
                await asyncio.wait(workers, timeout=5)
            await runtime.messaging.stop()
            runtime.app.close()
            logger.info("service stopped")

    api = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan
    )
    install_problem_handlers(api)
    api.add_middleware(UnexpectedErrors)
    api.add_middleware(FailFastWhileStoreDown)
    api.add_middleware(BodySizeLimit, max_body_bytes=max_body_bytes)
    api.include_router(_probes_router(service))
    for router in routers:
        api.include_router(router)
    _document_problems(api)
    return api


def _document_problems(api: FastAPI) -> None:
    """Makes the OpenAPI say what the handlers do: errors are problem+json."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(
            title=api.title,
            version=api.version,
            description=api.description,
            routes=api.routes,
        )

        # The problem schema, with its parts, replaces FastAPI's own error shape.
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        reference = {"$ref": "#/components/schemas/Problem"}

        # Every error answer of every operation is a problem document.
        for path in schema["paths"].values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for status, answer in _COMMON_RESPONSES.items():
                    responses.setdefault(status, dict(answer))
                if "requestBody" in operation:
                    for status, answer in _BODY_RESPONSES.items():
                        responses.setdefault(status, dict(answer))
                for status, answer in responses.items():
                    if str(status)[0] in "45" and not _has_own_model(answer):
                        answer["content"] = {PROBLEM_JSON: {"schema": reference}}
                    if answer.get("description") == "Validation Error":
                        answer["description"] = _COMMON_RESPONSES["422"]["description"]
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def _has_own_model(answer: dict[str, Any]) -> bool:
    """A response that declares its own model (readiness) keeps it."""
    for media in answer.get("content", {}).values():
        reference = media.get("schema", {}).get("$ref", "")
        if reference and not reference.endswith("/HTTPValidationError"):
            return True
    return False


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# For routes that take a request id or reference (``request_id_finder``).
REFERENCE_NOT_FOUND: Responses = {
    404: {"description": "No request with that reference has reached the service"}
}


class UnknownReferenceError(NotFoundError):
    """No request with this reference has reached the service."""


def request_id_finder(
    view_of: Callable[[Request], LogView],
) -> Callable[[str, Request], UUID]:
    """A dependency reading ``{request_id}`` as an id or as its reference.

    Staff quote the reference the stakeholder gave them; each service finds
    it in its own view, so a request it has not heard of yet is not found.
    """

    def find_request_id(
        request_id: Annotated[
            str,
            Path(
                max_length=100,
                description="The request's id, or the reference the stakeholder "
                "quotes (PPJ-2026-00001).",
            ),
        ],
        request: Request,
    ) -> UUID:
        try:
            return UUID(request_id)
        except ValueError:
            pass
        found = view_of(request).request_id_of(request_id)
        if found is None:
            raise UnknownReferenceError(
                f"No request with the reference {request_id!r} has reached this "
                "service (yet).",
                field="request_id",
            )
        return found

    return find_request_id


PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def prometheus_text(service: str, messaging: Messaging, relay_lag: int | None) -> str:
    """The service's metrics: one family per line group, labelled by consumer."""
    lines = [
        "# HELP purnajual_nats_connected 1 while connected to NATS.",
        "# TYPE purnajual_nats_connected gauge",
        f'purnajual_nats_connected{{service="{service}"}} '
        f"{int(messaging.is_ready()[1]['nats_connected'])}",
    ]
    if relay_lag is not None:
        lines += [
            "# HELP purnajual_relay_lag Log positions committed, not yet published.",
            "# TYPE purnajual_relay_lag gauge",
            f'purnajual_relay_lag{{service="{service}"}} {relay_lag}',
        ]
    families = [
        ("consumer_attached", "gauge", "1 while the consumer is attached.", "attached"),
        ("consumer_pending", "gauge", "Messages waiting on the server.", "pending"),
        ("consumer_processed_total", "counter", "Events applied.", "processed"),
        ("consumer_duplicates_total", "counter", "Redeliveries skipped.", "duplicates"),
        (
            "consumer_dead_lettered_total",
            "counter",
            "Messages set aside.",
            "dead_lettered",
        ),
        ("consumer_stalls_total", "counter", "Silent stalls recovered.", "stalls"),
    ]
    for name, kind, help_text, attribute in families:
        lines += [
            f"# HELP purnajual_{name} {help_text}",
            f"# TYPE purnajual_{name} {kind}",
        ]
        for consumer in messaging.consumers:
            labels = f'service="{service}",consumer="{consumer.durable}"'
            value = int(getattr(consumer.status, attribute))
            lines.append(f"purnajual_{name}{{{labels}}} {value}")
    return "\n".join(lines) + "\n"


class ViewRebuild(BaseModel):
    service: str
    rows: int = Field(description="Rows in the rebuilt read model")
    equal_to_live: bool = Field(
        description="Whether the rebuilt model equals the one it replaced"
    )


class Readiness(BaseModel):
    service: str
    ready: bool
    database: bool
    relay_lag: int | None = Field(
        None, description="Log positions committed but not yet passed by the relay"
    )
    nats_connected: bool
    streams_ready: bool
    consumers: dict[str, dict[str, Any]] = Field(
        description="Per upstream stream: attached, seconds since the last fetch, "
        "events processed, duplicates skipped, messages dead-lettered"
    )


def _probes_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        """Alive: the process is up and serving HTTP."""
        return {"status": "ok", "service": service}

    @router.get(
        "/ready",
        summary="Readiness: database and NATS reachable, consumers attached",
        response_model=Readiness,
        responses={
            503: {"model": Readiness, "description": "Not ready; the body says why"}
        },
    )
    async def ready(request: Request) -> JSONResponse:
        """Ready: the event store answers, NATS is connected, consumers fetch."""
        runtime = runtime_of(request)
        database_ok = True
        relay = runtime.messaging.relay
        relay_lag: int | None = None
        try:
            if relay is not None:
                relay_lag = await asyncio.wait_for(asyncio.to_thread(relay.lag), 3)
            else:
                await asyncio.wait_for(
                    asyncio.to_thread(runtime.app.recorder.max_notification_id), 3
                )
        except Exception as error:
            logger.warning(
                "readiness: database check failed", extra={"error": repr(error)}
            )
            database_ok = False
        messaging_ok, messaging = runtime.messaging.is_ready()
        body = {
            "service": service,
            "ready": database_ok and messaging_ok,
            "database": database_ok,
            "relay_lag": relay_lag,
            **messaging,
        }
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    @router.get(
        "/metrics",
        summary="Prometheus metrics of the relay and the consumers",
        response_class=PlainTextResponse,
        responses={200: {"content": {PROMETHEUS_TEXT: {}}}},
    )
    async def metrics(request: Request) -> PlainTextResponse:
        """Counters and gauges in the Prometheus text format."""
        runtime = runtime_of(request)
        lag: int | None = None
        if runtime.messaging.relay is not None:
            try:
                lag = await asyncio.wait_for(
                    asyncio.to_thread(runtime.messaging.relay.lag), 3
                )
            except Exception as error:
                logger.warning(
                    "metrics: relay lag unknown", extra={"error": repr(error)}
                )
        text = prometheus_text(service, runtime.messaging, lag)
        text += "".join(
            line + "\n" for line in await asyncio.to_thread(runtime.app.metric_lines)
        )
        return PlainTextResponse(text, media_type=PROMETHEUS_TEXT)

    @router.post(
        "/admin/rebuild-views",
        response_model=ViewRebuild,
        summary="Rebuild the read models from the events",
    )
    async def rebuild_views(request: Request) -> ViewRebuild:
        """Replays the whole event log into fresh read models and swaps them in."""
        app = runtime_of(request).app
        equal = await asyncio.to_thread(app.rebuild_views)
        view = getattr(app, "view", None)
        rows = len(view.rows) if view is not None else 0
        return ViewRebuild(service=service, rows=rows, equal_to_live=equal)

    return router
