"""Input types every service's API shares: text as people type it, and
dates and times as they are written.

Lengths count characters, not bytes, so a name in Javanese script or with
emoji gets the same room as one in Latin letters. Text must show something:
blank text, text of only invisible characters (zero-width spaces, joiners)
and control characters other than tab and line breaks are refused.

Dates and times are ISO 8601 text. Pydantic would also read a number, or a
string of digits, as seconds since 1970; from a form or a person that is a
mistake that would file a letter decades away, so it is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints

_ALLOWED_CONTROLS = frozenset("\t\n\r")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _shows_something(value: str) -> str:
    for character in value:
        if unicodedata.category(character) == "Cc" and character not in (
            _ALLOWED_CONTROLS
        ):
            raise ValueError(f"contains the control character U+{ord(character):04X}")
    if all(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in value):
        raise ValueError("must contain visible text")
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    AfterValidator(_shows_something),
]


_A_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _written_out(example: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, int | float) or (
            isinstance(value, str) and _A_NUMBER.fullmatch(value)
        ):
            raise ValueError(f"must be written as {example}")
        return value

    return check


IsoDateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_written_out("YYYY-MM-DDTHH:MM:SS+07:00 (ISO 8601)")),
]
IsoDate = Annotated[date, BeforeValidator(_written_out("YYYY-MM-DD (ISO 8601)"))]
