"""The fold on the real broker and database: every semantic rule, the outbox and dead letters."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from shared.indicator_events import IndicatorChanged, from_kafka
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.indicators.conftest import RunFold, folded_totals, produce, wait_folded
from tests.integration.indicators.stream import Record, generate, record

pytestmark = pytest.mark.integration


def ev(n: int, kind: str, subject: str | None, when: str, **data: object) -> Record:
    return record(n, kind, subject, datetime.fromisoformat(when), data)


M5, M7 = date(2023, 5, 1), date(2023, 7, 1)


async def test_each_rule_of_the_fold_holds_on_the_real_parts(
    run_fold: RunFold,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
) -> None:
    dsn = postgres_settings.dsn.get_secret_value()
    grant = ev(1, "patent.invention.granted", "ZL1", "2023-05-12T00:00:00+08:00",
               district="500112", high_value=True)  # fmt: skip
    records = [
        # a lapse before its (high-value) grant
        ev(2, "patent.invention.lapsed", "ZL1", "2023-07-02T00:00:00+08:00", district="500112"),
        grant,
        grant,  # the same record again
        (grant[0], grant[1], [(n, b"renamed" if n == "ce_id" else v) for n, v in grant[2]]),
        # before the 14th plan's baseline date: counted in its month, in none of its values
        ev(3, "pct.application.filed", "P0", "2020-12-31T23:00:00+08:00", district="500101"),
        # a late event in its own month (UTC evening of 30 April = May in Shanghai)
        ev(4, "pct.application.filed", "P1", "2023-04-30T17:00:00+00:00", district="500101"),
        # revenue: the later report replaces the earlier one, which arrives last
        ev(
            6,
            "service.revenue.reported",
            None,
            "2024-03-01T00:00:00+08:00",
            district="500103",
            year=2023,
            amount_cny=800.25,
        ),  # fmt: skip
        ev(
            5,
            "service.revenue.reported",
            None,
            "2024-02-01T00:00:00+08:00",
            district="500103",
            year=2023,
            amount_cny=1000.5,
        ),  # fmt: skip
        # unknown population (500229): counted, but no per-capita value
        ev(
            7,
            "patent.invention.granted",
            "ZL7",
            "2023-05-20T00:00:00+08:00",
            district="500229",
            high_value=False,
        ),  # fmt: skip
        (b"500101", b"{broken", [("ce_id", b"x")]),
        ev(8, "pct.application.filed", "P8", "2023-05-01T00:00:00+08:00", district="500199"),
    ]
    await produce(kafka_settings, records)
    async with run_fold() as app:
        await wait_folded(dsn, db_schema, kafka_settings)
        await asyncio.sleep(0.5)  # the counters move just after the commit
        await app.refresh()
        folded = app.metrics.events_folded
        assert folded.labels("applied")._value.get() == 8
        assert folded.labels("duplicate")._value.get() == 2
        assert app.metrics.dead_letters.labels("malformed")._value.get() == 1
        assert await folded_totals(dsn, db_schema) == {
            ("500101", "pct_applications_cumulative", date(2020, 12, 1)): 1,
            ("500199", "pct_applications_cumulative", M5): 1,  # a division of no plan
            ("500112", "valid_invention_patents", M5): 1,
            ("500112", "high_value_invention_patents", M5): 1,
            ("500112", "valid_invention_patents", M7): -1,
            ("500112", "high_value_invention_patents", M7): -1,
            ("500101", "pct_applications_cumulative", M5): 1,
            ("500103", "ip_service_revenue_cny", date(2023, 12, 1)): Decimal("800.25"),
            ("500229", "valid_invention_patents", M5): 1,
        }
        ledger = app.ledgers["chongqing-14th-fyp"]
        assert ledger.value("500000", "valid_invention_patents") == 35001.0
        assert ledger.value("500000", "pct_applications_cumulative") == 1646.0
        assert ledger.value("500000", "ip_service_revenue_cny") == 800.25
        assert ledger.value("500229", "invention_patents_per_10k_population") is None
        assert ledger.value("500000", "invention_patents_per_10k_population") == pytest.approx(
            35001 / 32054159 * 10_000, rel=1e-12
        )
        assert ledger.series("500112", "valid_invention_patents")[-3:] == [
            (M5, 1.0), (date(2023, 6, 1), 1.0), (M7, 0.0),
        ]  # fmt: skip
        assert app.ledgers["chongqing-15th-fyp"].value("500000", "pct_applications_cumulative") == (
            1646.0  # derived from the 14th on 2025-12-31
        )
        dead = await _read(kafka_settings, kafka_settings.dead_letter_topic, 1)
        assert sorted(dict(r.headers)["reason"] for r in dead) == [b"malformed"]
        changes = await _latest_changes(kafka_settings)
        # the 2026-2030 plan has no observation yet (all acts are of 2023): no value on the
        # topic, though its read API shows the derived opening balance
        later = changes[("chongqing-15th-fyp", "500000", "pct_applications_cumulative")]
        assert (later.value, later.series) == (None, ())
        assert changes[("national-14th-fyp", "500000", "valid_invention_patents")].value == 1.0
        ours = {(d, i): v for (p, d, i), v in changes.items() if p == "chongqing-14th-fyp"}
        city = ours[("500000", "valid_invention_patents")]
        assert (city.value, city.series[-1].month, city.series[0].month) == (
            35001.0, "2023-07", "2021-01"
        )  # fmt: skip
        assert ("500229", "invention_patents_per_10k_population") not in ours
        assert ours[("500000", "invention_patents_per_10k_population")].value == (
            35001 * (10_000 / 32054159)
        )


async def _read(kafka: KafkaSettings, topic: str, at_least: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[Any] = []
    try:
        for _ in range(50):
            batches = await consumer.getmany(timeout_ms=300)
            found += [r for part in batches.values() for r in part]
            if len(found) >= at_least and not batches:
                break
    finally:
        await consumer.stop()
    return found


async def _latest_changes(
    kafka: KafkaSettings,
) -> dict[tuple[str, str, str], IndicatorChanged]:
    await asyncio.sleep(1.0)  # the relay polls every 0.1 s
    latest: dict[tuple[str, str, str], IndicatorChanged] = {}
    for r in await _read(kafka, kafka.indicators_topic, 1):
        change = from_kafka(r.value, r.headers)
        key = (change.plan, change.district, change.indicator)
        if key not in latest or latest[key].seq < change.seq:
            latest[key] = change
    return latest


async def test_the_api_serves_values_series_districts_plan_and_the_board(
    run_fold: RunFold,
    indicators_settings: IndicatorsSettings,
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
) -> None:
    dsn = postgres_settings.dsn.get_secret_value()
    stream = generate(400, seed=5)
    await produce(kafka_settings, stream.records)
    app = create_app(indicators_settings)
    async with app.router.lifespan_context(app):
        await wait_folded(dsn, db_schema, kafka_settings)
        await app.state.indicators.refresh()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            p14 = {"plan": "chongqing-14th-fyp"}
            one = (await client.get("/v1/indicators", params={**p14,
                "district": "500000", "indicator": "ip_service_revenue_cny"})).json()  # fmt: skip
            series = (await client.get("/v1/series", params={**p14,
                "district": "500112", "indicator": "valid_invention_patents",
                "from": "2022-01", "to": "2022-03"})).json()  # fmt: skip
            districts = (await client.get("/v1/districts", params=p14)).json()
            plan = (await client.get("/v1/plan", params=p14)).json()
            default = (await client.get("/v1/plan")).json()
            plans = (await client.get("/v1/plans")).json()
            board = await client.get("/", params=p14)
            unknown_plan = await client.get("/v1/indicators", params={"plan": "nope"})
            missing = await client.get("/v1/indicators", params={"district": "999999"})
    totals = stream.totals()
    revenue = {
        k: v for k, v in totals.items() if k[1] == "ip_service_revenue_cny" and k[2].year <= 2025
    }
    latest_year = max(k[2].year for k in revenue)
    expected_revenue = sum((v for k, v in revenue.items() if k[2].year == latest_year), Decimal(0))
    item = one["items"][0]
    assert item["value"] == float(expected_revenue)
    assert (item["target"], item["unit"], item["name_zh"]) == (1e9, "cny", "知识产权服务业营业收入")
    assert item["progress"] == float(expected_revenue) / 1e9
    assert item["required"] is None  # the plan ended on 2025-12-31: no path past its end
    assert one["state"] == "ended" and item["plan"] == "chongqing-14th-fyp"
    yubei = {k[2]: v for k, v in totals.items() if k[:2] == ("500112", "valid_invention_patents")}
    running_total = sum(
        (v for m, v in yubei.items() if date(2021, 1, 1) <= m < date(2022, 1, 1)), Decimal(0)
    )  # no baseline of its own: the change since the plan's baseline date
    points = []
    for month in (date(2022, 1, 1), date(2022, 2, 1), date(2022, 3, 1)):
        running_total += yubei.get(month, 0)
        points.append({"month": month.strftime("%Y-%m"), "value": float(running_total)})
    assert series["points"] == points
    assert len(districts) == 39 and districts[0]["code"] == "500000"
    assert plan["id"] == "chongqing-14th-fyp"
    assert default["id"] == "chongqing-15th-fyp"  # in progress today
    assert [(p["id"], p["state"]) for p in plans] == [
        ("chongqing-14th-fyp", "ended"), ("chongqing-15th-fyp", "in_progress"),
        ("national-14th-fyp", "ended"),
    ]  # fmt: skip
    assert unknown_plan.status_code == 404 and "nope" in unknown_plan.json()["detail"]
    assert board.status_code == 200 and "渝北区" in board.text and "有效发明专利" in board.text
    assert missing.status_code == 404
    assert json.loads(missing.text)["detail"].startswith("unknown district")
