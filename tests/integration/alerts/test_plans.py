"""Alerts over several plans on the real Kafka, PostgreSQL and SMTP server: per-plan alerts that
do not interfere, and the end of a plan: one final evaluation (终期评估) per recipient, sent once
across restarts, and a late change of an outcome told once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from iprwatch.stack.stack import Endpoints
from services.alerts.bootstrap import running
from services.alerts.metrics import AlertMetrics
from services.alerts.settings import AlertsSettings
from shared.indicator_events import IndicatorChanged
from shared.plans import BUNDLED_PLANS
from shared.settings import KafkaSettings, PlanSettings, PostgresSettings, SmtpSettings
from tests.integration.alerts.support import (
    change,
    eventually,
    mails_to,
    produce,
    text_of,
    wait_for_mails,
    write_recipients,
)

pytestmark = pytest.mark.integration

P14 = "chongqing-14th-fyp"
GI, MADRID = "geographical_indications", "madrid_registrations_cumulative"
FOURTEENTH = BUNDLED_PLANS / "chongqing-14th-fyp.yaml"


@pytest.fixture
def settings(
    infra: Endpoints, kafka_settings: KafkaSettings, postgres_settings: PostgresSettings,
    db_schema: str, tmp_path: Path, unique: str,
) -> AlertsSettings:  # fmt: skip
    recipients = write_recipients(tmp_path / "r.yaml", [f"d-{unique}@dazu.example"],
                                  [f"c-{unique}@chongqing.example"])  # fmt: skip
    env = infra.service_env()
    return AlertsSettings(
        db_schema=f"{db_schema}_alerts", consumer_group=f"{db_schema}-alerts",
        recipients_file=recipients, for_seconds=0, hold_down_seconds=0, group_wait_seconds=0,
        evaluation_interval_seconds=0.3, dispatch_interval_seconds=0.1, settle_seconds=1,
        kafka=kafka_settings, postgres=postgres_settings,
        smtp=SmtpSettings(host=env["IPRWATCH_SMTP_HOST"], port=int(env["IPRWATCH_SMTP_PORT"])),
        plan=PlanSettings(plans=str(FOURTEENTH)),
    )  # fmt: skip


def on(settings: AlertsSettings, day: str, plans: str | None = None) -> AlertsSettings:
    update: dict[str, object] = {"now": AlertsSettings(now=day).now}
    if plans:
        update["plan"] = PlanSettings(plans=plans)
    return settings.model_copy(update=update)


def of(plan: str, district: str, indicator: str, seq: int,
       series: list[tuple[str, float]]) -> IndicatorChanged:  # fmt: skip
    return change(district, indicator, seq, series).model_copy(update={"plan": plan})


async def test_the_final_evaluation_is_sent_once_and_a_late_change_is_told_once(
    settings: AlertsSettings, mail_folder: Path, unique: str
) -> None:
    dazu, city = f"d-{unique}@dazu.example", f"c-{unique}@chongqing.example"
    madrid = [("2023-06", 2.0), ("2025-06", 3.0)]  # on 2025-06-30 the path asks 9.0: behind
    await produce(settings.kafka, [change("500111", MADRID, 1, madrid),
                                   change("500111", GI, 1, [("2025-06", 6.0)])])  # fmt: skip
    async with running(on(settings, "2025-06-30"), AlertMetrics()) as alerts:
        [firing] = await wait_for_mails(mail_folder, dazu, 1)
        assert "告警:大足区 马德里商标国际注册" in str(firing["Subject"])
        rows = await alerts.repositories.alerts.alerts(None, None, None)
        assert [r.alert.state for r in rows] == ["inactive", "firing"]
    # The plan period ends; the last values arrive: GI reached 7, Madrid stayed at 8 of 10.
    await produce(settings.kafka, [change("500111", MADRID, 2, [*madrid, ("2025-12", 8.0)]),
                                   change("500111", GI, 2, [("2025-12", 7.0)])])  # fmt: skip
    ended = on(settings, "2026-01-15")
    async with running(ended, AlertMetrics()) as alerts:
        mails = await wait_for_mails(mail_folder, dazu, 2)
        [final] = mails[1:]
        assert str(final["Subject"]) == (
            '【知识产权规划监测·终期评估】重庆市知识产权保护和运用"十四五"规划(2021—2025年):'
            "已达成 1 项,未达成 1 项,无数据 1 项"
        )
        body = text_of(final)
        assert "■ 大足区 · 地理标志拥有量:已达成" in body
        assert "■ 大足区 · 马德里商标国际注册:未达成\n  目标值:10件;2025-12 月末实际值:8件;" \
               "差距:2件\n  原告警已随终期评估关闭" in body  # fmt: skip
        [city_final] = (await wait_for_mails(mail_folder, city, 2))[1:]
        assert "重庆市 · 知识产权服务业营业收入:无数据" in text_of(city_final)
        assert "已达成 1 项,未达成 1 项,无数据 2 项" in str(city_final["Subject"])
        rows = await alerts.repositories.alerts.alerts(None, None, None, plan=P14)
        assert [(r.indicator, r.alert.state, r.status) for r in rows] == [
            (GI, "inactive", "achieved"), (MADRID, "inactive", "missed"),
        ]  # fmt: skip
        await asyncio.sleep(1.0)  # evaluations go on: nothing more is sent
        assert len(mails_to(mail_folder, dazu)) == 2
    async with running(ended, AlertMetrics()):
        await asyncio.sleep(1.5)  # a restart: the final evaluation is not sent again
        assert len(mails_to(mail_folder, dazu)) == 2
        # A late registration for December 2025 lifts Madrid to 10: the outcome flips.
        late = [*madrid, ("2025-12", 10.0), ("2026-01", 10.0)]
        await produce(settings.kafka, [change("500111", MADRID, 3, late)])
        mails = await wait_for_mails(mail_folder, dazu, 3)
        assert str(mails[2]["Subject"]).endswith(
            ":大足区 马德里商标国际注册 由「未达成」变为「已达成」"
        )
        await wait_for_mails(mail_folder, city, 3)
        await produce(settings.kafka, [change("500111", MADRID, 4, late)])  # same outcome
        await asyncio.sleep(1.5)
    async with running(ended, AlertMetrics()) as alerts:
        await asyncio.sleep(1.5)
        outcomes = await alerts.repositories.conclusions.outcomes(P14)
        assert (outcomes[("500111", MADRID)].outcome, outcomes[("500111", MADRID)].revision) \
            == ("achieved", 2)  # fmt: skip
    assert (len(mails_to(mail_folder, dazu)), len(mails_to(mail_folder, city))) == (3, 3)


async def test_two_plans_over_one_division_keep_their_own_alerts(
    settings: AlertsSettings, mail_folder: Path, unique: str, tmp_path: Path
) -> None:
    other = tmp_path / "dazu-pilot.yaml"
    other.write_text(
        FOURTEENTH.read_text(encoding="utf-8")
        .replace("id: chongqing-14th-fyp", "id: dazu-pilot", 1)
        .replace('name_zh: 重庆市知识产权保护和运用"十四五"规划(2021—2025年)',
                 "name_zh: 大足区知识产权试点方案", 1),
        encoding="utf-8",
    )  # fmt: skip
    both = on(settings, "2024-06-30", f"{FOURTEENTH},{other}")
    behind, on_path = [("2021-06", 1.0), ("2022-06", 2.0)], [("2021-06", 1.0), ("2024-06", 6.0)]
    await produce(settings.kafka, [of(P14, "500111", GI, 1, behind),
                                   of("dazu-pilot", "500111", GI, 1, on_path)])  # fmt: skip
    metrics = AlertMetrics()
    async with running(both, metrics) as alerts:
        [mail] = await wait_for_mails(mail_folder, f"d-{unique}@dazu.example", 1)

        async def evaluated() -> bool:
            return len(await alerts.repositories.alerts.alerts(None, None, None)) == 2

        await eventually(evaluated)
        rows = await alerts.repositories.alerts.alerts(None, None, None)
        assert [(r.plan, r.alert.state, r.status, r.alert.epoch) for r in rows] == [
            (P14, "firing", "behind", 1), ("dazu-pilot", "inactive", "on_track", 0),
        ]  # fmt: skip
        assert '"十四五"规划(2021—2025年) 告警:大足区' in str(mail["Subject"])
        assert mail["X-IPRWatch-Plan"] == P14
        # Now the pilot's series falls behind too: its own alert, its own thread.
        await produce(settings.kafka, [of("dazu-pilot", "500111", GI, 2, behind)])
        pilot = (await wait_for_mails(mail_folder, f"d-{unique}@dazu.example", 2))[1]
        assert str(pilot["Subject"]).startswith("【知识产权规划监测】大足区知识产权试点方案 告警:")
        assert (
            str(pilot["In-Reply-To"]).strip()
            == "<thread.dazu-pilot.500111.geographical_indications@alerts.iprwatch>"
        )
        assert metrics.snapshot.firing == {
            (P14, "500111", GI): "critical", ("dazu-pilot", "500111", GI): "critical",
        }  # fmt: skip
        [row] = await alerts.repositories.alerts.alerts("firing", None, None, plan=P14)
        assert row.alert.epoch == 1  # the other plan's alert changed nothing of this one
