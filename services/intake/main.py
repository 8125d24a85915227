"""Wires intake together: settings, event store, NATS, HTTP."""

from __future__ import annotations

from datetime import timedelta

import uvicorn
from fastapi import FastAPI

from purnajual.messaging import Messaging
from purnajual.observability import configure_logging
from purnajual.persistence import event_store_env
from purnajual.web import Runtime, create_service_api
from services.intake import api, messaging
from services.intake.application import IntakeApplication
from services.intake.config import IntakeSettings

SERVICE = "intake"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """The intake service as an ASGI app; nothing connects until it starts."""
    settings = settings or IntakeSettings()

    def build_runtime() -> Runtime:
        application = IntakeApplication(
            env=event_store_env(
                service=SERVICE,
                database_url=settings.database_url,
                var_dir=settings.var_dir,
            ),
            catalogue=settings.catalogue(),
            reference_prefix=settings.reference_prefix,
            future_tolerance=timedelta(seconds=settings.future_tolerance_seconds),
        )
        return Runtime(
            app=application,
            messaging=Messaging(
                service=SERVICE,
                nats_url=settings.nats_url,
                app=application,
                translate=messaging.to_integration_event,
                own_stream=messaging.OWN_STREAM,
                consumes=messaging.CONSUMES,
                stream_replicas=settings.stream_replicas,
            ),
        )

    return create_service_api(
        service=SERVICE,
        title="purnajual intake",
        description=(
            "Receives after-sales service requests from every channel (website, "
            "online form, email, WhatsApp, post, fax, phone, walk-in), registers "
            "each once, and shows each request's status and timeline."
        ),
        routers=[api.router],
        build_runtime=build_runtime,
        max_body_bytes=settings.max_body_bytes,
    )


def run() -> None:
    settings = IntakeSettings()
    configure_logging(SERVICE, settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )
