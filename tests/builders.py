"""Realistic integration events and domain inputs for the tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import Tracking

from purnajual.contracts import (
    BeritaAcaraFiled,
    IntegrationEvent,
    Officer,
    RejectionLetterIssued,
    RequestApproved,
    RequestSubmitted,
    RequestSummary,
    ScheduleIssued,
    ScheduleRevised,
    Stakeholder,
)
from purnajual.envelope import envelope_for
from purnajual.persistence import ServiceApplication

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
NOW = datetime(2026, 12, 4, 2, 30, tzinfo=UTC)


def deliver(
    app: ServiceApplication, producer: str, position: int, event: IntegrationEvent
) -> None:
    """Hands an upstream event to a service as its consumer would."""
    envelope = envelope_for(producer=producer, position=position, time=NOW, event=event)
    app.process_upstream(envelope, Tracking(producer, position))


def stakeholder(**overrides: Any) -> dict[str, Any]:
    return {
        "institution": "Dinas Peternakan Kab. Garut",
        "contact_name": "drh. Siti Rahmawati",
        "phone": "+62 812 2233 4455",
        "email": "keswan@garut.example.id",
        "address": "Jl. Pembangunan 181, Garut",
        "regency": "Garut",
        "province": "Jawa Barat",
        **overrides,
    }


def submission(**overrides: Any) -> dict[str, Any]:
    """A request body as a channel frontend posts it."""
    return {
        "channel": "email",
        "channel_message_id": f"<{uuid4()}@mail.example.id>",
        "stakeholder": stakeholder(),
        "services": ["field_semen_test"],
        "description": "Angka kebuntingan turun; mohon uji semen beku di depo.",
        **overrides,
    }


def request_submitted(
    request_id: UUID | None = None, channel: str = "email", **contact: Any
) -> RequestSubmitted:
    return RequestSubmitted(
        request_id=request_id or uuid4(),
        reference="PPJ-2026-00001",
        channel=channel,
        channel_message_id="msg-1",
        received_at=NOW,
        submitted_at=NOW,
        stakeholder=Stakeholder.model_validate(stakeholder(**contact)),
        services=["field_semen_test"],
        description="Angka kebuntingan turun.",
    )


def summary() -> RequestSummary:
    return RequestSummary(
        institution="Dinas Peternakan Kab. Garut",
        regency="Garut",
        province="Jawa Barat",
        services=["field_semen_test"],
        description="Angka kebuntingan turun.",
    )


def request_approved(request_id: UUID) -> RequestApproved:
    return RequestApproved(
        request_id=request_id,
        reference="PPJ-2026-00001",
        decided_by="Kepala Balai",
        disposition="Jadwalkan minggu ini.",
        decided_at=NOW,
        request=summary(),
    )


def rejection_letter_issued(request_id: UUID) -> RejectionLetterIssued:
    return RejectionLetterIssued(
        request_id=request_id,
        reference="PPJ-2026-00001",
        letter_number="B-1/PK.210/F2.J/12/2026",
        drafted_by="Kasi Jasa Produksi",
        body="Dengan hormat, permohonan tidak dapat kami layani.",
        reason="Di luar wewenang balai.",
        issued_at=NOW,
    )


def schedule_issued(
    request_id: UUID,
    visit_start: date = date(2026, 12, 4),
    visit_end: date | None = None,
) -> ScheduleIssued:
    return ScheduleIssued(
        request_id=request_id,
        reference="PPJ-2026-00001",
        assignment_number="ST-1/KP.440/F2.J/12/2026",
        visit_start=visit_start,
        visit_end=visit_end or visit_start,
        location="Depo Garut",
        officers=[Officer(name="Asep Suryana", employee_number="1982")],
        equipment=["mikroskop"],
        scheduled_by="Kasi Jasa Produksi",
        issued_at=NOW,
        request=summary(),
    )


def schedule_revised(
    request_id: UUID, visit_start: date, revision: int = 1
) -> ScheduleRevised:
    return ScheduleRevised(
        request_id=request_id,
        reference="PPJ-2026-00001",
        revision=revision,
        assignment_number="ST-1/KP.440/F2.J/12/2026",
        visit_start=visit_start,
        visit_end=visit_start,
        location="Depo Sumedang",
        officers=[Officer(name="Dewi Lestari", employee_number="1990")],
        equipment=["mikroskop"],
        revised_by="Kasi Jasa Produksi",
        reason="Petugas sakit.",
        revised_at=NOW,
        request=summary(),
    )


def berita_acara_filed(request_id: UUID) -> BeritaAcaraFiled:
    return BeritaAcaraFiled(
        request_id=request_id,
        reference="PPJ-2026-00001",
        berita_acara_number="BA-1/PK.210/F2.J/12/2026",
        filed_at=NOW,
        visit_date=date(2026, 12, 4),
        place="Depo Garut, Garut, Jawa Barat",
        quality_standard="SNI 4869-1:2017",
        samples_tested=2,
        samples_meeting_standard=1,
        findings="Satu batch di bawah standar.",
        recommendations="Tarik batch dari distribusi.",
    )


def berita_acara_report(visit_date: date, **overrides: Any) -> dict[str, Any]:
    """A Berita Acara body as the officers post it."""
    return {
        "visit_date": visit_date.isoformat(),
        "place": {"province": "Jawa Barat", "regency": "Garut", "depot": "Depo Garut"},
        "center_officers": [{"name": "Asep Suryana", "position": "Pengawas Mutu"}],
        "stakeholder_representatives": [{"name": "drh. Siti Rahmawati"}],
        "signed_by_center": "Asep Suryana",
        "signed_by_stakeholder": "drh. Siti Rahmawati",
        "samples": [
            {
                "bull_code": "10116",
                "batch_code": "LIM-116/0925",
                "thaw_temperature_celsius": 37,
                "thaw_seconds": 30,
                "post_thaw_motility_percent": [45, 50, 40],
                "individual_motility_score": 3,
            },
            {
                "bull_code": "20208",
                "batch_code": "SIM-208/0825",
                "thaw_temperature_celsius": 37,
                "thaw_seconds": 30,
                "post_thaw_motility_percent": [30, 35, 25],
                "individual_motility_score": 2,
            },
        ],
        "container_checks": [
            {
                "container_code": "MVE-34/02",
                "nitrogen_level_cm": 6,
                "lid_and_neck": "frost",
                "straws_submerged": False,
                "last_refill_date": "2026-10-20",
            }
        ],
        "findings": "Batch SIM-208/0825 di bawah standar.",
        "recommendations": "Tarik batch SIM-208/0825.",
        "filed_by": "Asep Suryana",
        **overrides,
    }
