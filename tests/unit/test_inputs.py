"""Input rules shared by the APIs: characters, not bytes; visible text only."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.intake.api import SubmissionIn
from tests.builders import submission

JAVANESE_LETTER = "ꦱ"  # three bytes in UTF-8
FARMER = "👩🏽‍🌾"  # one person, five code points joined


def with_institution(name: str) -> dict[str, Any]:
    body = submission()
    body["stakeholder"]["institution"] = name
    return body


def test_limits_count_characters_not_bytes() -> None:
    at_the_limit = SubmissionIn.model_validate(with_institution(JAVANESE_LETTER * 200))

    with pytest.raises(ValidationError):
        SubmissionIn.model_validate(with_institution(JAVANESE_LETTER * 201))
    assert len(at_the_limit.stakeholder.institution.encode()) == 600


@pytest.mark.parametrize(
    "text",
    [
        "H. Ma'ruf Abdullah",
        "ꦏꦼꦭꦺꦴꦩ꧀ꦥꦺꦴꦏ꧀ ꦠꦤꦶ",
        "مزرعة الأبقار",
        f"Peternak {FARMER} dan 🐄",
        "Cafe\u0301 Susu",
        "baris satu\nbaris dua\ttab",
    ],
)
def test_text_in_any_script_is_kept_exactly(text: str) -> None:
    parsed = SubmissionIn.model_validate({**submission(), "description": text})

    assert parsed.description == text


@pytest.mark.parametrize(
    "text", ["   ", "\u200b\u200d", "\u2028", "a\u0000b", "a\u001bb"]
)
def test_blank_invisible_or_control_text_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        SubmissionIn.model_validate({**submission(), "description": text})
