"""The board in Debian's headless Chromium, at 1440 px and 390 px wide, on a known stream.

The indicators app (`create_app`) folds a generated stream from a real Kafka topic into a real
PostgreSQL schema and serves over loopback (uvicorn); Chromium is driven through the DevTools
protocol by Playwright (`executable_path`: the system's chromium, no browser download). The
figures are read from the rendered DOM and from the ECharts instances the page drew, and
compared with totals computed from the stream itself; a division's latest events with the
stream's acts. Its alerts come from a stand-in of the alerts service's API (a small FastAPI
app over loopback HTTP), or from nothing listening. Screenshots are kept under
`.artefacts/board/` (git-ignored).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from playwright.async_api import Browser, Page, async_playwright

from iprwatch.stack import system
from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import free_port
from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from shared import event_types
from shared.divisions import within
from shared.event_types import LABEL_ZH
from shared.numbers import with_unit
from shared.plan import Plan
from shared.plans import load_plans
from shared.settings import PostgresSettings
from tests.integration.indicators.conftest import produce, wait_folded
from tests.integration.indicators.stream import Stream, generate

pytestmark = pytest.mark.integration

ARTEFACTS = REPO_ROOT / ".artefacts" / "board"
WIDTHS = (1440, 390)
P14 = "chongqing-14th-fyp"
P15 = "chongqing-15th-fyp"
VIP = "valid_invention_patents"
HVIP = "high_value_invention_patents"
EVENTS = 20  # the latest acts a division's page lists by default
REVENUE = "ip_service_revenue_cny"


def in_plan(stream: Stream, code: str | None, indicator: str) -> Decimal:
    """The sum of a division's (or every division's) deltas in the 14th plan's months."""
    return sum(
        (
            v
            for (d, i, m), v in stream.totals().items()
            if i == indicator and (code is None or d == code)
            if date(2021, 1, 1) <= m <= date(2025, 12, 1)
        ),
        Decimal(0),
    )


def signed(change: int) -> str:
    """A change since the baseline date as the board shows it: always with its sign."""
    return ("+" if change >= 0 else "") + with_unit(change, "count")


def latest_events(stream: Stream, plan: Plan, area: str) -> list[list[str]]:
    """The latest acts of the divisions within `area` as a division's page lists them, from
    the stream: each act once (by id, and by its type and subject), newest first."""
    acts: dict[tuple[str, str], dict[str, str]] = {}
    natural: set[tuple[str, str]] = set()
    for _, value, headers in stream.records:
        attrs = {name.removeprefix("ce_"): raw.decode() for name, raw in headers}
        if "type" not in attrs or (attrs["source"], attrs["id"]) in acts:
            continue
        if "subject" in attrs and (attrs["type"], attrs["subject"]) in natural:
            continue
        data = json.loads(value)
        acts[(attrs["source"], attrs["id"])] = {**attrs, "district": data["district"],
                                                "year": str(data.get("year"))}  # fmt: skip
        if "subject" in attrs:
            natural.add((attrs["type"], attrs["subject"]))
    found = sorted(
        (a for a in acts.values() if within(area, a["district"])),
        key=lambda a: datetime.fromisoformat(a["time"]),
        reverse=True,
    )[: EVENTS + 1]
    moments = [datetime.fromisoformat(a["time"]) for a in found]
    assert len(set(moments)) == len(moments), "acts at one instant: their order is by id"
    return [
        [
            datetime.fromisoformat(a["time"]).astimezone(plan.zone).date().isoformat(),
            LABEL_ZH[a["type"]],
            f"{a['year']}年度营收" if a["type"] == event_types.REVENUE else a["subject"],
            plan.district(a["district"]).name_zh,
        ]
        for a in found[:EVENTS]
    ]


