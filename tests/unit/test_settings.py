"""Settings: the embedded default needs nothing; production needs real secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from purnajual.persistence import PostgresLocation
from services.notifier.config import NotifierSettings


def test_the_embedded_default_needs_no_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DATABASE_URL", "NATS_URL", "PURNAJUAL_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)

    settings = NotifierSettings()

    assert settings.database_url is None
    assert settings.port == 8005
    assert settings.email_transport == "file"


def test_production_refuses_a_placeholder_database_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PURNAJUAL_ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://purnajual:CHANGE-ME@db/purnajual")

    with pytest.raises(ValidationError, match="real secret"):
        NotifierSettings()


def test_production_refuses_a_placeholder_gateway_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PURNAJUAL_ENVIRONMENT", "production")
    monkeypatch.setenv("NOTIFIER_WHATSAPP_TRANSPORT", "http")
    monkeypatch.setenv("NOTIFIER_WHATSAPP_GATEWAY_URL", "https://wa.example.id/send")
    monkeypatch.setenv("NOTIFIER_WHATSAPP_TOKEN", "changeme")

    with pytest.raises(ValidationError, match="NOTIFIER_WHATSAPP_TOKEN"):
        NotifierSettings()


def test_a_postgres_url_names_the_parts_and_the_schema() -> None:
    location = PostgresLocation.from_url(
        "postgresql://pj%40bib:s%2Fcret@db.local:6543/purnajual", schema="intake"
    )

    assert (location.user, location.password, location.host, location.port) == (
        "pj@bib",
        "s/cret",
        "db.local",
        6543,
    )
    assert (location.dbname, location.schema) == ("purnajual", "intake")


@pytest.mark.parametrize(
    "targets",
    [
        '{"decision": {}}',
        '{"decision": {"minutes": 0}}',
        '{"field_visit": {"working_days": 0}}',
        '{"field_visit": {"working_days": 2.5}}',
        '{"field_visit": {"working_days": 5, "warning_working_days": 6}}',
        '{"lunch": {"minutes": 10}}',
    ],
)
def test_time_standards_that_make_no_sense_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, targets: str
) -> None:
    monkeypatch.setenv("NOTIFIER_SLA_TARGETS", targets)

    with pytest.raises(ValueError):
        NotifierSettings().targets()
