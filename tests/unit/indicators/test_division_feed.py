"""A division's latest acts and current alerts: the alerts API's client (over httpx's mock
transport: a stand-in for another service), the use case on the in-memory store, the page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from services.indicators.adapters.alerts_client import HttpCurrentAlerts
from services.indicators.domain.acts import Act
from services.indicators.domain.values import Ledgers
from services.indicators.entrypoints.board import render_division
from services.indicators.service.division import DivisionFeed, division_feed
from services.indicators.service.ports import AlertsAnswer, CurrentAlert
from shared.event_types import GRANTED, REVENUE, STATISTIC, TRANSFERRED
from shared.plans import load_plans
from tests.unit.indicators.fakes import MemoryStore

P15 = "chongqing-15th-fyp"
VIP = "valid_invention_patents"
ON = date(2026, 12, 1)
ALERT = {
    "plan": P15, "district": "500112", "indicator": VIP, "state": "firing", "status": "behind",
    "severity": "warning", "epoch": 1, "value": 1234.0, "month": "2026-10", "required": 1500.0,
    "target": None, "forecast": None, "forecast_low": None, "forecast_high": None,
    "active_since": "2026-03-01T00:00:00Z", "firing_since": "2026-03-02T01:30:00Z",
    "resolved_at": None, "evaluated_at": "2026-11-30T00:00:00Z",
}  # fmt: skip


def client(
    handler: httpx.MockTransport | None, url: str | None = "http://alerts"
) -> HttpCurrentAlerts:
    return HttpCurrentAlerts(url, "reader", timeout=1.0, transport=handler)


async def test_the_alerts_client_keeps_pending_and_firing_and_sends_the_read_token() -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        resolved = {**ALERT, "indicator": "pct", "state": "inactive"}
        pending = {**ALERT, "indicator": "tm", "state": "pending", "status": "at_risk",
                   "firing_since": None, "value": None}  # fmt: skip
        return httpx.Response(200, json=[ALERT, resolved, pending])

    found = await client(httpx.MockTransport(answer)).current(P15, "500112")
    assert found == AlertsAnswer("ok", (
        CurrentAlert(VIP, "firing", "behind", datetime(2026, 3, 2, 1, 30, tzinfo=UTC), 1234.0,
                     1500.0, "2026-10"),
        CurrentAlert("tm", "pending", "at_risk", datetime(2026, 3, 1, tzinfo=UTC), None, 1500.0,
                     "2026-10"),
    ))  # fmt: skip
    [request] = asked
    assert str(request.url) == f"http://alerts/v1/alerts?plan={P15}&district=500112"
    assert request.headers["authorization"] == "Bearer reader"


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(401, json={"detail": "token"}), "HTTP 401"),
        (httpx.Response(200, text="<html>"), "unexpected answer: JSONDecodeError"),
        (httpx.Response(200, json={"items": []}), "unexpected answer: TypeError"),
        (httpx.Response(200, json=[{"state": "firing"}]), "unexpected answer: KeyError"),
    ],
)
async def test_a_refusing_or_strange_alerts_api_is_unavailable(
    response: httpx.Response, reason: str
) -> None:
    found = await client(httpx.MockTransport(lambda _: response)).current(P15, "500112")
    assert found.outcome == "unavailable" and found.alerts == ()
    assert found.reason is not None and found.reason.startswith(reason)


async def test_without_an_address_the_alerts_are_unconfigured() -> None:
    assert await client(None, url=None).current(P15, "500112") == AlertsAnswer("unconfigured")
    assert await client(None, url="").current(P15, "500112") == AlertsAnswer("unconfigured")


async def test_the_feed_reads_the_areas_acts_and_the_page_shows_them_in_chinese() -> None:
    store = MemoryStore()
    acts = [
        Act("r", "1", GRANTED, "ZL1", "500112", datetime(2026, 3, 1, 17, tzinfo=UTC), False),
        Act("r", "2", TRANSFERRED, "ZL1", "500101", datetime(2026, 3, 5, tzinfo=UTC),
            from_district="500112"),
        Act("r", "3", REVENUE, None, "500112", datetime(2026, 2, 1, tzinfo=UTC), year=2025,
            amount=Decimal(9)),
        Act("r", "4", STATISTIC, None, "500000", datetime(2026, 1, 2, tzinfo=UTC),
            indicator=VIP, period="2025", amount=Decimal(1)),
    ]  # fmt: skip
    async with store.transaction() as tx:
        await tx.record(acts)
    firing = CurrentAlert(VIP, "firing", "behind", datetime(2026, 3, 2, 1, 30, tzinfo=UTC),
                          1234.0, 1500.0, "2026-10")  # fmt: skip
    unconfigured = HttpCurrentAlerts(None)
    feed = await division_feed(store, unconfigured, P15, "500112", 20)
    assert [a.type for a in feed.acts] == [GRANTED, REVENUE]
    assert feed.alerts == AlertsAnswer("unconfigured")
    # the city: every division within it, the latest three
    city = await division_feed(store, unconfigured, P15, "500000", 3)
    plans = load_plans()
    ledger = Ledgers(plans, [])[P15]
    page = render_division(
        ledger, plans, "500000", ON, DivisionFeed(city.acts, AlertsAnswer("ok", (firing,)))
    )
    rows = re.findall(r'<tr data-type="[^"]+" data-district="(\d+)">(.*?)</tr>', page, re.S)
    shown = [(code, re.sub(r"(\s*<[^>]+>\s*)+", "|", cells).strip("|")) for code, cells in rows]
    assert shown == [
        ("500101", "2026-03-05|发明专利转让|ZL1|万州区"),
        ("500112", "2026-03-02|发明专利授权|ZL1|渝北区"),  # 17:00 UTC is the next day in Shanghai
        ("500112", "2026-02-01|知识产权服务业营收报告|2025年度营收|渝北区"),
    ]
    alert = re.search(
        r'<tr data-key="valid_invention_patents" data-state="firing".*?</tr>', page, re.S
    )
    assert alert is not None
    cells = re.sub(r"(\s*<[^>]+>\s*)+", "|", alert.group(0)).strip("|")
    assert cells == "有效发明专利|告警中|落后于进度|2026-03-02 09:30|1,234件|1,500件"
    for outcome, note in (("unconfigured", "告警服务未配置"), ("unavailable", "暂时无法获取告警")):
        page = render_division(ledger, plans, "500112", ON,
                               DivisionFeed([], AlertsAnswer(outcome)))  # type: ignore[arg-type]  # fmt: skip
        assert f'<p class="alerts-note">{note}</p>' in page and "暂无事件" in page
    assert "最新事件" not in render_division(ledger, plans, "500112", ON)
