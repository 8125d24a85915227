"""Fieldwork's HTTP API: visits to carry out and their Berita Acara."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from purnajual.inputs import IsoDate, Text
from purnajual.web import REFERENCE_NOT_FOUND, request_id_finder, runtime_of
from services.fieldwork.application import FieldworkApplication
from services.fieldwork.domain import Visit, VisitStatus

Name = Annotated[Text, Field(max_length=120)]
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: Annotated[Text, Field(max_length=100, examples=["Jawa Barat"])]
    regency: Annotated[Text, Field(max_length=100, examples=["Garut"])]
    district: Annotated[Text | None, Field(max_length=100)] = None
    depot: Annotated[Text | None, Field(max_length=200, examples=["Depo Garut"])] = None


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    position: Annotated[Text | None, Field(max_length=120)] = None
    employee_number: Annotated[Text | None, Field(max_length=30)] = None


class SampleIn(BaseModel):
    """One bull and batch, tested on several straws."""

    model_config = ConfigDict(extra="forbid")

    bull_code: Annotated[Text, Field(max_length=40, examples=["10116"])]
    bull_name: Annotated[Text | None, Field(max_length=80)] = None
    breed: Annotated[Text | None, Field(max_length=80, examples=["Limousin"])] = None
    batch_code: Annotated[
        Text, Field(max_length=80, description="Free text: the format is not fixed.")
    ]
    producer: Annotated[Text | None, Field(max_length=120)] = None
    thaw_temperature_celsius: float = Field(ge=0, le=60, examples=[37])
    thaw_seconds: float = Field(gt=0, le=600, examples=[30])
    post_thaw_motility_percent: list[Annotated[float, Field(ge=0, le=100)]] = Field(
        min_length=1,
        max_length=50,
        description="Post-thaw motility of each straw tested, in percent.",
        examples=[[45, 50, 40]],
    )
    individual_motility_score: float = Field(ge=0, le=5, examples=[3])


class LidAndNeck(StrEnum):
    NORMAL = "normal"
    FROST = "frost"
    SWEATING = "sweating"


class ContainerCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    container_code: Annotated[Text, Field(max_length=80)]
    nitrogen_level_cm: float | None = Field(None, ge=0, le=200)
    nitrogen_level_percent: float | None = Field(None, ge=0, le=100)
    lid_and_neck: LidAndNeck = Field(
        description="Frost or sweating on lid or neck signals a failing vacuum."
    )
    straws_submerged: bool
    last_refill_date: IsoDate | None = None
    notes: Annotated[Text | None, Field(max_length=1000)] = None


class BeritaAcaraIn(BaseModel):
    """The signed report of the field visit."""

    model_config = ConfigDict(extra="forbid")

    visit_date: IsoDate
    place: PlaceIn
    center_officers: list[PartyIn] = Field(min_length=1, max_length=20)
    stakeholder_representatives: list[PartyIn] = Field(min_length=1, max_length=20)
    witnesses: list[PartyIn] = Field(default_factory=list, max_length=20)
    signed_by_center: Name
    signed_by_stakeholder: Name
    samples: list[SampleIn] = Field(default_factory=list, max_length=100)
    container_checks: list[ContainerCheckIn] = Field(
        default_factory=list, max_length=100
    )
    findings: Annotated[Text, Field(max_length=10000)]
    recommendations: Annotated[Text, Field(max_length=10000)]
    filed_by: Name


class VisitOut(BaseModel):
    request_id: UUID
    reference: str
    status: VisitStatus
    assignment_number: str
    visit_start: date
    visit_end: date
    location: str
    officers: list[dict[str, Any]]
    equipment: list[str]
    request: dict[str, Any]
    berita_acara_number: str | None


class BeritaAcaraOut(BaseModel):
    request_id: UUID
    reference: str
    berita_acara: dict[str, Any]


def fieldwork_app(request: Request) -> FieldworkApplication:
    app = runtime_of(request).app
    assert isinstance(app, FieldworkApplication)
    return app


App = Annotated[FieldworkApplication, Depends(fieldwork_app)]
RequestId = Annotated[
    UUID, Depends(request_id_finder(lambda request: fieldwork_app(request).view))
]
router = APIRouter(tags=["visits"])


@router.get("/visits", response_model=list[VisitOut], summary="Field visits")
def list_visits(
    app: App, status: Annotated[VisitStatus | None, Query()] = None
) -> list[VisitOut]:
    """``status=scheduled`` lists the visits still to carry out, soonest first."""
    return [_visit_out(app.visit(row.request_id)) for row in app.view.select(status)]


@router.get(
    "/visits/{request_id}",
    response_model=VisitOut,
    responses={**REFERENCE_NOT_FOUND, 409: {"description": "No visit is scheduled"}},
    summary="One field visit",
)
def read_visit(request_id: RequestId, app: App) -> VisitOut:
    """The scheduled visit of a request."""
    return _visit_out(app.visit(request_id))


@router.post(
    "/visits/{request_id}/berita-acara",
    response_model=BeritaAcaraOut,
    status_code=201,
    responses={
        **REFERENCE_NOT_FOUND,
        409: {"description": "No visit scheduled, or already filed"},
    },
    summary="File the Berita Acara of a visit (step 6)",
)
def file_berita_acara(
    request_id: RequestId, body: BeritaAcaraIn, app: App
) -> BeritaAcaraOut:
    """Numbers the report and judges every sample against the quality standard."""
    visit = app.file_berita_acara(request_id, body.model_dump(mode="python"))
    _, berita_acara = app.berita_acara(request_id)
    return BeritaAcaraOut(
        request_id=visit.id, reference=visit.reference, berita_acara=berita_acara
    )


@router.get(
    "/visits/{request_id}/berita-acara",
    response_model=BeritaAcaraOut,
    responses={
        200: {"content": {"text/html": {}}, "description": "JSON, or a printable page"},
        404: {"description": "No Berita Acara filed yet, or no such reference here"},
        409: {"description": "No visit scheduled"},
    },
    summary="The filed Berita Acara, as JSON or as a printable page",
)
def read_berita_acara(
    request_id: RequestId,
    request: Request,
    app: App,
    format: Annotated[str | None, Query(pattern="^(json|html)$")] = None,
) -> Any:
    """JSON by default; HTML with ``?format=html`` or ``Accept: text/html``."""
    visit, berita_acara = app.berita_acara(request_id)
    wants_html = format == "html" or (
        format is None and "text/html" in request.headers.get("accept", "")
    )
    if wants_html:
        return HTMLResponse(_render(visit, berita_acara))
    body = BeritaAcaraOut(
        request_id=visit.id, reference=visit.reference, berita_acara=berita_acara
    )
    return JSONResponse(body.model_dump(mode="json"))


def _render(visit: Visit, berita_acara: dict[str, Any]) -> str:
    place = berita_acara["place"]
    place_parts = [
        place[key]
        for key in ("depot", "district", "regency", "province")
        if place.get(key)
    ]
    template = _TEMPLATES.get_template("berita_acara.html")
    return template.render(visit=visit, ba=berita_acara, place_parts=place_parts)


def _visit_out(visit: Visit) -> VisitOut:
    return VisitOut(
        request_id=visit.id,
        reference=visit.reference,
        status=visit.status,
        assignment_number=visit.assignment_number,
        visit_start=visit.visit_start,
        visit_end=visit.visit_end,
        location=visit.location,
        officers=visit.officers,
        equipment=visit.equipment,
        request=visit.request,
        berita_acara_number=(visit.berita_acara or {}).get("number"),
    )
