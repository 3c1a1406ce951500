"""The board in Debian's headless Chromium, at 1440 px and 390 px wide, on a known stream.

The indicators app (`create_app`) folds a generated stream from a real Kafka topic into a real
PostgreSQL schema and serves over loopback (uvicorn); Chromium is driven through the DevTools
protocol by Playwright (`executable_path`: the system's chromium, no browser download). The
figures are read from the rendered DOM and from the ECharts instances the page drew, and
compared with totals computed from the stream itself. Screenshots are kept under
`.artefacts/board/` (git-ignored).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from iprwatch.stack import system
from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import free_port
from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from shared.numbers import with_unit
from shared.plans import load_plans
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.conftest import produce, wait_folded
from tests.integration.indicators.stream import Stream, generate

pytestmark = pytest.mark.integration

ARTEFACTS = REPO_ROOT / ".artefacts" / "board"
WIDTHS = (1440, 390)
P14 = "chongqing-14th-fyp"
VIP = "valid_invention_patents"
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


@pytest.fixture
async def served(
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
) -> AsyncIterator[tuple[str, Stream]]:
    stream = generate(1500, seed=21)
    await produce(kafka_settings, stream.records)
    app = create_app(indicators_settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server stopped while starting"
            await asyncio.sleep(0.05)
        dsn = postgres_settings.dsn.get_secret_value()
        await wait_folded(dsn, db_schema, kafka_settings)
        await app.state.indicators.refresh()
        yield f"http://127.0.0.1:{port}", stream
    finally:
        server.should_exit = True
        await task


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
