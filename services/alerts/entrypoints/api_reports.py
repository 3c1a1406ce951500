"""`GET /v1/reports`: the monthly bulletins the service made, and each one's PDF and HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from services.alerts.bootstrap import Alerts
from shared.numbers import SHANGHAI

PLAN = r"^[a-z0-9][a-z0-9-]{0,63}$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_OFFSET = 1_000_000
_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


class ReportOut(BaseModel):
    plan: str
    month: str  # YYYY-MM: the month the bulletin covers
    made_at: datetime
    pages: int
    bytes: int  # of the PDF
    sha256: str  # of the PDF
    recipients: list[str]  # its mail was addressed to them
    sent_to: list[str]  # their server accepted it
    pdf: str  # paths of the files
    html: str


def _alerts(request: Request) -> Alerts:
    alerts: Alerts | None = getattr(request.app.state, "alerts", None)
    if alerts is None or alerts.reports is None:
        raise HTTPException(503, "starting", headers={"Retry-After": "5"})
    return alerts


def add_report_routes(
    router: APIRouter, reading: list[Any], responses: dict[int | str, dict[str, Any]]
) -> None:
    """The routes on the alerts API's `/v1` router, read-guarded as its other lists."""

    @router.get("/reports", dependencies=reading, responses=responses, operation_id="listReports")
    async def list_reports(
        request: Request,
        limit: Annotated[
            int, Query(ge=1, le=5000, description="at most this many (default 100)")
        ] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="skip this many first")] = 0,
    ) -> list[ReportOut]:
        """The monthly bulletins (统计月报) made and mailed by the service, newest first: the
        plan, the month covered, when it was made, pages, size and SHA-256 of the PDF, and the
        recipients its mail was addressed to and accepted for."""
        reports = _alerts(request).reports
        assert reports is not None  # noqa: S101 - checked by _alerts
        return [
            ReportOut(
                plan=e.plan,
                month=e.month,
                made_at=e.made_at.astimezone(SHANGHAI),
                pages=e.pages,
                bytes=e.bytes,
                sha256=e.sha256,
                recipients=list(e.recipients),
                sent_to=list(e.sent_to),
                pdf=f"/v1/reports/{e.plan}/{e.month}.pdf",
                html=f"/v1/reports/{e.plan}/{e.month}.html",
            )  # fmt: skip
            for e in await reports.entries(limit, offset)
        ]

    served = {
        **responses,
        200: {"description": "the bulletin", "content": {t: {} for t in _TYPES.values()}},
        404: {"description": "no bulletin of this plan and month was made"},
    }

    async def serve(
        request: Request, plan: str, month: str, kind: Literal["pdf", "html"]
    ) -> Response:
        reports = _alerts(request).reports
        assert reports is not None  # noqa: S101 - checked by _alerts
        found = await reports.document(plan, month, kind)
        if found is None:
            raise HTTPException(404, f"no bulletin of {plan} for {month}")
        name = f"bulletin-{plan}-{month}.{kind}"
        return Response(
            found, media_type=_TYPES[kind],
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )  # fmt: skip

    @router.get("/reports/{plan}/{month}.pdf", dependencies=reading, responses=served,
                response_class=Response, operation_id="getReportPdf")  # fmt: skip
    async def report_pdf(
        request: Request,
        plan: Annotated[str, Path(pattern=PLAN)],
        month: Annotated[str, Path(pattern=MONTH)],
    ) -> Response:
        """One bulletin's PDF, as mailed."""
        return await serve(request, plan, month, "pdf")

    @router.get("/reports/{plan}/{month}.html", dependencies=reading, responses=served,
                response_class=Response, operation_id="getReportHtml")  # fmt: skip
    async def report_html(
        request: Request,
        plan: Annotated[str, Path(pattern=PLAN)],
        month: Annotated[str, Path(pattern=MONTH)],
    ) -> Response:
        """One bulletin's HTML (the same page the PDF was laid out from)."""
        return await serve(request, plan, month, "html")
