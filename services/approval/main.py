"""Wires approval together: settings, event store, NATS, HTTP."""

from __future__ import annotations

from purnajual.service import ServiceDefinition
from services.approval import api, messaging
from services.approval.application import ApprovalApplication
from services.approval.config import ApprovalSettings


def make_application(
    env: dict[str, str], settings: ApprovalSettings
) -> ApprovalApplication:
    return ApprovalApplication(env=env, letter_format=settings.letter_format())


APPROVAL = ServiceDefinition(
    name="approval",
    title="purnajual approval",
    description=(
        "The head of the center's inbox: approve a request with a disposition, or "
        "reject it, and issue the numbered rejection letter."
    ),
    routers=[api.router],
    settings_class=ApprovalSettings,
    make_application=make_application,
    translate=messaging.to_integration_event,
    own_stream=messaging.OWN_STREAM,
    consumes=messaging.CONSUMES,
)
create_app = APPROVAL.create_app
