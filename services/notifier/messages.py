"""What the notifier says, in Indonesian, for each purpose."""

from __future__ import annotations

from purnajual.contracts import (
    BeritaAcaraFiled,
    RejectionLetterIssued,
    ScheduleIssued,
    ScheduleRevised,
)

SIGNATURE = "Hormat kami,\nBalai Inseminasi Buatan Lembang"


def receipt(reference: str, services: list[str]) -> tuple[str, str]:
    return (
        f"Permohonan layanan purna jual {reference} telah diterima",
        "Permohonan layanan purna jual Anda telah kami terima dan terdaftar dengan "
        f"nomor referensi {reference} (layanan: {', '.join(services)}). Sebutkan "
        "nomor ini bila menghubungi kami melalui saluran apa pun. Kepala Balai akan "
        "memberikan keputusan atas permohonan Anda.",
    )


def rejection_letter(event: RejectionLetterIssued) -> tuple[str, str]:
    return (
        f"Surat nomor {event.letter_number}: permohonan {event.reference}",
        f"Nomor surat: {event.letter_number}\n\n{event.body}\n\nAlasan: {event.reason}",
    )


def _days(event: ScheduleIssued | ScheduleRevised) -> str:
    if event.visit_start == event.visit_end:
        return f"{event.visit_start:%d-%m-%Y}"
    return f"{event.visit_start:%d-%m-%Y} s.d. {event.visit_end:%d-%m-%Y}"


def schedule(event: ScheduleIssued) -> tuple[str, str]:
    officers = ", ".join(officer.name for officer in event.officers)
    days = _days(event)
    return (
        f"Jadwal layanan purna jual {event.reference}",
        f"Permohonan {event.reference} disetujui. Layanan akan dilaksanakan pada "
        f"{days} di {event.location} oleh petugas: {officers}. Surat Perintah Tugas "
        f"nomor {event.assignment_number}. Mohon kesediaan pihak Bapak/Ibu untuk "
        "mendampingi petugas kami.",
    )


def schedule_revised(event: ScheduleRevised) -> tuple[str, str]:
    officers = ", ".join(officer.name for officer in event.officers)
    return (
        f"Perubahan jadwal layanan purna jual {event.reference}",
        f"Jadwal layanan untuk permohonan {event.reference} berubah. Layanan akan "
        f"dilaksanakan pada {_days(event)} di {event.location} oleh petugas: "
        f"{officers}. Alasan perubahan: {event.reason.rstrip('.')}. Surat Perintah "
        f"Tugas nomor {event.assignment_number} tetap berlaku. Jadwal ini "
        "menggantikan jadwal sebelumnya; mohon maaf atas perubahan ini.",
    )


def berita_acara(event: BeritaAcaraFiled) -> tuple[str, str]:
    tested = event.samples_tested
    results = (
        f"{event.samples_meeting_standard} dari {tested} sampel memenuhi "
        f"{event.quality_standard}. "
        if tested
        else ""
    )
    return (
        f"Berita Acara {event.berita_acara_number} untuk permohonan {event.reference}",
        f"Pelayanan purna jual {event.reference} telah dilaksanakan pada "
        f"{event.visit_date:%d-%m-%Y} di {event.place}. {results}\n\nTemuan: "
        f"{event.findings}\n\nRekomendasi: {event.recommendations}",
    )


def letter(recipient_name: str, body: str) -> str:
    """The full text as sent: salutation, body and signature."""
    return f"Yth. {recipient_name},\n\n{body}\n\n{SIGNATURE}\n"
