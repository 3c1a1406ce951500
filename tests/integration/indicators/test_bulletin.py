"""The monthly bulletin of a known event stream, read over HTTP from the real indicators service.

The stream is folded through Kafka into PostgreSQL by the real service, served by uvicorn on
loopback; `iprwatch report` then writes the PDF and HTML of chongqing-14th-fyp for 2022-03.
poppler's `pdftotext` must find
every figure expected from the stream and the Chinese headings, `pdffonts` the CJK font
embedded, and `pdftoppm` must render every page. The PDF and its page images are kept under
`.iprwatch/screenshots/bulletin/`.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from iprwatch.cli import main
from iprwatch.stack import system
from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import LOOPBACK, free_port
from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from shared.numbers import with_unit
from shared.plans import load_plans
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.conftest import produce, wait_folded
from tests.integration.indicators.stream import DISTRICTS, generate
from tests.support.servers import serving_in_thread

pytestmark = pytest.mark.integration

PLAN = "chongqing-14th-fyp"
ARTEFACTS = REPO_ROOT / ".iprwatch" / "screenshots" / "bulletin"
POPPLER = system.Requirement("pdftotext", "poppler-utils")


def serving(settings: IndicatorsSettings) -> AbstractContextManager[str]:
    """The indicators app under uvicorn in a thread of its own (its own event loop)."""
    return serving_in_thread(create_app(settings))


def _signed(value: Decimal) -> str:
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + with_unit(float(abs(value)), "count")


def _pdf_text(pdf: Path) -> str:
    command = ["pdftotext", "-layout", str(pdf), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603


async def test_the_bulletin_of_a_known_stream(
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
    cjk_font: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    system.ensure([POPPLER], say=lambda _: None)
    dsn = postgres_settings.dsn.get_secret_value()
    stream = generate(400, seed=11)
    await produce(kafka_settings, stream.records)
    plan = load_plans().get(PLAN)
    totals = stream.totals()
    key = "valid_invention_patents"

    def change(code: str, first: date, last: date) -> Decimal:
        return sum(
            (v for (d, i, m), v in totals.items() if (d, i) == (code, key) and first <= m <= last),
            Decimal(0),
        )

    start, march = date(2021, 1, 1), date(2022, 3, 1)
    increases = {code: change(code, start, march) for code in DISTRICTS}
    in_march = {code: change(code, march, march) for code in DISTRICTS}
    baseline = plan.baseline_for(plan.city.code, key)
    assert baseline is not None
    city_value = Decimal(repr(baseline.value)) + sum(increases.values(), Decimal(0))
    city_change = sum(in_march.values(), Decimal(0))

    with serving(indicators_settings) as url:
        await wait_folded(dsn, db_schema, kafka_settings)
        async with httpx.AsyncClient(base_url=url) as client:  # until the ledger is refreshed
            for _ in range(100):
                answer = await client.get("/v1/indicators", params={
                    "plan": PLAN, "district": plan.city.code, "indicator": key, "as_of": "2022-03",
                })  # fmt: skip
                if answer.status_code == 200 and answer.json()["items"][0]["value"] == float(
                    city_value
                ):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the API never served {city_value}: {answer.text}")
        monkeypatch.setenv("IPRWATCH_INDICATORS_URL", url)
        monkeypatch.setenv("IPRWATCH_ALERTS_URL", f"http://{LOOPBACK}:{free_port()}")  # none
        out = tmp_path / "reports"
        args = ["report", "--plan", PLAN, "--month", "2022-03", "--out", str(out)]
        assert await asyncio.to_thread(main, args) == 0

    index = json.loads((out / "reports.json").read_text(encoding="utf-8"))["reports"]
    assert [(e["plan"], e["month"]) for e in index] == [(PLAN, "2022-03")]
    march_entry = index[0]
    pdf = out / march_entry["pdf"]
    assert march_entry["bytes"] == pdf.stat().st_size
    assert (out / march_entry["html"]).is_file()

    text = _pdf_text(pdf)
    headings = ["重庆市知识产权", "统计月报", "2022年3月", "一、总体情况"]
    headings += ["二、重庆市主要指标完成情况", "三、区县排名", "四、本月变化", "五、告警情况"]
    for heading in headings:
        assert heading in text, heading
    flat = re.sub(r"\s+", "", text)  # sentences wrap across lines
    assert "在设有目标的4项指标中" in flat and "暂无数据3项" in flat  # 大足区: no events
    assert "告警服务暂时无法访问" in flat  # the alerts URL answers nothing
    lines = text.splitlines()
    city_line = next(line for line in lines if line.strip().startswith("有效发明专利"))
    assert with_unit(float(city_value), "count") in city_line
    assert _signed(city_change) in city_line
    for code in DISTRICTS:
        name = plan.district(code).name_zh
        row = next(line for line in lines if f" {name} " in f" {line} " and "件" in line)
        assert _signed(increases[code]) in row, (name, row)
        if in_march[code]:
            assert _signed(in_march[code]) in row, (name, row)
    ranked = sorted(DISTRICTS, key=lambda c: (-increases[c], c))
    positions = [text.index(f" {plan.district(c).name_zh} ") for c in ranked]
    assert positions == sorted(positions)  # ranked by the increase since the baseline date

    command = ["pdffonts", str(pdf)]
    fonts = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    cjk = [line for line in fonts.stdout.splitlines() if "Noto-Sans-CJK-SC" in line]
    assert cjk and all(" yes yes yes " in line for line in cjk), fonts.stdout

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for entry in index:
        shutil.copy(out / entry["pdf"], ARTEFACTS / entry["pdf"])
        prefix = ARTEFACTS / Path(entry["pdf"]).stem
        for old in ARTEFACTS.glob(f"{prefix.name}-*.png"):
            old.unlink()
        subprocess.run(  # noqa: S603
            ["pdftoppm", "-r", "60", "-png", str(out / entry["pdf"]), str(prefix)],  # noqa: S607
            check=True, capture_output=True,
        )  # fmt: skip
        pages = sorted(ARTEFACTS.glob(f"{prefix.name}-*.png"))
        assert len(pages) == entry["pages"] >= 4
        assert all(page.stat().st_size > 5_000 for page in pages)  # more than a blank page