async def shown_events(page: Page) -> list[list[str]]:
    found: list[list[str]] = await page.locator("table.events tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    return found


@asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """`app` served by uvicorn on loopback, for the duration; its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server stopped while starting"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def indicators_serving(
    settings: IndicatorsSettings, stream: Stream, postgres: PostgresSettings
) -> AsyncIterator[str]:
    """The indicators app on `stream` (produced, folded, in the snapshot); its base URL."""
    await produce(settings.kafka, stream.records)
    app = create_app(settings)
    async with serving(app) as base:
        dsn = postgres.dsn.get_secret_value()
        await wait_folded(dsn, settings.db_schema, settings.kafka)
        await app.state.indicators.refresh()
        yield base


@pytest.fixture
async def served(
    indicators_settings: IndicatorsSettings, postgres_settings: PostgresSettings
) -> AsyncIterator[tuple[str, Stream]]:
    stream = generate(1500, seed=21)
    settings = indicators_settings.model_copy(update={"alerts_url": None})  # whatever the env
    async with indicators_serving(settings, stream, postgres_settings) as base:
        yield base, stream


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    system.ensure([system.CHROMIUM], say=lambda _: None)
    executable = shutil.which("chromium")
    assert executable is not None
    async with async_playwright() as driver:
        found = await driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield found
        finally:
            await found.close()


async def shot(page: Page, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000, f"{path} looks blank"
    return path


async def check_board(page: Page, base: str, stream: Stream, width: int) -> None:
    plan = load_plans().get(P14)
    await page.goto(f"{base}/?plan={P14}")
    await page.wait_for_function("document.querySelectorAll('#map svg path').length >= 38")
    # the city's valid invention patents: the published baseline + the plan's deltas
    baseline = plan.baseline_for("500000", VIP)
    assert baseline is not None and plan.target_for("500000", VIP) is None
    city = baseline.value + float(in_plan(stream, None, VIP))
    card = page.locator(f'.card[data-key="{VIP}"]')
    assert await card.locator(".big .value").inner_text() == with_unit(city, "count")
    assert await card.locator(".target").inner_text() == "目标未发布"
    assert await card.get_attribute("class") == "card st-no_target"
    # the service revenue: the latest year's figure against the 1e9 target; the stream has
    # no 2025 figure, so the final evaluation has no data
    revenue = {k: v for k, v in stream.totals().items() if k[1] == REVENUE}
    year = max(k[2].year for k in revenue)
    latest = float(sum(v for k, v in revenue.items() if k[2].year == year))
    card = page.locator(f'.card[data-key="{REVENUE}"]')
    assert await card.locator(".big .value").inner_text() == with_unit(latest, "cny")
    assert await card.locator(".target-value").inner_text() == "10亿元"
    assert await card.locator(".progress").inner_text() == f"{latest / 1e9:.0%}"
    assert await card.get_attribute("class") == "card st-no_data"
    assert "无数据" in await card.locator(".final").inner_text()
    assert await page.locator(".card").count() == len(plan.indicators)
    # the table: 39 rows, Yubei's patents a change since the baseline date, labelled
    assert await page.locator("table.grid tbody th[scope=row]").count() == 39
    yubei = page.locator(f'tr[data-code="500112"] td[data-key="{VIP}"]')
    change = int(in_plan(stream, "500112", VIP))
    assert await yubei.locator(".value").inner_text() == signed(change)
    assert await yubei.locator(".tag.change").inner_text() == "基期以来增量"
    # ranks: by value (no district has a target), best first, among the stream's districts
    changes = {code: in_plan(stream, code, VIP) for code in ("500112", "500101", "500243")}
    ranks = {}
    for code in changes:
        text = await page.locator(f'tr[data-code="{code}"] td[data-key="{VIP}"] .rank').inner_text()
        ranks[code] = int(text.removeprefix("第").removesuffix("名"))
    assert sorted(ranks, key=ranks.__getitem__) == sorted(changes, key=lambda c: -changes[c])
    # the map: every division found in the outlines, Liangping by its former county's name
    data = await page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('map')).getOption().series[0].data"
    )
    assert len(data) == 38
    liangping = next(d for d in data if d["code"] == "500155")
    assert liangping["name"] == "梁平县" and liangping["status"] in ("no_target", "no_data")
    assert await page.locator(".missing").count() == 0
    await page.select_option("#map-mode", f"value:{VIP}")
    shown = await page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('map')).getOption().series[0].data"
    )
    assert {d["code"]: d["value"] for d in shown}["500112"] == change
    # the page fits the screen: only the table's own region scrolls sideways
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await shot(page, f"board-{width}")


async def check_division(page: Page, base: str, stream: Stream, width: int) -> None:
    await page.goto(f"{base}/division/500112?plan={P14}")
    await page.wait_for_function("document.querySelectorAll('.chart svg').length >= 1")
    row = page.locator(f'table.latest tr[data-key="{VIP}"]')
    change = int(in_plan(stream, "500112", VIP))
    assert await row.locator(".value").inner_text() == signed(change)
    assert await page.locator("ul.charts > li").count() == 13
    charts = await page.locator(".chart").count()
    assert await page.locator(".chart svg").count() == charts > 0
    legend = await page.locator(f'.chart[data-key="{VIP}"] svg').inner_html()
    assert "基期以来增量" in legend
    points = await page.evaluate(
        f"echarts.getInstanceByDom(document.querySelector('.chart[data-key=\"{VIP}\"]'))"
        ".getOption().series[0].data"
    )
    assert points[-1][1] == change
    # the latest events: the stream's newest acts in Yubei; no alerts service set
    plan = load_plans().get(P14)
    expected = latest_events(stream, plan, "500112")
    assert len(expected) == EVENTS and await shown_events(page) == expected
    assert await page.locator("section.alerts .alerts-note").inner_text() == "告警服务未配置"
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await shot(page, f"division-500112-{width}")


async def test_the_board_renders_the_streams_figures_at_desktop_and_phone_width(
    served: tuple[str, Stream], browser: Browser
) -> None:
    base, stream = served
    for width in WIDTHS:
        page = await browser.new_page(viewport={"width": width, "height": 900})
        await check_board(page, base, stream, width)
        await check_division(page, base, stream, width)
        await page.close()
    # keyboard: the skip link first, the table's scrolling region reachable
    page = await browser.new_page(viewport={"width": 390, "height": 900})
    # the city's page: the latest events of every division within it
    await page.goto(f"{base}/division/500000?plan={P14}")
    expected = latest_events(stream, load_plans().get(P14), "500000")
    assert await shown_events(page) == expected
    assert {row[3] for row in expected} != {"渝北区"}  # more than one district
    await page.goto(f"{base}/?plan={P14}")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    assert await page.locator("div.scroll[role=region][tabindex='0']").count() == 1
    # the next plan: the city's opening balance derived from the 14th plan, and labelled
    await page.goto(f"{base}/?plan=chongqing-15th-fyp")
    card = page.locator(f'.card[data-key="{VIP}"]')
    assert await card.locator(".tag.derived").inner_text() == "基期为推算值"
    # the national plan: provinces found by code
    await page.goto(f"{base}/?plan=national-14th-fyp")
    await page.wait_for_function("document.querySelectorAll('#map svg path').length >= 31")
    assert await page.locator(".no-map, .missing").count() == 0
    await page.close()


def alert(indicator: str, state: str, status: str, firing_since: str | None) -> dict[str, object]:
    """An alert as the alerts service's `GET /v1/alerts` answers it."""
    return {
        "plan": P15, "district": "500112", "indicator": indicator, "state": state,
        "status": status, "severity": "warning", "epoch": 1, "value": 1234.0,
        "month": "2026-10", "required": 1500.0, "target": None, "forecast": None,
        "forecast_low": None, "forecast_high": None, "active_since": "2026-03-01T00:00:00Z",
        "firing_since": firing_since, "resolved_at": None,
        "evaluated_at": "2026-11-30T00:00:00Z",
    }  # fmt: skip


@pytest.fixture
def small_stream() -> Stream:
    return generate(120, seed=5)


async def test_the_division_page_renders_while_the_alerts_api_does_not_answer(
    indicators_settings: IndicatorsSettings,
    postgres_settings: PostgresSettings,
    small_stream: Stream,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = indicators_settings.model_copy(update={"alerts_url": nowhere})
    async with (
        indicators_serving(settings, small_stream, postgres_settings) as base,
        httpx.AsyncClient() as client,
    ):
        page = await client.get(f"{base}/division/500112?plan={P15}")
    assert page.status_code == 200
    assert '<p class="alerts-note">暂时无法获取告警</p>' in page.text
    assert page.text.count('<tr data-key="') == 13  # the rest of the page as always


async def test_the_division_page_shows_the_alerts_apis_current_alerts(
    indicators_settings: IndicatorsSettings,
    postgres_settings: PostgresSettings,
    small_stream: Stream,
    browser: Browser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("IPRWATCH_READ_TOKENS", raising=False)
    monkeypatch.setenv("IPRWATCH_READ_TOKEN", "alerts-reader")
    asked: list[tuple[dict[str, str], str | None]] = []
    stand_in = FastAPI()

    @stand_in.get("/v1/alerts")
    async def alerts(request: Request) -> list[dict[str, object]]:
        asked.append((dict(request.query_params), request.headers.get("authorization")))
        return [
            alert(HVIP, "pending", "at_risk", None),
            alert(VIP, "firing", "behind", "2026-03-02T01:30:00Z"),
            alert("patent_intensity", "inactive", "on_track", None),
        ]

    plan = load_plans().get(P15)
    async with serving(stand_in) as alerts_url:
        settings = indicators_settings.model_copy(update={"alerts_url": alerts_url})
        async with indicators_serving(settings, small_stream, postgres_settings) as base:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            response = await page.goto(f"{base}/division/500112?plan={P15}")
            assert response is not None and response.status == 200
            rows = await page.locator("table.alerts tbody tr").evaluate_all(
                "rows => rows.map(r => [r.dataset.state, ...[...r.cells].map(c => c.innerText)])"
            )
            figures = [with_unit(1234, "count"), with_unit(1500, "count")]
            assert rows == [
                ["firing", plan.indicator(VIP).name_zh, "告警中", "落后于进度",
                 "2026-03-02 09:30", *figures],  # the firing first; times in Shanghai
                ["pending", plan.indicator(HVIP).name_zh, "待确认", "有落后风险",
                 "2026-03-01 08:00", *figures],
            ]  # fmt: skip
            assert await shown_events(page) == latest_events(small_stream, plan, "500112")
            await shot(page, "division-500112-alerts-1440")
            await page.close()
    assert asked == [({"plan": P15, "district": "500112"}, "Bearer alerts-reader")]
