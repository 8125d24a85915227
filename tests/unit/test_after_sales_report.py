"""The monthly report of a seeded month equals the hand-counted figures.

December 2026, times in WIB, Monday the 7th a working day (07:30-12:00,
13:00-16:00):

- A, by email, field semen test and complaint, Garut: received 08:55,
  registered 09:00 (5 min, kept), approved 09:10 (10 min, kept), scheduled
  09:25 (15 min, kept), visit from Monday, Berita Acara Tuesday 10:00 (600 min,
  kept), 3 samples tested, 2 meeting the standard.
- B, by WhatsApp, container check, Bandung Barat: received 10:00, registered
  10:20 (20 min, breached), approved 11:00 (40 min, breached).
- C, by post, training, no regency: received and registered 13:00 (0 min),
  rejected 13:05 (5 min), rejection letter 13:10 (5 min), all kept.
- D, received in November: not in December's report.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from purnajual.contracts import RequestRejected, Stakeholder
from services.notifier.application import NotifierApplication
from services.notifier.domain import DeliveryChannel
from services.notifier.report import report_csv
from services.notifier.transports import FileOutbox
from tests.builders import (
    POPO,
    berita_acara_filed,
    deliver,
    rejection_letter_issued,
    request_approved,
    request_submitted,
    schedule_issued,
    stakeholder,
)

WIB = timezone(timedelta(hours=7))


def wib(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


class Seeder:
    def __init__(self) -> None:
        outbox = FileOutbox(Path("/nonexistent"))
        self.app = NotifierApplication(
            env=POPO,
            transports={
                DeliveryChannel.EMAIL: outbox,
                DeliveryChannel.WHATSAPP: outbox,
            },
        )
        self.positions: dict[str, int] = {}

    def send(self, producer: str, event: Any) -> None:
        self.positions[producer] = self.positions.get(producer, 0) + 1
        deliver(self.app, producer, self.positions[producer], event)

    def submit(
        self,
        channel: str,
        services: list[str],
        regency: str | None,
        received: datetime,
        registered: datetime,
    ) -> UUID:
        request_id = uuid4()
        event = request_submitted(request_id, channel=channel).model_copy(
            update={
                "services": services,
                "received_at": received,
                "submitted_at": registered,
                "stakeholder": Stakeholder.model_validate(stakeholder(regency=regency)),
            }
        )
        self.send("intake", event)
        return request_id


def seeded_december() -> NotifierApplication:
    seed = Seeder()
    a = seed.submit(
        "email", ["field_semen_test", "complaint"], "Garut", wib(7, 8, 55), wib(7, 9)
    )
    seed.send(
        "approval", request_approved(a).model_copy(update={"decided_at": wib(7, 9, 10)})
    )
    seed.send(
        "scheduling",
        schedule_issued(a, date(2026, 12, 7)).model_copy(
            update={"issued_at": wib(7, 9, 25)}
        ),
    )
    seed.send(
        "fieldwork",
        berita_acara_filed(a).model_copy(
            update={
                "filed_at": wib(8, 10),
                "samples_tested": 3,
                "samples_meeting_standard": 2,
            }
        ),
    )
    b = seed.submit(
        "whatsapp", ["container_check"], "Bandung Barat", wib(7, 10), wib(7, 10, 20)
    )
    seed.send(
        "approval", request_approved(b).model_copy(update={"decided_at": wib(7, 11)})
    )
    c = seed.submit("post", ["training"], None, wib(7, 13), wib(7, 13))
    seed.send(
        "approval",
        RequestRejected(
            request_id=c,
            reference="PPJ-2026-00003",
            decided_by="Kepala Balai",
            reason="x",
            decided_at=wib(7, 13, 5),
        ),
    )
    seed.send(
        "approval",
        rejection_letter_issued(c).model_copy(update={"issued_at": wib(7, 13, 10)}),
    )
    seed.submit(
        "email", ["training"], "Garut", wib(30, 9, month=11), wib(30, 9, month=11)
    )
    return seed.app


def step(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in report["steps"] if s["step"] == name)
    return found


def test_the_report_of_a_seeded_month_equals_the_hand_counted_figures() -> None:
    report = seeded_december().after_sales_report("2026-12")

    assert report["requests"] == 3
    assert report["by_channel"] == {"email": 1, "post": 1, "whatsapp": 1}
    assert report["by_service"] == {
        "complaint": 1,
        "container_check": 1,
        "field_semen_test": 1,
        "training": 1,
    }
    assert report["by_regency"] == {"(unknown)": 1, "Bandung Barat": 1, "Garut": 1}
    assert (report["approved"], report["rejected"], report["undecided"]) == (2, 1, 0)
    registration = step(report, "registration")
    assert (registration["judged"], registration["kept"]) == (3, 2)
    assert registration["share_kept"] == 0.6667
    assert registration["median_working_minutes"] == 5
    assert registration["p90_working_minutes"] == 17
    assert [b["working_minutes_used"] for b in registration["breaches"]] == [20]
    decision = step(report, "decision")
    assert (decision["judged"], decision["kept"]) == (3, 2)
    assert (decision["median_working_minutes"], decision["p90_working_minutes"]) == (
        10,
        34,
    )
    assert [b["working_minutes_used"] for b in decision["breaches"]] == [40]
    assert (
        step(report, "rejection_letter")["kept"],
        step(report, "schedule")["kept"],
    ) == (1, 1)
    assert step(report, "conveyance")["judged"] == 0
    assert step(report, "field_visit")["median_working_minutes"] == 600
    assert report["field_tests"] == {
        "samples_tested": 3,
        "samples_meeting_standard": 2,
        "share_meeting_standard": 0.6667,
    }


def test_the_report_is_the_same_rebuilt_from_the_events_and_as_csv() -> None:
    app = seeded_december()
    live = app.after_sales_report("2026-12")

    equal = app.rebuild_views()

    assert equal
    assert app.after_sales_report("2026-12") == live
    rows = report_csv(live).splitlines()
    assert rows[0] == "section,item,value"
    assert "requests,total,3" in rows
    assert "breach decision,PPJ-2026-00001,40.0" in rows


def test_a_regency_written_as_a_formula_stays_text_in_the_csv() -> None:
    report = {
        "requests": 1,
        "by_channel": {"whatsapp": 1},
        "by_service": {"container_check": 1},
        "by_regency": {'=HYPERLINK("http://evil.example","klik")': 1, "-Garut": 1},
        "approved": 0,
        "rejected": 0,
        "undecided": 1,
        "steps": [],
        "field_tests": {"samples_tested": 0},
    }

    rows = report_csv(report).splitlines()

    assert 'by_regency,"\'=HYPERLINK(""http://evil.example"",""klik"")",1' in rows
    assert "by_regency,'-Garut,1" in rows
    assert "requests,total,1" in rows


def test_a_regency_typed_in_other_cases_or_spacing_is_counted_once() -> None:
    seed = Seeder()
    for typed in ("Garut", "garut ", "GARUT", "Bandung  Barat", "Garut"):
        seed.submit("email", ["training"], typed, wib(7, 9), wib(7, 9))

    report = seed.app.after_sales_report("2026-12")

    assert report["by_regency"] == {"Bandung Barat": 1, "Garut": 4}
