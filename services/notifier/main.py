"""Wires the notifier together: settings, transports, event store, NATS, HTTP."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from purnajual.service import ServiceDefinition
from services.notifier import api, calendar_api, messaging, report_api, sla_api
from services.notifier.application import NotifierApplication
from services.notifier.config import NotifierSettings
from services.notifier.domain import DeliveryChannel
from services.notifier.transports import (
    FileOutbox,
    SmtpTransport,
    Transport,
    WhatsAppGateway,
)


def make_transports(settings: NotifierSettings) -> dict[DeliveryChannel, Transport]:
    outbox = FileOutbox(settings.outbox())
    email: Transport = outbox
    if settings.email_transport == "smtp":
        email = SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    whatsapp: Transport = outbox
    if settings.whatsapp_transport == "http":
        assert settings.whatsapp_gateway_url is not None
        whatsapp = WhatsAppGateway(
            url=settings.whatsapp_gateway_url, token=settings.whatsapp_token
        )
    return {DeliveryChannel.EMAIL: email, DeliveryChannel.WHATSAPP: whatsapp}


def make_application(
    env: dict[str, str], settings: NotifierSettings
) -> NotifierApplication:
    application = NotifierApplication(
        env=env,
        transports=make_transports(settings),
        max_delivery_attempts=settings.max_delivery_attempts,
        sla_targets=settings.targets(),
        warning_share=settings.sla_warning_share,
        initial_calendar=json.loads(settings.calendar_file.read_text("utf-8")),
        operations_emails=[
            address.strip()
            for address in settings.operations_emails.split(",")
            if address.strip()
        ],
    )
    return application


def make_workers(
    app: NotifierApplication, settings: NotifierSettings
) -> list[Callable[[], Awaitable[None]]]:
    return [app.dispatch_forever, app.watch_clocks_forever]


NOTIFIER = ServiceDefinition(
    name="notifier",
    title="purnajual notifier",
    description=(
        "Tells the stakeholder, on the channel they used, of the receipt, the "
        "rejection letter, the schedule and the Berita Acara; records what was "
        "delivered, and lets staff confirm deliveries made by hand."
    ),
    routers=[api.router, calendar_api.router, sla_api.router, report_api.router],
    settings_class=NotifierSettings,
    make_application=make_application,
    translate=messaging.to_integration_event,
    own_stream=messaging.OWN_STREAM,
    consumes=messaging.CONSUMES,
    make_workers=make_workers,
)
create_app = NOTIFIER.create_app
