"""Wires scheduling together: settings, event store, NATS, HTTP."""

from __future__ import annotations

from purnajual.service import ServiceDefinition
from services.scheduling import api, messaging
from services.scheduling.application import SchedulingApplication
from services.scheduling.config import SchedulingSettings


def make_application(
    env: dict[str, str], settings: SchedulingSettings
) -> SchedulingApplication:
    return SchedulingApplication(
        env=env,
        assignment_format=settings.assignment_format(),
        max_visit_days=settings.max_visit_days,
        horizon_days=settings.horizon_days,
    )


SCHEDULING = ServiceDefinition(
    name="scheduling",
    title="purnajual scheduling",
    description=(
        "The section head's planning of field visits: approved requests waiting "
        "for a schedule, and numbered schedules that never double-book an officer."
    ),
    routers=[api.router],
    settings_class=SchedulingSettings,
    make_application=make_application,
    translate=messaging.to_integration_event,
    own_stream=messaging.OWN_STREAM,
    consumes=messaging.CONSUMES,
)
create_app = SCHEDULING.create_app
