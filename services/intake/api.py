"""Intake's HTTP API: what channel frontends and the front office call."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from starlette.datastructures import FormData
from starlette.types import Message

from purnajual.inputs import IsoDateTime, Text
from purnajual.web import runtime_of
from services.intake.application import IntakeApplication, Submission
from services.intake.config import ServiceKind
from services.intake.domain import Channel, ServiceRequest, Status, Step

EARLIEST_RECEIVED_AT = datetime(2000, 1, 1)
PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-.]{4,23}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$"


class StakeholderIn(BaseModel):
    """Who asks, and how to answer them."""

    model_config = ConfigDict(extra="forbid")

    institution: Annotated[
        Text, Field(max_length=200, examples=["Dinas Peternakan Kab. Garut"])
    ]
    contact_name: Annotated[
        Text, Field(max_length=120, examples=["drh. Siti Rahmawati"])
    ]
    phone: Annotated[
        str | None, Field(pattern=PHONE_PATTERN, examples=["+62 812 3456 7890"])
    ] = None
    email: Annotated[str | None, Field(pattern=EMAIL_PATTERN, max_length=254)] = None
    address: Annotated[Text | None, Field(max_length=500)] = None
    regency: Annotated[Text | None, Field(max_length=100, examples=["Garut"])] = None
    province: Annotated[Text | None, Field(max_length=100, examples=["Jawa Barat"])] = (
        None
    )


class SubmissionIn(BaseModel):
    """A request for an after-sales service, as received on a channel."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    channel_message_id: Annotated[
        Text,
        Field(
            max_length=200,
            description="The channel's own id of the message (WhatsApp message id, "
            "email Message-ID, letter agenda number). Sending the same pair again "
            "with the same content returns the same request and creates nothing; "
            "with other content it is refused (422), as a new request needs an id "
            "of its own.",
        ),
    ]
    received_at: IsoDateTime | None = Field(
        None,
        description="When the letter or message reached the center, as an ISO "
        "date-time with its UTC offset. Defaults to now. A time before 2000 is "
        "refused, and so is one in the future beyond a tolerance for a channel's "
        "clock running fast (INTAKE_FUTURE_TOLERANCE_SECONDS, 5 minutes by "
        "default); within it, the registration step counts as taking no time.",
    )
    stakeholder: StakeholderIn
    services: list[Text] = Field(
        min_length=1,
        max_length=5,
        description="Codes from the service catalogue (GET /services), each once.",
        examples=[["field_semen_test"]],
    )
    description: Annotated[Text, Field(max_length=5000)]

    @field_validator("received_at")
    @classmethod
    def _not_before_the_service_existed(cls, value: datetime | None) -> datetime | None:
        # Compared without the offset: converting year 1 to UTC can overflow.
        if value is not None and value.replace(tzinfo=None) < EARLIEST_RECEIVED_AT:
            raise ValueError("must not be before the year 2000")
        return value

    @field_validator("services")
    @classmethod
    def _each_service_once(cls, value: list[str]) -> list[str]:
        repeated = sorted({code for code in value if value.count(code) > 1})
        if repeated:
            raise ValueError(f"names {', '.join(repeated)} more than once")
        return value


class SubmissionOut(BaseModel):
    request_id: UUID
    reference: str = Field(examples=["PPJ-2026-00042"])
    status: Status
    duplicate: bool = Field(
        description="True when this message was already registered."
    )


class TimelineEntry(BaseModel):
    step: Step
    at: datetime
    details: dict[str, Any]


class RequestOut(BaseModel):
    request_id: UUID
    reference: str
    status: Status
    channel: Channel
    channel_message_id: str
    received_at: datetime
    stakeholder: dict[str, Any]
    services: list[str]
    description: str
    timeline: list[TimelineEntry]


class RequestSummaryOut(BaseModel):
    request_id: UUID
    reference: str
    status: Status
    channel: Channel
    institution: str
    regency: str | None
    services: list[str]
    received_at: datetime


class RequestListOut(BaseModel):
    total: int
    items: list[RequestSummaryOut]


def intake_app(request: Request) -> IntakeApplication:
    app = runtime_of(request).app
    assert isinstance(app, IntakeApplication)
    return app


IntakeApp = Annotated[IntakeApplication, Depends(intake_app)]
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def submission_from_form(form: FormData) -> dict[str, Any]:
    """A submission posted as a web form, in the shape of the JSON body.

    Fields are named as in JSON, the stakeholder's with a prefix
    (``stakeholder.institution`` or ``stakeholder[institution]``); services
    repeat the field or separate codes with commas. Files are refused: the
    request letter is text, and an attachment belongs in a link.
    """
    data: dict[str, Any] = {}
    stakeholder: dict[str, Any] = {}
    for name, value in form.multi_items():
        if not isinstance(value, str):
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", name),
                        "msg": "Attachments are not accepted; put a link to the "
                        "document in the description.",
                        "type": "value_error",
                    }
                ]
            )
        if name.startswith(("stakeholder.", "stakeholder[")):
            stakeholder[name[len("stakeholder.") :].rstrip("]")] = value
        elif name == "services":
            data.setdefault("services", []).extend(
                code.strip() for code in value.split(",") if code.strip()
            )
        else:
            data[name] = value
    if stakeholder:
        data["stakeholder"] = stakeholder
    return data


