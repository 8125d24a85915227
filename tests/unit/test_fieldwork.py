"""Fieldwork on the in-memory store: visits, Berita Acara and verdicts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.fieldwork.api import BeritaAcaraIn
from services.fieldwork.application import (
    FieldworkApplication,
    InvalidBeritaAcaraError,
    VisitNotScheduledError,
)
from services.fieldwork.config import FieldworkSettings
from services.fieldwork.domain import VisitConflictError, VisitStatus, judge_sample
from tests.builders import (
    POPO,
    berita_acara_report,
    deliver,
    schedule_issued,
    schedule_revised,
)
from tests.support import today_in_jakarta

SNI_2017 = {
    "code": "SNI 4869-1:2017",
    "min_post_thaw_motility_percent": 40,
    "min_individual_motility_score": 2,
}


def fieldwork() -> FieldworkApplication:
    return FieldworkApplication(env=POPO, standard=FieldworkSettings().standard())


def scheduled(app: FieldworkApplication, visit_start: date | None = None) -> UUID:
    visit_start = visit_start or today_in_jakarta()
    request_id = uuid4()
    deliver(app, "scheduling", 1, schedule_issued(request_id, visit_start))
    return request_id


def report(visit_date: date, **overrides: Any) -> dict[str, Any]:
    """The report as the API hands it to the application, validated."""
    body = BeritaAcaraIn.model_validate(berita_acara_report(visit_date, **overrides))
    return body.model_dump(mode="python")


def test_a_sample_at_exactly_the_threshold_meets_the_standard() -> None:
    verdict = judge_sample([40.0, 40.0], 2, SNI_2017)

    assert verdict["verdict"] == "meets_standard"
    assert verdict["mean_post_thaw_motility_percent"] == 40.0
    assert verdict["straws_tested"] == 2


def test_a_low_mean_or_a_low_score_is_below_the_standard_with_reasons() -> None:
    low_motility = judge_sample([30, 35, 25], 3, SNI_2017)
    low_score = judge_sample([60, 55], 1, SNI_2017)

    assert low_motility["verdict"] == "below_standard"
    assert "30.0 %" in low_motility["shortfalls"][0]
    assert low_score["verdict"] == "below_standard"
    assert "score 1" in low_score["shortfalls"][0]


def test_an_issued_schedule_becomes_a_visit_to_carry_out() -> None:
    app = fieldwork()

    request_id = scheduled(app)

    assert [row.request_id for row in app.view.select(VisitStatus.SCHEDULED)] == [
        request_id
    ]


def test_files_a_numbered_berita_acara_with_a_verdict_per_sample() -> None:
    today = today_in_jakarta()

    app = fieldwork()
    request_id = scheduled(app)

    visit = app.file_berita_acara(request_id, report(today))

    assert visit.status == VisitStatus.BERITA_ACARA_FILED
    assert visit.berita_acara is not None
    assert visit.berita_acara["number"].startswith("BA-1/PK.210/F2.J/")
    assert [s["verdict"] for s in visit.berita_acara["samples"]] == [
        "meets_standard",
        "below_standard",
    ]
    assert visit.berita_acara["quality_standard"]["code"] == "SNI 4869-1:2017"


def test_refuses_a_berita_acara_for_a_visit_not_scheduled() -> None:
    today = today_in_jakarta()

    app = fieldwork()

    with pytest.raises(VisitNotScheduledError) as refused:
        app.file_berita_acara(uuid4(), report(today))

    assert refused.value.data["current_status"] == "not_scheduled"


def test_refuses_a_second_berita_acara() -> None:
    today = today_in_jakarta()

    app = fieldwork()
    request_id = scheduled(app)
    app.file_berita_acara(request_id, report(today))

    with pytest.raises(VisitConflictError):
        app.file_berita_acara(request_id, report(today))


def test_refuses_a_visit_date_before_the_schedule() -> None:
    today = today_in_jakarta()

    app = fieldwork()
    request_id = scheduled(app, visit_start=today)

    with pytest.raises(InvalidBeritaAcaraError) as refused:
        app.file_berita_acara(request_id, report(today - timedelta(days=1)))

    assert refused.value.data["field"] == "visit_date"


def test_a_field_semen_test_needs_a_sample() -> None:
    today = today_in_jakarta()

    app = fieldwork()
    request_id = scheduled(app)

    with pytest.raises(InvalidBeritaAcaraError) as refused:
        app.file_berita_acara(
            request_id, report(today, samples=[], container_checks=[])
        )

    assert refused.value.data["field"] == "samples"


def test_a_berita_acara_is_dated_when_filed_not_when_scheduled() -> None:
    today = today_in_jakarta()

    app = fieldwork()
    request_id = scheduled(app)
    scheduled_at = app.visit(request_id).modified_on

    visit = app.file_berita_acara(request_id, report(today))

    assert visit.berita_acara is not None
    assert visit.berita_acara["filed_at"] == visit.modified_on > scheduled_at


def test_a_revised_schedule_moves_the_visit_until_its_report_is_filed() -> None:
    today = today_in_jakarta()

    app = fieldwork()
    request_id = scheduled(app, visit_start=today - timedelta(days=3))
    deliver(app, "scheduling", 2, schedule_revised(request_id, today, revision=1))
    with pytest.raises(InvalidBeritaAcaraError) as before_the_new_start:
        app.file_berita_acara(request_id, report(today - timedelta(days=1)))
    app.file_berita_acara(request_id, report(today))
    deliver(app, "scheduling", 3, schedule_revised(request_id, today, revision=2))

    visit = app.visit(request_id)
    assert before_the_new_start.value.data["field"] == "visit_date"
    assert (visit.revision, visit.location) == (1, "Depo Sumedang")
    assert visit.officers[0]["name"] == "Dewi Lestari"
