"""Making a bulletin from the indicators API, as `iprwatch report` does (`shared.bulletin`).

The HTTP reads (httpx, blocking) and the layout (WeasyPrint: seconds of CPU) run in a worker
thread, so the event loop keeps serving. An indicators API that does not answer (or refuses)
is `MakeFailed`: the job tries again later. The alerts of the bulletin are read from this
service's own API.
"""

from __future__ import annotations

import asyncio
from datetime import date

from services.alerts.domain.bulletin_mail import Report
from services.alerts.service.ports import MakeFailed
from shared.bulletin import model, render
from shared.bulletin.source import Endpoints, Source, SourceError

TITLE_SUFFIX = "知识产权统计月报"


class HttpBulletinMaker:
    def __init__(self, indicators_url: str, alerts_url: str, timeout: float = 30.0) -> None:
        self.endpoints = Endpoints.from_env(indicators_url, alerts_url)
        self.timeout = timeout

    async def make(self, plan: str, month: str, made_on: date) -> Report:
        try:
            return await asyncio.to_thread(self._make, plan, month, made_on)
        except SourceError as exc:
            raise MakeFailed(str(exc)) from None

    def _make(self, plan_id: str, month: str, made_on: date) -> Report:
        with Source(self.endpoints, timeout=self.timeout) as source:
            plan = source.plan(plan_id)
            current = source.indicators(plan.id, month)
            previous = source.indicators(plan.id, model.previous_month(month))
            series = source.all_series(plan.id, model.chart_keys(plan), month)
            alerts, why = source.alerts(plan.id)
        bulletin = model.build(plan, month, made_on, current, previous, series, alerts, why)
        page = render.html(bulletin)
        pdf, pages = render.pdf(page)
        return Report(
            plan=plan.id, month=month, plan_name=plan.name_zh, document_no=plan.document_no,
            title=f"{plan.city.name_zh}{TITLE_SUFFIX}", month_label=bulletin.month_label,
            summary=tuple(bulletin.summary), pdf=pdf, html=page, pages=pages,
        )  # fmt: skip
