"""Indonesian words for the codes a printed report shows.

The codes stay the data (JSON and CSV keep them); only the printable page
reads them out. A code without a word here is printed as it is, so a service
added to intake's catalogue shows its code until it is named here too.
"""

from __future__ import annotations

from datetime import date

WORDS: dict[str, str] = {
    # Channels a request arrives on.
    "website": "Situs web",
    "online_form": "Formulir daring",
    "email": "Surel",
    "whatsapp": "WhatsApp",
    "post": "Pos",
    "fax": "Faksimile",
    "phone": "Telepon",
    "walk_in": "Datang langsung",
    # The default service catalogue.
    "field_semen_test": "Uji kualitas semen beku di lapangan",
    "container_check": "Pemeriksaan kontainer dan depo",
    "technical_guidance": "Bimbingan teknis",
    "training": "Pelatihan",
    "complaint": "Penanganan keluhan",
    # The steps of the procedure that have a time standard.
    "registration": "1. Registrasi permohonan",
    "decision": "2. Keputusan Kepala Balai",
    "rejection_letter": "3. Surat penolakan",
    "schedule": "4. Penjadwalan",
    "conveyance": "5. Penyampaian jadwal",
    "field_visit": "6. Pelaksanaan dan Berita Acara",
}
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def in_words(code: str) -> str:
    return WORDS.get(code, code)


def month_in_words(month: str) -> str:
    """``2026-12`` as ``Desember 2026``."""
    first = date.fromisoformat(f"{month}-01")
    return f"{MONTHS[first.month - 1]} {first.year}"
