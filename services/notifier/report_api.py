"""The monthly after-sales report over HTTP: JSON, CSV, or a printable page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.notifier.api import App
from services.notifier.labels import in_words, month_in_words
from services.notifier.report import report_csv

router = APIRouter(prefix="/reports", tags=["reports"])
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)
_TEMPLATES.filters["words"] = in_words
_TEMPLATES.filters["month"] = month_in_words


@router.get(
    "/after-sales",
    summary="The after-sales report of a month (Laporan Pelayanan Purna Jual)",
    responses={
        200: {
            "content": {"application/json": {}, "text/csv": {}, "text/html": {}},
            "description": "JSON, CSV (format=csv) or a printable page (format=html)",
        }
    },
)
def after_sales_report(
    request: Request,
    app: App,
    month: Annotated[
        str, Query(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", examples=["2026-12"])
    ],
    format: Annotated[str | None, Query(pattern="^(json|csv|html)$")] = None,
) -> Response:
    """Requests received in the month, their decisions, clocks and field tests."""
    report: dict[str, Any] = app.after_sales_report(month)
    wanted = format or (
        "html" if "text/html" in request.headers.get("accept", "") else "json"
    )
    if wanted == "csv":
        return PlainTextResponse(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="purna-jual-{month}.csv"'
            },
        )
    if wanted == "html":
        return HTMLResponse(
            _TEMPLATES.get_template("after_sales_report.html").render(r=report)
        )
    return JSONResponse(report)
