"""Intake's settings and its catalogue of after-sales services."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from purnajual.settings import ServiceSettings


class ServiceKind(BaseModel):
    """One kind of after-sales service the center offers."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    name: str
    description: str = ""


DEFAULT_CATALOGUE: tuple[ServiceKind, ...] = (
    ServiceKind(
        code="field_semen_test",
        name="Uji kualitas semen beku di lapangan",
        description="Field test of frozen-semen quality with a microscope.",
    ),
    ServiceKind(
        code="container_check",
        name="Pemeriksaan kontainer dan depo",
        description="Check of liquid-nitrogen containers and depot storage.",
    ),
    ServiceKind(
        code="technical_guidance",
        name="Bimbingan teknis",
        description="Technical guidance for inseminators and depot staff.",
    ),
    ServiceKind(
        code="training",
        name="Pelatihan",
        description="Training in semen handling and insemination.",
    ),
    ServiceKind(
        code="complaint",
        name="Penanganan keluhan",
        description="Handling a complaint, e.g. poor conception rates.",
    ),
)


class IntakeSettings(ServiceSettings):
    host: str = Field("127.0.0.1", validation_alias="INTAKE_HOST")
    port: int = Field(8001, validation_alias="INTAKE_PORT")
    reference_prefix: str = Field(
        "PPJ", pattern=r"^[A-Z]{2,6}$", validation_alias="INTAKE_REFERENCE_PREFIX"
    )
    service_catalogue_file: Path | None = Field(
        None, validation_alias="INTAKE_SERVICE_CATALOGUE_FILE"
    )
    future_tolerance_seconds: int = Field(
        300, ge=0, validation_alias="INTAKE_FUTURE_TOLERANCE_SECONDS"
    )

    def catalogue(self) -> dict[str, ServiceKind]:
        """The configured catalogue: a JSON list of kinds, or the default one."""
        kinds = DEFAULT_CATALOGUE
        if self.service_catalogue_file is not None:
            raw = json.loads(self.service_catalogue_file.read_text(encoding="utf-8"))
            kinds = tuple(ServiceKind.model_validate(item) for item in raw)
        return {kind.code: kind for kind in kinds}
