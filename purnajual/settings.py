"""Settings every service shares, read from the environment once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password"})


class ServiceSettings(BaseSettings):
    """Shared settings; each service subclasses it with its own, prefixed ones.

    ``DATABASE_URL`` unset means the embedded default: one SQLite file per
    service under ``PURNAJUAL_VAR_DIR``. Set, it is a PostgreSQL URL and each
    service keeps its tables in a schema named after itself.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8000
    environment: Literal["development", "production"] = Field(
        "development", validation_alias="PURNAJUAL_ENVIRONMENT"
    )
    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias="NATS_URL")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    var_dir: Path = Field(Path("var"), validation_alias="PURNAJUAL_VAR_DIR")
    stream_replicas: int = Field(
        1, ge=1, le=5, validation_alias="PURNAJUAL_STREAM_REPLICAS"
    )
    log_level: str = Field("INFO", validation_alias="PURNAJUAL_LOG_LEVEL")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, validation_alias="PURNAJUAL_MAX_BODY_BYTES"
    )

    @model_validator(mode="after")
    def _real_database_password(self) -> ServiceSettings:
        if self.database_url:
            password = urlsplit(self.database_url).password
            if password is not None:
                self.refuse_placeholder("the DATABASE_URL password", unquote(password))
        return self

    def refuse_placeholder(self, name: str, value: str | None) -> None:
        """Outside development a secret must be a real one."""
        text = (value or "").lower()
        if self.environment == "production" and (
            text in PLACEHOLDER_SECRETS or text.startswith("change")
        ):
            raise ValueError(f"{name} must be set to a real secret in production")
