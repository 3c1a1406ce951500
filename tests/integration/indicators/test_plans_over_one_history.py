"""Another area's plan is a plan file: events in through ingest, values out per plan, on the
real Kafka and PostgreSQL, with no code change; statistic reports and their corrections; a bad
plan file stops start-up naming file, key and problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from services.indicators.entrypoints.http import create_app
from services.indicators.settings import IndicatorsSettings
from services.ingest.settings import IngestSettings
from shared.plan import PlanError
from shared.plans import BUNDLED_PLANS
from shared.settings import KafkaSettings, PlanSettings, PostgresSettings
from tests.integration.indicators.conftest import wait_folded
from tests.integration.ingest.conftest import ingest_running

SOURCE = "a test figure"
SCORE = "ip_protection_satisfaction_score"
VALID = "valid_invention_patents"


def chengdu_plan() -> dict[str, Any]:
    """Chengdu (Sichuan, 5101xx): another province, another area, its own divisions."""
    return {
        "plan": {"id": "chengdu-test", "name_zh": "成都市知识产权测试规划",
                 "document_no": "测试〔2026〕1号", "baseline_date": "2020-12-31",
                 "target_date": "2025-12-31", "timezone": "Asia/Shanghai"},
        "area": {"code": "510100", "name_zh": "成都市", "name_en": "Chengdu"},
        "districts": [
            {"code": "510104", "name_zh": "锦江区", "name_en": "Jinjiang", "kind": "district",
             "population": None},
            {"code": "510107", "name_zh": "武侯区", "name_en": "Wuhou", "kind": "district",
             "population": 1000000, "population_source": SOURCE,
             "baselines": {VALID: {"value": 300, "source": SOURCE}}},
        ],
        "indicators": {
            VALID: {"name_zh": "有效发明专利", "name_en": "Valid invention patents",
                    "kind": "stock", "unit": "count", "path": "linear", "tolerance": 0.05,
                    "baseline": {"value": 1000, "source": SOURCE},
                    "target": {"value": 2000, "source": SOURCE}},
            SCORE: {"name_zh": "知识产权保护社会满意度", "name_en": "IP protection satisfaction",
                    "kind": "reported", "unit": "score", "path": "linear", "tolerance": 0.05,
                    "baseline": {"value": 80.0, "source": SOURCE},
                    "target": {"value": 82.0, "source": SOURCE}},
        },
    }  # fmt: skip


def event(n: int, kind: str, time: str, data: dict[str, Any], subject: str | None) -> Any:
    found = {"specversion": "1.0", "id": f"cd-{n}", "source": "/registries/chengdu",
             "type": f"cn.ipr.{kind}", "time": time, "data": data}  # fmt: skip
    if subject is not None:
        found["subject"] = subject
    return found


def grant(n: int, district: str, day: str) -> Any:
    return event(n, "patent.invention.granted", f"{day}T09:00:00+08:00",
                 {"district": district}, f"ZL-CD-{n}")  # fmt: skip


def score(n: int, period: str, value: float, day: str, key: str = SCORE) -> Any:
    return event(n, "statistic.reported", f"{day}T09:00:00+08:00",
                 {"district": "510100", "indicator": key, "period": period, "value": value},
                 None)  # fmt: skip


async def test_another_area_is_another_plan_file_end_to_end(
    kafka_settings: KafkaSettings,
    postgres_settings: PostgresSettings,
    db_schema: str,
    tmp_path: Path,
) -> None:
    plan_file = tmp_path / "chengdu.yaml"
    plan_file.write_text(yaml.safe_dump(chengdu_plan(), allow_unicode=True), encoding="utf-8")
    plans = PlanSettings(plans=f"{plan_file},{BUNDLED_PLANS / 'chongqing-14th-fyp.yaml'}")
    ingest_settings = IngestSettings(
        kafka=kafka_settings, tokens_file=tmp_path / "tokens.json", plan=plans
    )
    events = [
        grant(1, "510104", "2023-03-02"), grant(2, "510107", "2024-07-09"),
        grant(3, "510107", "2019-05-01"),  # before the plan's baseline date: in no value
        grant(4, "500112", "2023-03-02"),  # Chongqing: the other plan's
        score(5, "2022", 80.6, "2023-02-01"), score(6, "2022", 81.3, "2023-06-01"),  # corrected
        score(7, "2023", 81.0, "2024-02-01"),
    ]  # fmt: skip
    async with ingest_running(ingest_settings) as ingest:
        accepted = await ingest.client.post("/v1/events", json=events, headers=ingest.auth)
        assert accepted.status_code == 202, accepted.text
        refused = await ingest.client.post(
            "/v1/events", json=[score(8, "2023", 1.0, "2024-02-01", key="gdp_of_mars")],
            headers=ingest.auth,
        )  # fmt: skip
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["field"] == "data.indicator" and "gdp_of_mars" in problem["problem"]

    settings = IndicatorsSettings(
        db_schema=db_schema, consumer_group=f"{db_schema}-fold", snapshot_refresh_seconds=0.2,
        outbox_poll_seconds=0.1, kafka=kafka_settings, postgres=postgres_settings, plan=plans,
    )  # fmt: skip
    app = create_app(settings)
    dsn = postgres_settings.dsn.get_secret_value()
    async with app.router.lifespan_context(app):
        await wait_folded(dsn, db_schema, kafka_settings)
        await app.state.indicators.refresh()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            listed = (await client.get("/v1/plans")).json()
            items = (await client.get("/v1/indicators", params={"plan": "chengdu-test"})).json()[
                "items"
            ]
            as_of_2022 = (await client.get("/v1/indicators", params={
                "plan": "chengdu-test", "district": "510100", "indicator": SCORE,
                "as_of": "2022-12"})).json()["items"]  # fmt: skip
            chongqing = (await client.get("/v1/indicators", params={
                "plan": "chongqing-14th-fyp", "district": "500112", "indicator": VALID,
            })).json()["items"]  # fmt: skip
    assert [(p["id"], p["state"], p["area"]["code"]) for p in listed] == [
        ("chengdu-test", "ended", "510100"), ("chongqing-14th-fyp", "ended", "500000"),
    ]  # fmt: skip
    values = {(i["district"], i["indicator"]): i for i in items}
    assert values[("510104", VALID)]["value"] == 1.0  # no baseline: the change since 2020
    assert values[("510104", VALID)]["baseline"] is None
    assert values[("510107", VALID)]["value"] == 301.0  # its own baseline + 2024's grant
    assert values[("510100", VALID)]["value"] == 1002.0  # the area: its baseline + both
    city_valid = values[("510100", VALID)]
    assert city_valid["outcome"] == {
        "outcome": "missed", "value": 1002.0, "target": 2000.0, "shortfall": 998.0,
        "period": "2025-12",
    }  # fmt: skip
    assert values[("510100", SCORE)]["value"] == 81.0  # the latest period reported
    assert as_of_2022[0]["value"] == 81.3  # 2022 as corrected, not the first report
    assert ("510104", SCORE) not in {k for k, v in values.items() if v["value"] is not None}
    assert chongqing[0]["value"] == 1.0  # the same history feeds the other plan


def test_a_bad_plan_file_stops_start_up_naming_file_key_and_problem(tmp_path: Path) -> None:
    raw = chengdu_plan()
    raw["districts"][0]["code"] = "510199"  # no such division
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        create_app(IndicatorsSettings(plan=PlanSettings(plans=str(bad))))
    message = str(caught.value)
    assert str(bad) in message and "districts" in message and "510199" in message
