"""Notices: Message-IDs, threading, Chinese numbers, the mail, the chart, silences, routing."""

from __future__ import annotations

import email
import email.policy
import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from PIL import Image

from services.alerts.domain.assessment import assess
from services.alerts.domain.mail import compose
from services.alerts.domain.notices import Item, message_id, thread_id
from services.alerts.domain.recipients import Recipient, Recipients
from services.alerts.domain.silences import Matcher, Silence, silenced
from services.alerts.domain.snapshots import chart_of, snapshot_of
from services.alerts.domain.webhooks import alertmanager_payload, webhook_body
from shared.charts import png
from shared.numbers import beijing_time, chinese_amount
from shared.plan import default_plan_path, load_plan

NOW = datetime(2024, 6, 30, 2, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("cjk_font")  # the mails carry charts


def item(kind: str = "firing", epoch: int = 1) -> Item:
    plan = load_plan(default_plan_path())
    points = [("2021-06", 1.0), ("2022-06", 2.0)]
    a = assess(plan, "500111", "geographical_indications", points, date(2024, 6, 30))
    return Item("500111", "geographical_indications", epoch, kind,  # type: ignore[arg-type]
                0, snapshot_of(a, plan, points, NOW, date(2024, 6, 30)), plan.id)  # fmt: skip


def test_chinese_amounts() -> None:
    assert chinese_amount(1.5e9, "cny") == "15亿元"
    assert chinese_amount(123_456_789) == "1.23亿"
    assert chinese_amount(52_300) == "5.23万"
    assert chinese_amount(10_000) == "1万"
    assert chinese_amount(7 * 1277 / 1826) == "4.9"
    assert chinese_amount(7.0) == "7"
    assert chinese_amount(9_999) == "9,999"


def test_beijing_time() -> None:
    assert beijing_time(datetime(2024, 6, 30, 18, 30, tzinfo=UTC)) == "2024-07-01 02:30 (北京时间)"


def test_message_id_depends_on_recipient_and_items_only() -> None:
    a, b = item("firing", 1), item("resolved", 1)
    assert message_id("X@dazu.example", [a, b]) == message_id("x@dazu.example", [b, a])
    assert message_id("x@dazu.example", [a]) != message_id("y@dazu.example", [a])
    assert message_id("x@dazu.example", [a]) != message_id("x@dazu.example", [item("firing", 2)])
    assert thread_id("chongqing-14th-fyp", "500111", "geographical_indications") == (
        "<thread.chongqing-14th-fyp.500111.geographical_indications@alerts.iprwatch>"
    )
    assert a.key == "chongqing-14th-fyp/500111/geographical_indications/1/firing/0"


def test_the_mail_reads_in_chinese_with_a_chart() -> None:
    msg = compose("ipr@dazu.example", [item()], "IPR Watch <alerts@iprwatch.example>", NOW)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == (
        '【知识产权规划监测】重庆市知识产权保护和运用"十四五"规划(2021—2025年) 告警:'
        "大足区 地理标志拥有量 落后于规划路径"
    )
    assert parsed["X-IPRWatch-Plan"] == "chongqing-14th-fyp"
    assert parsed["Date"] == "Sun, 30 Jun 2024 10:00:00 +0800"
    assert parsed["Message-ID"] == message_id("ipr@dazu.example", [item()])
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None
    text = str(plain.get_content())
    for line in ("当前值:2(截至 2022-06)", "规划路径要求值:4.9", "到期预测值:—(数据不足,无法预测)",
                 "2025 年目标:7", "规划进度对照日:2024-06-30",
                 "评估时间:2024-06-30 10:00 (北京时间)"):  # fmt: skip
        assert line in text, line
    kinds = [part.get_content_type() for part in parsed.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "multipart/related", "text/html",
                     "image/png"]  # fmt: skip
    [chart] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert isinstance(chart, EmailMessage)
    assert chart["Content-ID"] == "<chart0@alerts.iprwatch>"
    assert Image.open(io.BytesIO(chart.get_content())).size == (1200, 700)
    page = parsed.get_body(preferencelist=("html",))
    assert page is not None
    [img] = re.findall(r"<img [^>]*>", str(page.get_content()))
    assert "src='cid:chart0@alerts.iprwatch'" in img and "width='600' height='350'" in img
    [alt] = re.findall(r"alt='([^']*)'", img)
    assert html.unescape(alt) == (
        "大足区地理标志拥有量走势图;当前值 2件(截至2022年6月),规划路径要求值 4.9件,"
        "2025年末目标 7件,到期预测值:数据不足,无法预测。"
    )


def test_a_grouped_mail_threads_every_alert() -> None:
    resolved = item("resolved")
    other = Item("500111", "madrid_registrations_cumulative", 1, "firing", 0,
                 {**item().snapshot, "indicator": "madrid_registrations_cumulative"},
                 "chongqing-14th-fyp")  # fmt: skip
    msg = compose("ipr@dazu.example", [resolved, other], "a@iprwatch.example", NOW)
    assert msg["In-Reply-To"] is None
    assert msg["References"] == (
        "<thread.chongqing-14th-fyp.500111.geographical_indications@alerts.iprwatch> "
        "<thread.chongqing-14th-fyp.500111.madrid_registrations_cumulative@alerts.iprwatch>"
    )
    assert str(msg["Subject"]).startswith(
        '【知识产权规划监测】重庆市知识产权保护和运用"十四五"规划(2021—2025年) 1 项告警,1 项恢复:'
    )


def test_the_snapshot_dates_the_chart() -> None:
    s = item().snapshot
    assert s["plan_name"] == '重庆市知识产权保护和运用"十四五"规划(2021—2025年)'
    assert s["actual"] == [["2021-06-30", 1.0], ["2022-06-30", 2.0]]
    assert s["path_dated"][0] == ["2020-12-31", 0.0]
    assert s["path_dated"][-1] == ["2025-12-31", 7.0]
    assert len(s["path_dated"]) == 61 and s["milestones"] == []
    assert s["change_since"] == "2020-12-31"  # Dazu has no published baseline
    chart = chart_of(s)
    assert (chart.division, chart.indicator, chart.unit) == ("大足区", "地理标志拥有量", "count")
    assert chart.actual == [(date(2021, 6, 30), 1.0), (date(2022, 6, 30), 2.0)]
    assert (chart.target, chart.target_date, chart.forecast) == (7.0, date(2025, 12, 31), None)
    assert chart.as_of == date(2024, 6, 30)
    assert chart.required == pytest.approx(7 * 1277 / 1826)


def test_a_snapshot_stored_before_the_dates_still_draws() -> None:
    new = item().snapshot
    old = {k: v for k, v in new.items()
           if k not in ("actual", "path_dated", "milestones", "plan_name", "baseline_date",
                        "change_since")}  # fmt: skip
    assert old["series"] == [[6.0, 1.0], [18.0, 2.0]] and old["x_max"] == 60.0
    then, now = chart_of(old), chart_of(new)
    assert then.actual == now.actual
    assert set(then.path) <= set(now.path) and len(then.path) == 21
    assert (then.plan, then.change_since) == ("", None)
    old_item = Item("500111", "geographical_indications", 1, "firing", 0, old, "chongqing-14th-fyp")
    assert compose("ipr@dazu.example", [old_item], "a@iprwatch.example", NOW)["Subject"]


def test_silences_match_labels_until_they_expire() -> None:
    silence = Silence("s1", (Matcher("district", "500111"), Matcher("indicator", "geo.*", True)),
                      NOW, NOW + timedelta(hours=1), "张三", "补录")  # fmt: skip
    labels = {"district": "500111", "indicator": "geographical_indications", "severity": "x"}
    assert silenced([silence], labels, NOW + timedelta(minutes=59))
    assert not silenced([silence], labels, NOW + timedelta(hours=1))
    assert not silenced([silence], labels, NOW - timedelta(seconds=1))
    assert not silenced([silence], {**labels, "district": "500112"}, NOW)
    negative = Silence("s2", (Matcher("severity", "critical", is_equal=False),), NOW,
                       NOW + timedelta(hours=1), "李四", "只看严重")  # fmt: skip
    assert silenced([negative], {"severity": "warning"}, NOW)
    assert not silenced([negative], {"severity": "critical"}, NOW)


def test_routing_district_officials_and_the_city() -> None:
    recipients = Recipients(
        city=(Recipient(email="city@chongqing.example"),),
        districts={"500111": (Recipient(email="a@dazu.example"),
                              Recipient(email="City@chongqing.example"))},
    )  # fmt: skip
    assert recipients.for_alert("500111", "500000") == ("a@dazu.example", "city@chongqing.example")
    assert recipients.for_alert("500112", "500000") == ("city@chongqing.example",)
    assert recipients.for_alert("500000", "500000") == ("city@chongqing.example",)


def test_webhook_bodies() -> None:
    payload = alertmanager_payload("ops", [item()])
    assert (payload["version"], payload["status"], payload["receiver"]) == ("4", "firing", "ops")
    [alert] = payload["alerts"]
    assert alert["labels"] == {
        "alertname": "IndicatorOffTrack",
        "plan": "chongqing-14th-fyp",
        "district": "500111",
        "indicator": "geographical_indications",
        "severity": "critical",
    }
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert alertmanager_payload("ops", [item("resolved")])["alerts"][0]["endsAt"] == NOW.isoformat()
    wecom = webhook_body("wecom", "g", [item()])
    assert wecom["msgtype"] == "markdown" and "大足区" in wecom["markdown"]["content"]
    ding = webhook_body("dingtalk", "g", [item()])
    assert ding["markdown"]["title"].startswith("【知识产权规划监测】")


@pytest.mark.parametrize("kind", ["firing", "resolved"])
def test_item_keys(kind: str) -> None:
    assert item(kind).key == f"chongqing-14th-fyp/500111/geographical_indications/1/{kind}/0"


def test_the_mail_is_seven_bit_clean_for_any_smtp_server() -> None:
    raw = compose("ipr@dazu.example", [item()], "IPR Watch <alerts@iprwatch.example>", NOW)
    data = raw.as_bytes()
    assert max(data) < 128
    assert all(len(line) <= 998 for line in data.split(b"\n"))


def test_the_area_chart_has_the_plan_milestones(tmp_path: Path) -> None:
    source = "a test source"
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(yaml.safe_dump({
        "plan": {"id": "chengdu-test-plan", "name_zh": "成都市知识产权测试规划",
                 "document_no": "测试〔2026〕1号", "baseline_date": "2025-12-31",
                 "target_date": "2030-12-31", "timezone": "Asia/Shanghai"},
        "area": {"code": "510100", "name_zh": "成都市", "name_en": "Chengdu"},
        "districts": [{"code": "510104", "name_zh": "锦江区", "name_en": "Jinjiang",
                       "kind": "district", "population": None}],
        "indicators": {"valid_invention_patents": {
            "name_zh": "有效发明专利", "name_en": "Valid invention patents", "kind": "stock",
            "unit": "count", "path": "linear", "tolerance": 0.05,
            "baseline": {"value": 1000, "source": source},
            "target": {"value": 2000, "source": source},
            "milestones": {2027: {"value": 1800, "source": source}}}},
    }, allow_unicode=True), encoding="utf-8")  # fmt: skip
    plan = load_plan(plan_file)
    points = [("2026-06", 1200.0), ("2027-06", 1500.0)]
    today = date(2027, 6, 30)
    a = assess(plan, "510100", "valid_invention_patents", points, today)
    s = snapshot_of(a, plan, points, NOW, today)
    assert s["milestones"] == [["2027-12-31", 1800.0]] and s["change_since"] is None
    assert ["2027-12-31", 1800.0] in s["path_dated"]
    chart = chart_of(s)
    assert chart.milestones == [(date(2027, 12, 31), 1800.0)]
    _, drawn = png(chart)
    assert drawn.title == "成都市 · 有效发明专利 · 成都市知识产权测试规划"
    assert drawn.y_label == "数量(件)"
    assert drawn.x_ticks == tuple(f"{y}年末" for y in range(2025, 2031))
    assert drawn.legend[:3] == ("实际值", "规划路径", "年度目标")
    assert drawn.labels[0] == "1,500件(2027年6月)"


def test_a_years_value_is_held_against_its_years_end() -> None:
    plan = load_plan(default_plan_path())
    points = [("2022-12", 4.1e8), ("2023-12", 5.2e8)]
    a = assess(plan, "500000", "ip_service_revenue_cny", points, date(2024, 6, 30))
    s = snapshot_of(a, plan, points, NOW, date(2024, 6, 30))
    assert s["required_on"] == "2023-12-31" and s["required"] == pytest.approx(1e9 * 1095 / 1826)
    assert [d for d, _ in s["path_dated"]] == [f"{y}-12-31" for y in range(2020, 2026)]
    chart = chart_of(s)
    assert chart.required_on == date(2023, 12, 31)
    _, drawn = png(chart)
    assert drawn.y_label == "金额(亿元)"
    assert drawn.labels == ("5.2亿元(2023年12月)", "要求 6亿元", "目标 10亿元")


def test_a_chart_that_cannot_be_drawn_does_not_hold_back_the_mail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing font (or a drawing bug) leaves the chart out; the notice still goes."""
    import services.alerts.domain.mail as mail_module
    from shared.charts import FontMissing

    def broken(_: object) -> bytes:
        raise FontMissing("no CJK font: apt-get install fonts-noto-cjk")

    monkeypatch.setattr(mail_module, "chart_png", broken)
    msg = compose("ipr@dazu.example", [item()], "IPR Watch <alerts@iprwatch.example>", NOW)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    kinds = [part.get_content_type() for part in parsed.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]  # no image part
    page = parsed.get_body(preferencelist=("html",))
    assert page is not None
    content = str(page.get_content())
    assert "<img" not in content
    assert "大足区地理标志拥有量走势图;当前值 2件(截至2022年6月)" in html.unescape(content)
