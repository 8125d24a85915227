"""The after-sales report (*Laporan Pelayanan Purna Jual*), from the events alone.

The notifier notes, per request, the facts the report counts: where and when
it came in, what it asked for, the head's decision, the field-test results.
Together with the steps' clocks they give, for the requests received in a
month: requests by channel, service kind and regency; approved and rejected;
for each step the share kept within its standard, the median and 90th
percentile of working time, and the breaches; the samples tested and the
share meeting the quality standard. Everything is rebuilt from the log.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median, quantiles
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, DomainEventProtocol, event

from purnajual.numbering import OFFICE_TIME_ZONE
from purnajual.views import LogView
from services.notifier.domain import NOTIFIER_NAMESPACE
from services.notifier.sla import ClockState, SlaStep


class RequestFacts(Aggregate):
    """What the report needs to know of one request, in any order it arrives."""

    TOPIC = "notifier.RequestFacts"

    class Created(Aggregate.Created):
        TOPIC = "notifier.RequestFacts.Created"

    class Opened(Created):
        TOPIC = "notifier.RequestFacts.Opened"
        request_id: UUID

    class Registered(Aggregate.Event):
        TOPIC = "notifier.RequestFacts.Registered"
        reference: str
        received_at: datetime
        channel: str
        services: list[str]
        regency: str | None

    class Decided(Aggregate.Event):
        TOPIC = "notifier.RequestFacts.Decided"
        approved: bool

    class FieldTested(Aggregate.Event):
        TOPIC = "notifier.RequestFacts.FieldTested"
        samples_tested: int
        samples_meeting_standard: int
        quality_standard: str

    @staticmethod
    def create_id(request_id: UUID) -> UUID:
        return uuid5(NOTIFIER_NAMESPACE, f"request-facts\x1f{request_id}")

    @event(Opened)
    def __init__(self, request_id: UUID) -> None:
        self.request_id = request_id
        self.registered = False
        self.decided = False
        self.tested = False

    @event(Registered)
    def register(
        self,
        reference: str,
        received_at: datetime,
        channel: str,
        services: list[str],
        regency: str | None,
    ) -> None:
        self.registered = True

    @event(Decided)
    def decide(self, approved: bool) -> None:
        self.decided = True

    @event(FieldTested)
    def note_field_test(
        self, samples_tested: int, samples_meeting_standard: int, quality_standard: str
    ) -> None:
        self.tested = True


@dataclass
class FactsRow:
    request_id: UUID
    reference: str | None = None
    month: str | None = None
    channel: str | None = None
    services: list[str] = field(default_factory=list)
    regency: str | None = None
    approved: bool | None = None
    samples_tested: int = 0
    samples_meeting_standard: int = 0


class FactsView(LogView):
    """The report's facts per request, from the notifier's own log."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.rows: dict[UUID, FactsRow] = {}

    def apply(self, domain_event: DomainEventProtocol[UUID]) -> None:
        if isinstance(domain_event, RequestFacts.Opened):
            self.rows[domain_event.originator_id] = FactsRow(domain_event.request_id)
            return
        row = self.rows.get(domain_event.originator_id)
        if row is None:
            return
        if isinstance(domain_event, RequestFacts.Registered):
            row.reference = domain_event.reference
            row.month = domain_event.received_at.astimezone(OFFICE_TIME_ZONE).strftime(
                "%Y-%m"
            )
            row.channel = domain_event.channel
            row.services = list(domain_event.services)
            row.regency = domain_event.regency
        elif isinstance(domain_event, RequestFacts.Decided):
            row.approved = domain_event.approved
        elif isinstance(domain_event, RequestFacts.FieldTested):
            row.samples_tested = domain_event.samples_tested
            row.samples_meeting_standard = domain_event.samples_meeting_standard


