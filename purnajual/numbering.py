"""Official numbers: letter numbers and request references.

A number once issued never changes and is never issued twice. Each series
(for example ordinary letters of unit F2.J in 2026) is an aggregate whose
version moves with every number, so two writers racing for the next number
collide on the version, and the loser retries with the next one. The counter
is saved in the same transaction as the document that carries its number.

Each service numbers its own kind of document in its own series. In the
paper world one unit keeps one running number for all its ordinary letters;
services cannot share an aggregate, so give each kind of letter its own
classification code (configuration) and the numbers stay unambiguous.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict

OFFICE_TIME_ZONE = ZoneInfo("Asia/Jakarta")
NUMBERING_NAMESPACE = uuid5(NAMESPACE_URL, "https://purnajual.biblembang.id/numbering")


class NumberSeries(Aggregate):
    """A running number within one series, e.g. one unit's letters in a year."""

    TOPIC = "purnajual.NumberSeries"

    class Created(Aggregate.Created):
        TOPIC = "purnajual.NumberSeries.Created"

    class Opened(Created):
        TOPIC = "purnajual.NumberSeries.Opened"
        series: str

    class NumberIssued(Aggregate.Event):
        TOPIC = "purnajual.NumberSeries.NumberIssued"
        issued_for: str

    @staticmethod
    def create_id(series: str) -> UUID:
        return uuid5(NUMBERING_NAMESPACE, series)

    @event(Opened)
    def __init__(self, series: str) -> None:
        self.series = series
        self.last_number = 0

    @event(NumberIssued)
    def issue_number(self, issued_for: str) -> None:
        """Takes the next number, recording what it was issued for."""
        self.last_number += 1


class LetterFormat(BaseModel):
    """The parts of an official letter number, all of them configuration.

    ``B-123/PK.210/F2.J/12/2026``: letter kind, running number within the year
    per issuing unit, archive classification, issuing unit, month, year.
    """

    model_config = ConfigDict(frozen=True)

    kind: str = "B"
    classification: str = "PK.210"
    unit: str = "F2.J"

    def series(self, issued_at: datetime) -> str:
        """Numbers run within a year of the office calendar, per unit."""
        year = issued_at.astimezone(OFFICE_TIME_ZONE).year
        return f"{self.kind}/{self.classification}/{self.unit}/{year}"

    def format(self, number: int, issued_at: datetime) -> str:
        local = issued_at.astimezone(OFFICE_TIME_ZONE)
        return (
            f"{self.kind}-{number}/{self.classification}/{self.unit}/"
            f"{local.month:02d}/{local.year}"
        )
