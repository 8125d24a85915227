"""The operations view of the steps' clocks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from services.notifier.api import App
from services.notifier.application import ClockRow, NotifierApplication
from services.notifier.sla import ClockState, SlaStep

router = APIRouter(prefix="/sla", tags=["service level"])
STREAM_POLL_SECONDS = 1.0


class ClockOut(BaseModel):
    request_id: UUID
    reference: str
    step: SlaStep
    state: ClockState
    target: str | None
    started_at: datetime | None
    warning_at: datetime | None
    deadline: datetime | None
    stopped_at: datetime | None
    working_minutes_used: float | None = Field(
        description="Working time the step took, once judged"
    )
    working_minutes_left: float | None = Field(
        description="Working time left until the deadline; negative once overrun"
    )


@router.get("/clocks", response_model=list[ClockOut], summary="Every step's clock")
def list_clocks(
    app: App,
    state: Annotated[ClockState | None, Query()] = None,
    request_id: UUID | None = None,
) -> list[ClockOut]:
    """Clocks by urgency, nearest deadline first, with the working time left."""
    return clocks_out(app, app.clocks.select(state, request_id))


@router.get(
    "/stream",
    summary="Server-Sent Events: every change of a clock, live",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_clocks(request: Request, app: App) -> StreamingResponse:
    """Sends each clock once on connect, then each clock whose state, start,
    deadline or stop changes (a visit moved before its day moves its clock)."""

    async def changes() -> AsyncIterator[str]:
        sent: dict[UUID, tuple[object, ...]] = {}
        while not await request.is_disconnected():
            rows = await asyncio.to_thread(app.clocks.select, None, None)
            changed = [row for row in rows if sent.get(row.clock_id) != _seen(row)]
            for row, out in zip(changed, clocks_out(app, changed), strict=True):
                sent[row.clock_id] = _seen(row)
                yield f"event: clock\ndata: {out.model_dump_json()}\n\n"
            if not changed:
                yield ": still here\n\n"
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(changes(), media_type="text/event-stream")


def _seen(row: ClockRow) -> tuple[object, ...]:
    """What a dashboard shows of a clock, apart from the time left."""
    return (row.state, row.started_at, row.deadline, row.stopped_at)


def clocks_out(app: NotifierApplication, rows: list[ClockRow]) -> list[ClockOut]:
    """The clocks with the working time left, reckoned now."""
    calendar = app.calendar().working_time()
    now = datetime.now(UTC)
    answers = []
    for row in rows:
        left = None
        if row.deadline is not None and row.stopped_at is None:
            if now <= row.deadline:
                left = calendar.working_minutes(now, row.deadline)
            else:
                left = -calendar.working_minutes(row.deadline, now)
        answers.append(
            ClockOut(
                request_id=row.request_id,
                reference=row.reference,
                step=row.step,
                state=row.state,
                target=row.target,
                started_at=row.started_at,
                warning_at=row.warning_at,
                deadline=row.deadline,
                stopped_at=row.stopped_at,
                working_minutes_used=row.working_minutes_used,
                working_minutes_left=round(left, 3) if left is not None else None,
            )
        )
    return answers
