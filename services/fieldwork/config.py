"""Fieldwork's settings, and the quality standards as versioned data."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from purnajual.numbering import LetterFormat
from purnajual.settings import ServiceSettings

DEFAULT_STANDARDS_FILE = Path(__file__).with_name("quality_standards.json")


class QualityStandard(BaseModel):
    """One edition of the frozen-semen standard; verdicts record which."""

    model_config = ConfigDict(frozen=True)

    code: str
    title: str
    min_post_thaw_motility_percent: float = Field(ge=0, le=100)
    min_individual_motility_score: float = Field(ge=0, le=5)
    sperm_per_straw_million: float | None = None


class FieldworkSettings(ServiceSettings):
    host: str = Field("127.0.0.1", validation_alias="FIELDWORK_HOST")
    port: int = Field(8004, validation_alias="FIELDWORK_PORT")
    quality_standards_file: Path = Field(
        DEFAULT_STANDARDS_FILE, validation_alias="FIELDWORK_QUALITY_STANDARDS_FILE"
    )
    quality_standard: str = Field(
        "SNI 4869-1:2017", validation_alias="FIELDWORK_QUALITY_STANDARD"
    )
    berita_acara_kind: str = Field("BA", validation_alias="FIELDWORK_BERITA_ACARA_KIND")
    berita_acara_classification: str = Field(
        "PK.210", validation_alias="FIELDWORK_BERITA_ACARA_CLASSIFICATION"
    )
    berita_acara_unit: str = Field(
        "F2.J", validation_alias="FIELDWORK_BERITA_ACARA_UNIT"
    )

    def standard(self) -> QualityStandard:
        """The edition in force. Raises ``ValueError`` if it is not in the file."""
        raw = json.loads(self.quality_standards_file.read_text(encoding="utf-8"))
        standards = {item["code"]: QualityStandard.model_validate(item) for item in raw}
        if self.quality_standard not in standards:
            raise ValueError(
                f"quality standard {self.quality_standard!r} is not in "
                f"{self.quality_standards_file}; known: {', '.join(standards)}"
            )
        return standards[self.quality_standard]

    def berita_acara_format(self) -> LetterFormat:
        return LetterFormat(
            kind=self.berita_acara_kind,
            classification=self.berita_acara_classification,
            unit=self.berita_acara_unit,
        )
