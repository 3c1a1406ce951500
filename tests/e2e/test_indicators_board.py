"""The progress board in a real headless browser (Debian's chromium), with a screenshot.

The indicators service runs as a real process on this test's topic and schema; chromium
(installed with apt when missing) loads `/` over loopback only, dumps the rendered DOM and
takes a screenshot, kept as `.iprwatch/screenshots/progress-board.png`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import date
from pathlib import Path

import pytest

from iprwatch.stack import system
from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.processes import free_port, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from shared.settings import KafkaSettings
from tests.integration.indicators.conftest import produce, wait_folded
from tests.integration.indicators.stream import generate
from tests.support.services import service_env

pytestmark = pytest.mark.e2e

BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--hide-scrollbars",
]  # fmt: skip

PLAN_MONTHS = (date(2021, 1, 1), date(2025, 12, 1))  # the 14th plan's months


def ensure_chinese_font() -> None:
    """The board's labels are Chinese: without a CJK font the screenshot shows empty boxes."""
    command = ["fc-list", ":lang=zh", "family"]
    listed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603,S607
    if listed.stdout.strip():
        return
    if os.geteuid() != 0:
        pytest.fail("no Chinese font; install one with: apt-get install -y fonts-wqy-microhei")
    subprocess.run(  # noqa: S603
        ["apt-get", "install", "-y", "-q", "fonts-wqy-microhei"],  # noqa: S607
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True, check=True,
    )  # fmt: skip


def browse(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    system.ensure([system.CHROMIUM], say=lambda _: None)
    ensure_chinese_font()
    command = ["chromium", *BROWSER_FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=120, check=False
    )


def png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values of the pixel rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    idat, at = b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


async def test_the_progress_board_renders_in_a_real_browser(
    infra: Endpoints, kafka_settings: KafkaSettings, db_schema: str, tmp_path: Path
) -> None:
    stream = generate(3000, seed=9)
    await produce(kafka_settings, stream.records)
    port = free_port()
    env = service_env(infra, kafka_settings, db_schema, {"indicators": port})
    url = f"http://127.0.0.1:{port}/?plan=chongqing-14th-fyp"
    log = tmp_path / "indicators.log"
    pid = launch_service("indicators", env, log)
    try:
        await asyncio.to_thread(wait_ready, f"http://127.0.0.1:{port}", pid, "indicators", log)
        await wait_folded(infra.postgres_dsn, db_schema, kafka_settings)
        await asyncio.sleep(0.6)  # the snapshot refresh (every 0.2 s)
        dom = await asyncio.to_thread(browse, url, tmp_path / "profile-dom", "--dump-dom")
        shot = tmp_path / "board.png"
        taken = await asyncio.to_thread(
            browse, url, tmp_path / "profile-shot", f"--screenshot={shot}",
            "--window-size=1600,1100",
        )  # fmt: skip
    finally:
        stop(pid, service_marker("indicators"), timeout=20)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert "<h1>" in html and "指标进度" in html
    rows = re.findall(r'<tr[^>]*data-code="(\d{6})"', html)
    assert rows[0] == "500000" and len(rows) == 39
    assert "有效发明专利" in html and "渝北区" in html and "城口县" in html
    yubei = sum(
        v for (d, i, m), v in stream.totals().items()
        if (d, i) == ("500112", "valid_invention_patents")
        and PLAN_MONTHS[0] <= m <= PLAN_MONTHS[1]
    )  # fmt: skip
    cell = re.search(
        r'data-code="500112".*?data-key="valid_invention_patents">([^<]*)<', html, re.S
    )
    # no published baseline of its own: a change since the baseline date, labelled as such
    assert cell is not None and cell.group(1) == f"{'+' if yubei >= 0 else ''}{int(yubei):,}"
    revenue = {
        k: v for k, v in stream.totals().items()
        if k[1] == "ip_service_revenue_cny" and PLAN_MONTHS[0] <= k[2] <= PLAN_MONTHS[1]
    }  # fmt: skip
    year = max(k[2].year for k in revenue)
    city_revenue = float(sum(v for k, v in revenue.items() if k[2].year == year))
    status = "ended"  # the 14th plan ended on 2025-12-31
    city_cell = re.search(
        r'data-code="500000".*?<td class="(\w+)" data-key="ip_service_revenue_cny">.*?'
        r'<span class="share">([^<]*)</span>', html, re.S,
    )  # fmt: skip
    assert city_cell is not None
    assert city_cell.groups() == (status, f"完成 {city_revenue / 1e9:.0%}")
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    width, height, colours = png_size_and_colours(shot.read_bytes())
    assert (width, height) == (1600, 1100)
    assert colours > 20, "the screenshot is blank"
    kept = REPO_ROOT / ".iprwatch" / "screenshots"
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, kept / "progress-board.png")
