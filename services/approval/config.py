"""Approval's settings."""

from __future__ import annotations

from pydantic import Field

from purnajual.numbering import LetterFormat
from purnajual.settings import ServiceSettings


class ApprovalSettings(ServiceSettings):
    host: str = Field("127.0.0.1", validation_alias="APPROVAL_HOST")
    port: int = Field(8002, validation_alias="APPROVAL_PORT")
    letter_kind: str = Field("B", validation_alias="APPROVAL_LETTER_KIND")
    letter_classification: str = Field(
        "PK.210", validation_alias="APPROVAL_LETTER_CLASSIFICATION"
    )
    letter_unit: str = Field("F2.J", validation_alias="APPROVAL_LETTER_UNIT")

    def letter_format(self) -> LetterFormat:
        return LetterFormat(
            kind=self.letter_kind,
            classification=self.letter_classification,
            unit=self.letter_unit,
        )
