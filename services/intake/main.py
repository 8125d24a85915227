"""Wires intake together: settings, event store, NATS, HTTP."""

from __future__ import annotations

from datetime import timedelta

from purnajual.service import ServiceDefinition
from services.intake import api, messaging
from services.intake.application import IntakeApplication
from services.intake.config import IntakeSettings


def make_application(
    env: dict[str, str], settings: IntakeSettings
) -> IntakeApplication:
    return IntakeApplication(
        env=env,
        catalogue=settings.catalogue(),
        reference_prefix=settings.reference_prefix,
        future_tolerance=timedelta(seconds=settings.future_tolerance_seconds),
    )


INTAKE = ServiceDefinition(
    name="intake",
    title="purnajual intake",
    description=(
        "Receives after-sales service requests from every channel (website, online "
        "form, email, WhatsApp, post, fax, phone, walk-in), registers each once, and "
        "shows each request's status and timeline."
    ),
    routers=[api.forms_router, api.router],
    settings_class=IntakeSettings,
    make_application=make_application,
    translate=messaging.to_integration_event,
    own_stream=messaging.OWN_STREAM,
    consumes=messaging.CONSUMES,
)
create_app = INTAKE.create_app
