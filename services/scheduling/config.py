"""Scheduling's settings."""

from __future__ import annotations

from pydantic import Field

from purnajual.numbering import LetterFormat
from purnajual.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    host: str = Field("127.0.0.1", validation_alias="SCHEDULING_HOST")
    port: int = Field(8003, validation_alias="SCHEDULING_PORT")
    assignment_kind: str = Field("ST", validation_alias="SCHEDULING_ASSIGNMENT_KIND")
    assignment_classification: str = Field(
        "KP.440", validation_alias="SCHEDULING_ASSIGNMENT_CLASSIFICATION"
    )
    assignment_unit: str = Field("F2.J", validation_alias="SCHEDULING_ASSIGNMENT_UNIT")

    max_visit_days: int = Field(
        14, ge=1, le=60, validation_alias="SCHEDULING_MAX_VISIT_DAYS"
    )
    horizon_days: int = Field(365, ge=1, validation_alias="SCHEDULING_HORIZON_DAYS")

    def assignment_format(self) -> LetterFormat:
        return LetterFormat(
            kind=self.assignment_kind,
            classification=self.assignment_classification,
            unit=self.assignment_unit,
        )
