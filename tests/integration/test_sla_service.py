"""The steps' clocks in a running notifier: warnings and breaches on NATS, on time.

The calendar here is open around the clock and the decision standard is six
seconds, so the real clock of the running system is quick to watch.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from purnajual.contracts import WEEKDAYS, SlaBreached, SlaClockEvent
from purnajual.numbering import OFFICE_TIME_ZONE
from tests.builders import request_submitted, schedule_issued, schedule_revised
from tests.conftest import ServiceFactory
from tests.support import (
    Broker,
    NatsServer,
    ServiceProcess,
    today_in_jakarta,
    wait_for,
)

pytestmark = pytest.mark.postgres
ALWAYS_OPEN = [["00:00", "24:00"]]


@pytest.fixture
def notifier(
    service_process: ServiceFactory,
    database_url: str,
    fresh_nats: NatsServer,
    tmp_path: Path,
) -> ServiceProcess:
    calendar = tmp_path / "calendar.json"
    calendar.write_text(
        json.dumps(
            {
                "time_zone": "Asia/Jakarta",
                "weekly_hours": {day: ALWAYS_OPEN for day in WEEKDAYS},
                "closed_days": [],
                "periods": {},
            }
        )
    )
    service = service_process(
        "notifier",
        DATABASE_URL=database_url,
        NATS_URL=fresh_nats.url,
        NOTIFIER_CALENDAR_FILE=str(calendar),
        NOTIFIER_SLA_TARGETS=json.dumps({"decision": {"minutes": 0.1}}),
        NOTIFIER_SLA_WARNING_SHARE="0.5",
        NOTIFIER_OPERATIONS_EMAILS="kasi.jasa@example.id",
    )
    service.start()
    return service


def test_a_request_left_waiting_warns_and_breaches_on_time_once(
    notifier: ServiceProcess, fresh_nats: NatsServer, tmp_path: Path
) -> None:
    broker = Broker(fresh_nats.url)
    now = datetime.now(UTC)
    submitted = request_submitted().model_copy(
        update={"received_at": now, "submitted_at": now}
    )

    broker.publish("intake", 1, submitted)

    def clock_events() -> list[SlaClockEvent]:
        return [
            envelope.data
            for envelope in broker.envelopes("NOTIFIER")
            if isinstance(envelope.data, SlaClockEvent)
        ]

    wait_for(
        lambda: any(isinstance(e, SlaBreached) for e in clock_events()), timeout=30
    )
    time.sleep(2)
    events = clock_events()
    kinds = sorted((type(e).__name__, e.step) for e in events)
    assert kinds == [
        ("SlaBreached", "decision"),
        ("SlaMet", "registration"),
        ("SlaWarning", "decision"),
    ]
    breach = next(e for e in events if isinstance(e, SlaBreached))
    late_by = (datetime.now(UTC) - breach.deadline).total_seconds()
    assert late_by < 30
    breached = notifier.get("/sla/clocks", state="breached").json()
    assert [clock["step"] for clock in breached] == ["decision"]
    assert breached[0]["working_minutes_left"] < 0

    # The same verdicts on the live feed and in the metrics.
    seen = []
    with httpx.stream("GET", f"{notifier.url}/sla/stream", timeout=10) as feed:
        for line in feed.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[len("data: ") :]))
            if len(seen) == 2:
                break
    assert sorted((clock["step"], clock["state"]) for clock in seen) == [
        ("decision", "breached"),
        ("registration", "met"),
    ]
    metrics = notifier.get("/metrics").text
    assert 'purnajual_sla_breaches_total{step="decision"} 1' in metrics
    assert 'purnajual_sla_warnings_total{step="decision"} 1' in metrics
    assert 'purnajual_sla_met_total{step="registration"} 1' in metrics

    # And in the month's report, in each of its forms.
    month = now.astimezone(OFFICE_TIME_ZONE).strftime("%Y-%m")
    report = notifier.get("/reports/after-sales", month=month).json()
    as_csv = notifier.get("/reports/after-sales", month=month, format="csv")
    page = notifier.get("/reports/after-sales", month=month, format="html")
    assert report["requests"] == 1
    decision = next(s for s in report["steps"] if s["step"] == "decision")
    assert [b["reference"] for b in decision["breaches"]] == ["PPJ-2026-00001"]
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "breach decision,PPJ-2026-00001" in as_csv.text
    assert "LAPORAN PELAYANAN PURNA JUAL" in page.text
    # The printed page reads the codes out in Indonesian.
    assert "<td>2. Keputusan Kepala Balai</td><td>PPJ-2026-00001</td>" in page.text
    assert "<td>Surel</td><td>1</td>" in page.text

    # The operations contacts were told of the breach, once.
    def alerts() -> list[dict[str, str]]:
        sent = [
            json.loads(path.read_text(encoding="utf-8"))
            for path in (tmp_path / "var" / "outbox" / "email").glob("*.json")
        ]
        return [m for m in sent if m["destination"] == "kasi.jasa@example.id"]

    [alert] = wait_for(alerts)
    assert alert["subject"] == "Pelanggaran standar waktu: decision PPJ-2026-00001"


def test_a_year_without_holidays_is_called_out_until_one_is_entered(
    notifier: ServiceProcess,
) -> None:
    this_year = datetime.now(OFFICE_TIME_ZONE).year

    missing = notifier.get("/calendar").json()["years_missing_holidays"]
    metrics = notifier.get("/metrics").text
    warned = wait_for(lambda: "calendar has no holidays confirmed" in notifier.log())
    for year in missing:
        entered = notifier.put(
            f"/calendar/closed-days/{year}-12-25",
            {"name": "Hari Raya Natal", "kind": "holiday"},
        )
        assert year in entered.json()["years_missing_holidays"]
        confirmed = notifier.put(f"/calendar/years/{year}", {"decree": "SKB"})
        assert confirmed.json()["confirmed_years"][str(year)] == "SKB"

    assert this_year in missing
    assert f"purnajual_calendar_years_missing_holidays {len(missing)}\n" in metrics
    assert warned
    assert notifier.get("/calendar").json()["years_missing_holidays"] == []
    assert (
        "purnajual_calendar_years_missing_holidays 0\n" in notifier.get("/metrics").text
    )


def test_the_live_feed_sends_a_deadline_moved_with_its_visit(
    notifier: ServiceProcess, fresh_nats: NatsServer
) -> None:
    broker = Broker(fresh_nats.url)
    request_id = uuid4()
    visit_day = today_in_jakarta() + timedelta(days=14)
    broker.publish("scheduling", 1, schedule_issued(request_id, visit_day))

    # The visit moves a week later, before its first day: its clock moves too.
    deadlines: list[str] = []
    give_up = time.monotonic() + 30
    with httpx.stream("GET", f"{notifier.url}/sla/stream", timeout=10) as feed:
        for line in feed.iter_lines():
            if time.monotonic() > give_up or len(deadlines) == 2:
                break
            if not line.startswith("data: "):
                continue
            clock = json.loads(line[len("data: ") :])
            if (clock["request_id"], clock["step"]) != (str(request_id), "field_visit"):
                continue
            deadlines.append(clock["deadline"])
            if len(deadlines) == 1:
                moved = schedule_revised(request_id, visit_day + timedelta(days=7))
                broker.publish("scheduling", 2, moved)

    assert len(deadlines) == 2
    first, moved_to = (datetime.fromisoformat(d) for d in deadlines)
    assert moved_to > first
