"""Notifier's settings: where email and WhatsApp messages go."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from purnajual.settings import ServiceSettings
from services.notifier.office_calendar import DEFAULT_CALENDAR_FILE
from services.notifier.sla import SlaStep, Target


class NotifierSettings(ServiceSettings):
    """Email and WhatsApp go to files under the outbox unless configured.

    ``NOTIFIER_EMAIL_TRANSPORT=smtp`` sends through ``NOTIFIER_SMTP_*``;
    ``NOTIFIER_WHATSAPP_TRANSPORT=http`` posts to ``NOTIFIER_WHATSAPP_GATEWAY_URL``.
    """

    host: str = Field("127.0.0.1", validation_alias="NOTIFIER_HOST")
    port: int = Field(8005, validation_alias="NOTIFIER_PORT")
    outbox_dir: Path | None = Field(None, validation_alias="NOTIFIER_OUTBOX_DIR")
    email_transport: Literal["file", "smtp"] = Field(
        "file", validation_alias="NOTIFIER_EMAIL_TRANSPORT"
    )
    smtp_host: str = Field("127.0.0.1", validation_alias="NOTIFIER_SMTP_HOST")
    smtp_port: int = Field(25, validation_alias="NOTIFIER_SMTP_PORT")
    smtp_sender: str = Field(
        "BIB Lembang <purnajual@biblembang.id>", validation_alias="NOTIFIER_SMTP_SENDER"
    )
    smtp_username: str | None = Field(None, validation_alias="NOTIFIER_SMTP_USERNAME")
    smtp_password: str | None = Field(None, validation_alias="NOTIFIER_SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, validation_alias="NOTIFIER_SMTP_STARTTLS")
    whatsapp_transport: Literal["file", "http"] = Field(
        "file", validation_alias="NOTIFIER_WHATSAPP_TRANSPORT"
    )
    whatsapp_gateway_url: str | None = Field(
        None, validation_alias="NOTIFIER_WHATSAPP_GATEWAY_URL"
    )
    whatsapp_token: str | None = Field(None, validation_alias="NOTIFIER_WHATSAPP_TOKEN")
    calendar_file: Path = Field(
        DEFAULT_CALENDAR_FILE,
        validation_alias="NOTIFIER_CALENDAR_FILE",
        description="The calendar loaded the first time the notifier starts; "
        "afterwards it lives in the event store and changes through the API.",
    )
    sla_targets: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        validation_alias="NOTIFIER_SLA_TARGETS",
        description='JSON by step, e.g. {"decision": {"minutes": 20}, "field_visit": '
        '{"working_days": 5, "warning_working_days": 3}}; steps not named keep the '
        "SOP's standards.",
    )
    sla_warning_share: float = Field(
        0.8, gt=0, lt=1, validation_alias="NOTIFIER_SLA_WARNING_SHARE"
    )
    operations_emails: str = Field(
        "",
        validation_alias="NOTIFIER_OPERATIONS_EMAILS",
        description="Comma-separated addresses told of every SLA breach by email.",
    )
    max_delivery_attempts: int = Field(
        5, ge=1, validation_alias="NOTIFIER_MAX_DELIVERY_ATTEMPTS"
    )

    @model_validator(mode="after")
    def _complete(self) -> NotifierSettings:
        if self.whatsapp_transport == "http" and not self.whatsapp_gateway_url:
            raise ValueError("NOTIFIER_WHATSAPP_GATEWAY_URL is needed for http")
        if self.email_transport == "smtp" and self.smtp_username:
            self.refuse_placeholder("NOTIFIER_SMTP_PASSWORD", self.smtp_password)
        if self.whatsapp_transport == "http":
            self.refuse_placeholder("NOTIFIER_WHATSAPP_TOKEN", self.whatsapp_token)
        return self

    def targets(self) -> dict[SlaStep, Target]:
        """Configured time standards; raises ``ValueError`` naming a bad step."""
        targets = {}
        for step, target in self.sla_targets.items():
            minutes = target.get("minutes")
            days = target.get("working_days")
            warning_days = target.get("warning_working_days")
            valid_minutes = minutes is not None and minutes > 0 and days is None
            valid_days = (
                days is not None and minutes is None and days >= 1 and days == int(days)
            )
            if not (valid_minutes or valid_days) or (
                warning_days is not None
                and not (days is not None and 1 <= warning_days <= days)
            ):
                raise ValueError(
                    f"NOTIFIER_SLA_TARGETS[{step!r}] needs minutes > 0, or whole "
                    "working_days >= 1 (and warning_working_days within them)"
                )
            targets[SlaStep(step)] = Target(
                minutes=minutes,
                working_days=int(days) if days is not None else None,
                warning_working_days=(
                    int(warning_days) if warning_days is not None else None
                ),
            )
        return targets

    def outbox(self) -> Path:
        return self.outbox_dir or self.var_dir / "outbox"
