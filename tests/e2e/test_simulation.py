"""The simulator through the running stack: every value equals its ground truth, alerts mail.

A few months, all 38 districts, with repeated events, acts re-sent under new ids, late and
out-of-order events and acts already in the baseline, sent as a registry would (token,
batches); then the API and `/metrics` must show exactly the simulator's ground truth, and the
officials of lagging Dazu must get their mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from iprwatch.simulator.check import expected_values, wait_caught_up, wait_for_mail
from iprwatch.simulator.client import SendOptions
from iprwatch.simulator.generator import generate
from iprwatch.simulator.model import Scenario
from iprwatch.simulator.runner import simulate
from iprwatch.stack.stack import Endpoints
from shared.plan import Plan, default_plan_path, load_plan
from shared.settings import KafkaSettings
from tests.integration.alerts.support import write_recipients
from tests.support.services import RunningServices, start_services

pytestmark = pytest.mark.e2e

SCENARIO = Scenario(
    first_month=date(2021, 10, 1), last_month=date(2022, 1, 1), seed=7, scale=0.05,
    lagging=frozenset({"500111"}),
)  # fmt: skip


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(default_plan_path())


@pytest.fixture
def officials(unique: str) -> dict[str, list[str]]:
    return {
        "dazu": [f"ipr-{unique}@dazu.example", f"planning-{unique}@dazu.example"],
        "city": [f"city-{unique}@chongqing.example"],
    }


@pytest.fixture
def stack(
    infra: Endpoints,
    kafka_settings: KafkaSettings,
    db_schema: str,
    tmp_path: Path,
    officials: dict[str, list[str]],
) -> Iterator[RunningServices]:
    recipients = write_recipients(tmp_path / "recipients.yaml", officials["dazu"],
                                  officials["city"])  # fmt: skip
    alerts = {
        "RECIPIENTS_FILE": str(recipients), "NOW": "2022-01-31", "FOR_SECONDS": "0",
        "EVALUATION_INTERVAL_SECONDS": "0.5", "GROUP_WAIT_SECONDS": "0.5",
        "DISPATCH_INTERVAL_SECONDS": "0.2",
    }  # fmt: skip
    with start_services(infra, kafka_settings, db_schema, tmp_path, alerts) as running:
        yield running


def test_the_scenario_is_messy_and_covers_every_district(plan: Plan) -> None:
    events = list(generate(plan, SCENARIO))
    assert {e["data"]["district"] for e in events} == set(plan.district_codes)
    assert len(events) > len({(e["source"], e["id"]) for e in events})  # repeated events
    assert any(e["id"].endswith("-re") for e in events)  # acts re-sent under new ids
    assert any(e["time"].startswith("2020-12") for e in events)  # acts in the baseline
    assert any(e["data"]["district"] == "500111" and "pledge" in e["type"] for e in events)
    months = [e["time"][:7] for e in events]
    assert months != sorted(months)  # out of order


async def test_every_value_equals_the_ground_truth_and_lagging_dazu_gets_mail(
    stack: RunningServices, plan: Plan, mail_folder: Path, officials: dict[str, list[str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    options = SendOptions(url=stack.ingest, token=stack.token, batch_size=200, concurrency=3)
    outcome = await simulate(plan, SCENARIO, options, tmp_path / "truth.json")
    tally = outcome.truth["tally"]
    assert outcome.sent.events == outcome.events == tally["events"]
    assert tally["duplicate_ids"] > 0 and tally["duplicate_acts"] > 0
    assert tally["baseline_acts"] == 3

    left = await wait_caught_up(stack.indicators, outcome.truth, timeout=120)
    assert left == [], "\n".join(left[:20])
    expected = expected_values(outcome.truth)
    assert (expected[("500000", "valid_invention_patents")] or 0) > 35_000
    assert expected[("500111", "geographical_indications")] is not None

    # Each act counts in its month: the monthly series equal the truth's, month by month.
    async with httpx.AsyncClient(timeout=30) as client:
        for code in ("500000", "500112", "500111"):
            for indicator in plan.indicators:
                if indicator.kind in ("ratio", "annual"):
                    continue
                response = await client.get(
                    f"{stack.indicators}/v1/series",
                    params={"district": code, "indicator": indicator.key,
                            "from": "2021-10", "to": "2022-01", "plan": plan.id},
                )  # fmt: skip
                got = {p["month"]: p["value"] for p in response.json()["points"]}
                assert got == outcome.truth["series"][code][indicator.key], (code, indicator.key)

    dazu = set(officials["dazu"])
    mails = await wait_for_mail(mail_folder, dazu, timeout=90)
    to_dazu = [m for m in mails if dazu & set(m.to)]
    assert {a for m in to_dazu for a in m.to} >= dazu
    assert all("大足区" in m.subject for m in to_dazu)
