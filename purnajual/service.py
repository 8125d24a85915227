"""How a service is put together and run; each ``main`` describes only itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import uvicorn
from fastapi import APIRouter, FastAPI

from purnajual.contracts import StreamSpec
from purnajual.messaging import Messaging, Translator
from purnajual.observability import configure_logging
from purnajual.persistence import (
    PostgresLocation,
    ServiceApplication,
    event_store_env,
    store_probe,
)
from purnajual.settings import ServiceSettings
from purnajual.web import Runtime, create_service_api

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
AppT = TypeVar("AppT", bound=ServiceApplication)


@dataclass(frozen=True)
class ServiceDefinition(Generic[SettingsT, AppT]):
    """Everything that makes one service different from the others."""

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    settings_class: type[SettingsT]
    make_application: Callable[[dict[str, str], SettingsT], AppT]
    translate: Translator
    own_stream: StreamSpec
    consumes: Sequence[tuple[StreamSpec, Sequence[str]]]
    make_workers: Callable[[AppT, SettingsT], list[Callable[[], Awaitable[None]]]] = (
        field(default=lambda app, settings: [])
    )

    def create_app(self, settings: SettingsT | None = None) -> FastAPI:
        """The service as an ASGI app; nothing connects until it starts."""
        settings = settings or self.settings_class()

        def build_runtime() -> Runtime:
            env = event_store_env(
                service=self.name,
                database_url=settings.database_url,
                var_dir=settings.var_dir,
            )
            application = self.make_application(env, settings)
            return Runtime(
                app=application,
                messaging=Messaging(
                    service=self.name,
                    nats_url=settings.nats_url,
                    app=application,
                    translate=self.translate,
                    own_stream=self.own_stream,
                    consumes=self.consumes,
                    stream_replicas=settings.stream_replicas,
                ),
                workers=self.make_workers(application, settings),
                store_answers=store_probe(settings.database_url),
            )

        return create_service_api(
            service=self.name,
            title=self.title,
            description=self.description,
            routers=self.routers,
            build_runtime=build_runtime,
            max_body_bytes=settings.max_body_bytes,
        )

    def run(self) -> None:
        """Runs the service in the foreground until it is stopped."""
        settings = self.settings_class()
        configure_logging(self.name, settings.log_level)

        # Waited for here, before the server starts, where a stop signal
        # still ends the process at once.
        if settings.database_url:
            location = PostgresLocation.from_url(settings.database_url, self.name)
            location.wait_until_it_answers()

        uvicorn.run(
            self.create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
