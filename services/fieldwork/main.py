"""Wires fieldwork together: settings, event store, NATS, HTTP."""

from __future__ import annotations

from purnajual.service import ServiceDefinition
from services.fieldwork import api, messaging
from services.fieldwork.application import FieldworkApplication
from services.fieldwork.config import FieldworkSettings


def make_application(
    env: dict[str, str], settings: FieldworkSettings
) -> FieldworkApplication:
    return FieldworkApplication(
        env=env,
        standard=settings.standard(),
        berita_acara_format=settings.berita_acara_format(),
    )


FIELDWORK = ServiceDefinition(
    name="fieldwork",
    title="purnajual fieldwork",
    description=(
        "Field visits and their signed reports (Berita Acara): samples per bull and "
        "batch judged against the configured edition of SNI 4869-1, container "
        "checks, findings and recommendations."
    ),
    routers=[api.router],
    settings_class=FieldworkSettings,
    make_application=make_application,
    translate=messaging.to_integration_event,
    own_stream=messaging.OWN_STREAM,
    consumes=messaging.CONSUMES,
)
create_app = FIELDWORK.create_app