def build_report(
    month: str, facts: list[FactsRow], clocks: list[Any]
) -> dict[str, Any]:
    """The month's figures; ``clocks`` are the notifier's clock rows."""
    of_month = [row for row in facts if row.month == month]
    ids = {row.request_id for row in of_month}
    steps = []
    for step in SlaStep:
        judged = [
            c
            for c in clocks
            if c.request_id in ids
            and c.step == step
            and c.state in (ClockState.MET, ClockState.BREACHED)
        ]
        durations = sorted(
            c.duration_minutes for c in judged if c.duration_minutes is not None
        )
        kept = sum(1 for c in judged if c.state == ClockState.MET)
        steps.append(
            {
                "step": step.value,
                "judged": len(judged),
                "kept": kept,
                "share_kept": round(kept / len(judged), 4) if judged else None,
                "median_working_minutes": round(median(durations), 1)
                if durations
                else None,
                "p90_working_minutes": _p90(durations),
                "breaches": [
                    {
                        "reference": c.reference,
                        "request_id": str(c.request_id),
                        "deadline": c.deadline.isoformat() if c.deadline else None,
                        "working_minutes_used": c.duration_minutes,
                    }
                    for c in judged
                    if c.state == ClockState.BREACHED
                ],
            }
        )
    tested = sum(row.samples_tested for row in of_month)
    meeting = sum(row.samples_meeting_standard for row in of_month)
    return {
        "month": month,
        "requests": len(of_month),
        "by_channel": dict(sorted(Counter(row.channel for row in of_month).items())),
        "by_service": dict(
            sorted(Counter(code for row in of_month for code in row.services).items())
        ),
        "by_regency": _by_regency(of_month),
        "approved": sum(1 for row in of_month if row.approved is True),
        "rejected": sum(1 for row in of_month if row.approved is False),
        "undecided": sum(1 for row in of_month if row.approved is None),
        "steps": steps,
        "field_tests": {
            "samples_tested": tested,
            "samples_meeting_standard": meeting,
            "share_meeting_standard": round(meeting / tested, 4) if tested else None,
        },
    }


def _by_regency(rows: list[FactsRow]) -> dict[str, int]:
    """Requests per regency, however its name was typed ("garut", "Garut ").

    Each regency is shown as most of its requests spell it.
    """
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for row in rows:
        spelled = " ".join((row.regency or "").split()) or "(unknown)"
        key = spelled.casefold()
        counts[key] += 1
        spellings.setdefault(key, Counter())[spelled] += 1
    return dict(
        sorted(
            (spellings[key].most_common(1)[0][0], count)
            for key, count in counts.items()
        )
    )


def _p90(durations: list[float]) -> float | None:
    if not durations:
        return None
    if len(durations) == 1:
        return round(durations[0], 1)
    return round(quantiles(durations, n=10, method="inclusive")[-1], 1)


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _SpreadsheetSafeWriter:
    """Writes rows with text that a spreadsheet would run quoted as text.

    A regency comes from the stakeholder's own words; one that reads
    ``=HYPERLINK(...)`` must stay words when staff open the report.
    """

    def __init__(self, buffer: io.StringIO) -> None:
        self._writer = csv.writer(buffer)

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow(
            [
                f"'{cell}"
                if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS)
                else cell
                for cell in row
            ]
        )


def report_csv(report: dict[str, Any]) -> str:
    """The report as rows of section, item, value, for a spreadsheet."""
    buffer = io.StringIO()
    writer = _SpreadsheetSafeWriter(buffer)
    writer.writerow(["section", "item", "value"])
    writer.writerow(["requests", "total", report["requests"]])
    for section in ("by_channel", "by_service", "by_regency"):
        for item, count in report[section].items():
            writer.writerow([section, item, count])
    for item in ("approved", "rejected", "undecided"):
        writer.writerow(["decisions", item, report[item]])
    for step in report["steps"]:
        for item in ("judged", "kept", "share_kept", "median_working_minutes"):
            writer.writerow([f"step {step['step']}", item, step[item]])
        writer.writerow(
            [f"step {step['step']}", "p90_working_minutes", step["p90_working_minutes"]]
        )
        for breach in step["breaches"]:
            writer.writerow(
                [
                    f"breach {step['step']}",
                    breach["reference"],
                    breach["working_minutes_used"],
                ]
            )
    for item, value in report["field_tests"].items():
        writer.writerow(["field_tests", item, value])
    return buffer.getvalue()
