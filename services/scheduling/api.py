"""Scheduling's HTTP API: approved requests and their visit schedules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from purnajual.inputs import IsoDate, Text
from purnajual.web import REFERENCE_NOT_FOUND, request_id_finder, runtime_of
from services.scheduling.application import (
    OfficerAssignment,
    ScheduleDraft,
    SchedulingApplication,
)
from services.scheduling.domain import Schedule, ScheduleStatus


class OfficerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=120, examples=["Asep Suryana, S.Pt"])]
    employee_number: Annotated[
        Text,
        Field(
            max_length=30,
            description="NIP (or staff number): identifies the officer across "
            "schedules; spaces and punctuation in it are ignored.",
            examples=["198203112006041001"],
        ),
    ]
    role: Annotated[Text | None, Field(max_length=80, examples=["ketua tim"])] = None


class VisitPlanIn(BaseModel):
    """Where, when and by whom: what a schedule and each revision state."""

    model_config = ConfigDict(extra="forbid")

    visit_start: IsoDate = Field(
        description="First day of the visit (office calendar)."
    )
    visit_end: IsoDate = Field(description="Last day of the visit, inclusive.")
    location: Annotated[Text, Field(max_length=500, examples=["Depo semen Kab. Garut"])]
    officers: list[OfficerIn] = Field(min_length=1, max_length=20)
    equipment: list[Annotated[Text, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50, examples=[["mikroskop", "water bath"]]
    )
    work_on_closed_days: bool = Field(
        False,
        description="Set when the officers will work a holiday, cuti bersama or "
        "weekend: without it a visit that starts or ends on a day the office "
        "calendar closes is refused.",
    )

    def draft(self, scheduled_by: str) -> ScheduleDraft:
        return ScheduleDraft(
            visit_start=self.visit_start,
            visit_end=self.visit_end,
            location=self.location,
            officers=[
                OfficerAssignment(
                    name=officer.name,
                    employee_number=officer.employee_number,
                    role=officer.role,
                )
                for officer in self.officers
            ],
            equipment=list(self.equipment),
            scheduled_by=scheduled_by,
            work_on_closed_days=self.work_on_closed_days,
        )


class ScheduleIn(VisitPlanIn):
    scheduled_by: Annotated[
        Text, Field(max_length=120, examples=["Kasi Jasa Produksi"])
    ]


class ScheduleRevisionIn(VisitPlanIn):
    """The schedule as it now stands: every field, changed or not."""

    revised_by: Annotated[Text, Field(max_length=120, examples=["Kasi Jasa Produksi"])]
    reason: Annotated[
        Text,
        Field(
            max_length=1000,
            description="Why it changed; the stakeholder is told.",
            examples=["Petugas sakit; kunjungan diundur satu minggu."],
        ),
    ]


class ScheduleOut(BaseModel):
    request_id: UUID
    reference: str
    status: ScheduleStatus
    approved_at: datetime
    disposition: str
    request: dict[str, Any]
    schedule: dict[str, Any] | None
    revisions: list[dict[str, Any]] = Field(
        description="Every change to the issued schedule, oldest first"
    )


class ScheduleListItem(BaseModel):
    request_id: UUID
    reference: str
    status: ScheduleStatus
    approved_at: datetime
    institution: str
    services: list[str]
    visit_start: date | None
    visit_end: date | None
    closed_day: str | None = Field(
        None,
        description="For a scheduled visit whose first or last day the office "
        "calendar closes: which day and why. A holiday entered after the visit "
        "was set shows here, for the visit to be revised; so does a day the "
        "officers agreed to work.",
    )


def scheduling_app(request: Request) -> SchedulingApplication:
    app = runtime_of(request).app
    assert isinstance(app, SchedulingApplication)
    return app


App = Annotated[SchedulingApplication, Depends(scheduling_app)]
RequestId = Annotated[
    UUID, Depends(request_id_finder(lambda request: scheduling_app(request).view))
]
router = APIRouter(tags=["schedules"])


@router.get(
    "/schedules",
    response_model=list[ScheduleListItem],
    summary="Approved requests and their schedules",
)
def list_schedules(
    app: App, status: Annotated[ScheduleStatus | None, Query()] = None
) -> list[ScheduleListItem]:
    """``status=awaiting`` lists approved requests still waiting for a schedule;
    a scheduled visit on a day since closed says so in ``closed_day``."""
    office_days = app.office_days()
    return [
        ScheduleListItem(
            request_id=row.request_id,
            reference=row.reference,
            status=row.status,
            approved_at=row.approved_at,
            institution=row.institution,
            services=row.services,
            visit_start=row.visit_start,
            visit_end=row.visit_end,
            closed_day=app.closed_day_of(row, office_days),
        )
        for row in app.view.select(status)
    ]


@router.get(
    "/schedules/{request_id}",
    response_model=ScheduleOut,
    responses={
        **REFERENCE_NOT_FOUND,
        409: {"description": "The request is not approved"},
    },
    summary="One request's schedule",
)
def read_schedule(request_id: RequestId, app: App) -> ScheduleOut:
    """The approved request, with its schedule once issued."""
    return _schedule_out(app.schedule(request_id))


@router.post(
    "/schedules/{request_id}",
    response_model=ScheduleOut,
    status_code=201,
    responses={
        **REFERENCE_NOT_FOUND,
        409: {
            "description": "Not approved, already scheduled, or an officer is booked",
        },
    },
    summary="Issue the visit schedule of an approved request (step 4)",
)
def issue_schedule(request_id: RequestId, body: ScheduleIn, app: App) -> ScheduleOut:
    """Books the officers and issues the numbered assignment, all or nothing."""
    schedule = app.issue_schedule(request_id, body.draft(body.scheduled_by))
    return _schedule_out(schedule)


@router.post(
    "/schedules/{request_id}/revisions",
    response_model=ScheduleOut,
    status_code=201,
    responses={
        **REFERENCE_NOT_FOUND,
        409: {
            "description": "Not scheduled, the visit already reported in a Berita "
            "Acara, or an officer is booked",
        },
        200: {"description": "The same plan again: nothing changed"},
    },
    summary="Move a scheduled visit or change its team",
)
def revise_schedule(
    request_id: RequestId, body: ScheduleRevisionIn, app: App, response: Response
) -> ScheduleOut:
    """Rebooks the officers and tells the stakeholder the revised schedule; the
    field-visit clock then counts from the new first day if it had not begun.
    A visit under way keeps its first day as `visit_start` while its team,
    place or last day changes. The same plan again answers 200 and changes
    nothing."""
    schedule, changed = app.revise_schedule(
        request_id, body.draft(body.revised_by), reason=body.reason
    )
    if not changed:
        response.status_code = 200
    return _schedule_out(schedule)


def _schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        request_id=schedule.id,
        reference=schedule.reference,
        status=schedule.status,
        approved_at=schedule.approved_at,
        disposition=schedule.disposition,
        request=schedule.request,
        schedule=schedule.plan,
        revisions=schedule.revisions,
    )