class FormsAsJson(APIRoute):
    """Lets a route whose body is a JSON model also take the same as a web form.

    Forms come from the center's own website and online form; the route and
    its validation stay one, the form is only rewritten as its JSON twin.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_form_or_json(request: Request) -> Response:
            content_type = request.headers.get("content-type", "").split(";")[0]
            if content_type.strip().lower() not in FORM_CONTENT_TYPES:
                return await handle(request)
            async with request.form(max_fields=200) as form:
                body = json.dumps(submission_from_form(form)).encode()
            headers = [
                (name, value)
                for name, value in request.scope["headers"]
                if name not in (b"content-type", b"content-length")
            ] + [(b"content-type", b"application/json")]

            async def receive() -> Message:
                return {"type": "http.request", "body": body, "more_body": False}

            return await handle(Request({**request.scope, "headers": headers}, receive))

        return handle_form_or_json


def _form_schema() -> dict[str, Any]:
    stakeholder = {
        f"stakeholder.{name}": {"type": "string"} for name in StakeholderIn.model_fields
    }
    return {
        "type": "object",
        "properties": {
            "channel": {"type": "string", "enum": [c.value for c in Channel]},
            "channel_message_id": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "services": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Repeat the field, or separate codes with commas.",
            },
            "description": {"type": "string"},
            **stakeholder,
        },
        "required": [
            "channel",
            "channel_message_id",
            "services",
            "description",
            "stakeholder.institution",
            "stakeholder.contact_name",
        ],
    }


router = APIRouter(tags=["requests"])
forms_router = APIRouter(tags=["requests"], route_class=FormsAsJson)


@forms_router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionOut,
    responses={
        200: {
            "model": SubmissionOut,
            "description": "Already registered: same request",
        },
    },
    summary="Submit a request from any channel",
    openapi_extra={
        "requestBody": {
            "content": {
                content_type: {"schema": _form_schema()}
                for content_type in FORM_CONTENT_TYPES
            }
        }
    },
)
def submit_request(
    body: SubmissionIn, app: IntakeApp, response: Response
) -> SubmissionOut:
    """Registers the request and answers with its reference (step 1 of the SOP)."""
    outcome = app.submit(
        Submission(
            channel=body.channel,
            channel_message_id=body.channel_message_id,
            received_at=body.received_at,
            stakeholder=body.stakeholder.model_dump(),
            services=list(body.services),
            description=body.description,
        )
    )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/requests/{outcome.reference}"
    return SubmissionOut(
        request_id=outcome.request_id,
        reference=outcome.reference,
        status=Status(outcome.status),
        duplicate=not outcome.created,
    )


@router.get(
    "/requests/{reference}",
    response_model=RequestOut,
    responses={404: {"description": "No request has this reference"}},
    summary="Status and timeline of one request",
)
def read_request(reference: str, app: IntakeApp) -> RequestOut:
    """The request by its reference (or request id), with every step so far."""
    return _request_out(app.request(reference))


@router.get(
    "/requests",
    response_model=RequestListOut,
    summary="Requests for the front office, newest first",
)
def list_requests(
    app: IntakeApp,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RequestListOut:
    """Every request with its current status, optionally filtered."""
    total, rows = app.view.select(
        status=status_filter.value if status_filter else None,
        channel=channel.value if channel else None,
        limit=limit,
        offset=offset,
    )
    return RequestListOut(
        total=total,
        items=[
            RequestSummaryOut(
                request_id=row.request_id,
                reference=row.reference,
                status=Status(row.status),
                channel=Channel(row.channel),
                institution=row.institution,
                regency=row.regency,
                services=row.services,
                received_at=row.received_at,
            )
            for row in rows
        ],
    )


@router.get(
    "/services",
    response_model=list[ServiceKind],
    tags=["catalogue"],
    summary="The catalogue of after-sales services",
)
def list_services(app: IntakeApp) -> list[ServiceKind]:
    """The kinds of service a request may ask for, by code."""
    return list(app.catalogue.values())


def _request_out(request: ServiceRequest) -> RequestOut:
    submitted = TimelineEntry(
        step=Step.SUBMITTED,
        at=request.created_on,
        details={
            "received_at": request.received_at.isoformat(),
            "channel": request.channel,
        },
    )
    later = [
        TimelineEntry(
            step=Step(entry["step"]), at=entry["at"], details=entry["details"]
        )
        for entry in request.timeline.values()
    ]
    return RequestOut(
        request_id=request.id,
        reference=request.reference,
        status=Status(request.status),
        channel=Channel(request.channel),
        channel_message_id=request.channel_message_id,
        received_at=request.received_at,
        stakeholder=request.stakeholder,
        services=request.services,
        description=request.description,
        timeline=[submitted, *sorted(later, key=lambda entry: entry.at)],
    )
