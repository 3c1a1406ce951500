"""The final evaluation (终期评估): who hears it and what the mail says."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

from services.alerts.domain.evaluation import (
    compose_evaluation,
    evaluation_recipients,
    final_snapshot,
    outcome_row,
)
from services.alerts.domain.notices import Item, message_id
from services.alerts.domain.recipients import Recipients
from shared.outcomes import outcome, outcomes, targeted_keys
from shared.plan import default_plan_path, load_plan
from shared.status import month_points

NOW = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
PLAN = load_plan(default_plan_path())
GI = "geographical_indications"


def text(msg: EmailMessage) -> str:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def test_city_officials_hear_every_division_district_officials_their_own() -> None:
    recipients = Recipients.model_validate({
        "city": [{"email": "City@cq.example"}],
        "districts": {"500111": [{"email": "d@dazu.example"}, {"email": "city@cq.example"}],
                      "110101": [{"email": "x@bj.example"}]},
    })  # fmt: skip
    assert evaluation_recipients(recipients, PLAN) == {
        "city@cq.example": None,
        "d@dazu.example": frozenset({"500111"}),
    }


def test_the_final_evaluation_mail_lists_the_outcomes_in_chinese() -> None:
    madrid = "madrid_registrations_cumulative"
    series = {("500111", GI): month_points([("2025-12", 7.0)]),
              ("500111", madrid): month_points([("2025-12", 8.0)])}  # fmt: skip
    rows = outcomes(PLAN, series, targeted_keys(PLAN))
    snap = final_snapshot(PLAN, rows, {("500111", "madrid_registrations_cumulative")}, NOW)
    item = Item("500000", "final_evaluation", 1, "final", 0, snap, PLAN.id)
    assert item.key == "chongqing-14th-fyp/500000/final_evaluation/1/final/0"
    msg = compose_evaluation("d@dazu.example", [item], "IPR Watch <a@iprwatch.example>", NOW)
    assert str(msg["Subject"]) == (
        '【知识产权规划监测·终期评估】重庆市知识产权保护和运用"十四五"规划(2021—2025年):'
        "已达成 1 项,未达成 1 项,无数据 2 项"
    )
    assert msg["Message-ID"] == message_id("d@dazu.example", [item])
    body = text(msg)
    assert "■ 大足区 · 地理标志拥有量:已达成" in body
    assert "目标值:10件;2025-12 月末实际值:8件;差距:2件\n  原告警已随终期评估关闭" in body
    assert "评估时间:2026-01-01 09:00(Asia/Shanghai)" in body
    assert body.rstrip().endswith(
        "Final evaluation of chongqing-14th-fyp (plan period ended 2025-12-31): 1 achieved, "
        "1 missed, 2 without data."
    )


def test_a_changed_outcome_is_one_short_notice() -> None:
    late = outcome(PLAN, "500111", GI, month_points([("2025-12", 7.0)]))
    item = Item("500111", GI, 2, "outcome", 0, outcome_row(PLAN, late, NOW, "missed"), PLAN.id)
    msg = compose_evaluation("d@dazu.example", [item], "a@iprwatch.example", NOW)
    assert str(msg["Subject"]).endswith(":大足区 地理标志拥有量 由「未达成」变为「已达成」")
    assert "终期评估结果变化:大足区 · 地理标志拥有量 由「未达成」变为「已达成」" in text(msg)
