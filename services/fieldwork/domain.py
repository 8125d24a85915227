"""Fieldwork's domain: a scheduled visit, its Berita Acara, and sample verdicts."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from statistics import fmean
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from purnajual.errors import ConflictError, ServiceError


class VisitStatus(StrEnum):
    SCHEDULED = "scheduled"
    BERITA_ACARA_FILED = "berita_acara_filed"


class Verdict(StrEnum):
    MEETS_STANDARD = "meets_standard"
    BELOW_STANDARD = "below_standard"


class FieldworkError(ServiceError):
    """Root of fieldwork's errors."""


class VisitConflictError(FieldworkError, ConflictError):
    """The visit is not in a state that allows this command."""


def judge_sample(
    post_thaw_motility_percent: list[float],
    individual_motility_score: float,
    standard: dict[str, Any],
) -> dict[str, Any]:
    """The verdict on one bull/batch: the mean of its straws against the standard."""
    mean_motility = round(fmean(post_thaw_motility_percent), 1)
    shortfalls = []
    if mean_motility < standard["min_post_thaw_motility_percent"]:
        shortfalls.append(
            f"post-thaw motility {mean_motility} % is below "
            f"{standard['min_post_thaw_motility_percent']} %"
        )
    if individual_motility_score < standard["min_individual_motility_score"]:
        shortfalls.append(
            f"individual motility score {individual_motility_score} is below "
            f"{standard['min_individual_motility_score']}"
        )
    return {
        "straws_tested": len(post_thaw_motility_percent),
        "mean_post_thaw_motility_percent": mean_motility,
        "verdict": (
            Verdict.BELOW_STANDARD if shortfalls else Verdict.MEETS_STANDARD
        ).value,
        "shortfalls": shortfalls,
        "standard": standard["code"],
    }


class Visit(Aggregate):
    """The field visit of one request; its id is the request's id."""

    TOPIC = "fieldwork.Visit"

    class Created(Aggregate.Created):
        TOPIC = "fieldwork.Visit.Created"

    class Scheduled(Created):
        TOPIC = "fieldwork.Visit.Scheduled"
        request_id: UUID
        reference: str
        assignment_number: str
        visit_start: date
        visit_end: date
        location: str
        officers: list[dict[str, Any]]
        equipment: list[str]
        request: dict[str, Any]

    class BeritaAcaraFiled(Aggregate.Event):
        TOPIC = "fieldwork.Visit.BeritaAcaraFiled"
        berita_acara_number: str
        report: dict[str, Any]
        quality_standard: dict[str, Any]
        reference: str

        def apply(self, aggregate: Visit) -> None:
            aggregate.status = VisitStatus.BERITA_ACARA_FILED
            aggregate.berita_acara = {
                "number": self.berita_acara_number,
                "filed_at": self.timestamp,
                "quality_standard": self.quality_standard,
                **self.report,
            }

    class Revised(Aggregate.Event):
        TOPIC = "fieldwork.Visit.Revised"
        revision: int
        visit_start: date
        visit_end: date
        location: str
        officers: list[dict[str, Any]]
        equipment: list[str]

    @staticmethod
    def create_id(request_id: UUID) -> UUID:
        return request_id

    @event(Scheduled)
    def __init__(
        self,
        request_id: UUID,
        reference: str,
        assignment_number: str,
        visit_start: date,
        visit_end: date,
        location: str,
        officers: list[dict[str, Any]],
        equipment: list[str],
        request: dict[str, Any],
    ) -> None:
        self.request_id = request_id
        self.reference = reference
        self.assignment_number = assignment_number
        self.visit_start = visit_start
        self.visit_end = visit_end
        self.location = location
        self.officers = officers
        self.equipment = equipment
        self.request = request
        self.status = VisitStatus.SCHEDULED
        self.berita_acara: dict[str, Any] | None = None
        self.revision = 0

    def can_take_revision(self, revision: int) -> bool:
        """A newer revision of a visit not yet reported."""
        return self.status == VisitStatus.SCHEDULED and revision > self.revision

    @event(Revised)
    def revise(
        self,
        revision: int,
        visit_start: date,
        visit_end: date,
        location: str,
        officers: list[dict[str, Any]],
        equipment: list[str],
    ) -> None:
        """The schedule changed before the visit: new days, place or team."""
        self.revision = revision
        self.visit_start = visit_start
        self.visit_end = visit_end
        self.location = location
        self.officers = officers
        self.equipment = equipment

    def file_berita_acara(
        self, berita_acara_number: str, report: dict[str, Any], standard: dict[str, Any]
    ) -> None:
        """Files the signed report, judging every sample against ``standard``.

        Raises ``VisitConflictError`` if a Berita Acara is already filed.
        """
        if self.status != VisitStatus.SCHEDULED:
            raise VisitConflictError(
                f"The Berita Acara of request {self.reference} is already filed.",
                request_id=str(self.id),
                current_status=self.status.value,
            )
        samples = [
            {
                **sample,
                **judge_sample(
                    sample["post_thaw_motility_percent"],
                    sample["individual_motility_score"],
                    standard,
                ),
            }
            for sample in report["samples"]
        ]
        self.trigger_event(
            self.BeritaAcaraFiled,
            berita_acara_number=berita_acara_number,
            report={**report, "samples": samples},
            quality_standard=standard,
            reference=self.reference,
        )


def summarise_samples(report: dict[str, Any]) -> tuple[int, int]:
    """How many bull/batch samples were tested, and how many met the standard."""
    samples = report["samples"]
    meeting = sum(1 for s in samples if s["verdict"] == Verdict.MEETS_STANDARD.value)
    return len(samples), meeting
