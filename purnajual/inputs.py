"""Input types every service's API shares: text as people type it.

Lengths count characters, not bytes, so a name in Javanese script or with
emoji gets the same room as one in Latin letters. Text must show something:
blank text, text of only invisible characters (zero-width spaces, joiners)
and control characters other than tab and line breaks are refused.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

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
