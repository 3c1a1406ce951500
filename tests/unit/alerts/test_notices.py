"""Notices: Message-IDs, threading, Chinese numbers, the mail, the chart, silences, routing."""

from __future__ import annotations

import email
import email.policy
import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest

from services.alerts.domain.assessment import assess
from services.alerts.domain.chart import ChartData, render_png
from services.alerts.domain.mail import compose
from services.alerts.domain.notices import Item, message_id, thread_id
from services.alerts.domain.numbers import beijing_time, chinese_amount
from services.alerts.domain.recipients import Recipient, Recipients
from services.alerts.domain.silences import Matcher, Silence, silenced
from services.alerts.domain.snapshots import snapshot_of
from services.alerts.domain.webhooks import alertmanager_payload, webhook_body
from shared.plan import default_plan_path, load_plan

NOW = datetime(2024, 6, 30, 2, 0, tzinfo=UTC)


def item(kind: str = "firing", epoch: int = 1) -> Item:
    plan = load_plan(default_plan_path())
    points = [("2021-06", 1.0), ("2022-06", 2.0)]
    a = assess(plan, "500111", "geographical_indications", points, date(2024, 6, 30))
    return Item("500111", "geographical_indications", epoch, kind,  # type: ignore[arg-type]
                0, snapshot_of(a, plan, points, NOW, date(2024, 6, 30)))  # fmt: skip


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
    assert thread_id("500111", "geographical_indications") == (
        "<thread.500111.geographical_indications@alerts.iprwatch>"
    )


def test_the_mail_reads_in_chinese_with_a_chart() -> None:
    msg = compose("ipr@dazu.example", [item()], "IPR Watch <alerts@iprwatch.example>", NOW)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "【知识产权规划监测】告警:大足区 地理标志拥有量 落后于规划路径"
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


def test_a_grouped_mail_threads_every_alert() -> None:
    resolved = item("resolved")
    other = Item("500111", "madrid_registrations_cumulative", 1, "firing", 0,
                 {**item().snapshot, "indicator": "madrid_registrations_cumulative"})  # fmt: skip
    msg = compose("ipr@dazu.example", [resolved, other], "a@iprwatch.example", NOW)
    assert msg["In-Reply-To"] is None
    assert msg["References"] == (
        "<thread.500111.geographical_indications@alerts.iprwatch> "
        "<thread.500111.madrid_registrations_cumulative@alerts.iprwatch>"
    )
    assert str(msg["Subject"]).startswith("【知识产权规划监测】1 项告警,1 项恢复:")


def test_the_chart_is_a_png_of_the_asked_size() -> None:
    png = render_png(ChartData([(0, 0), (12, 1)], [(0, 0), (60, 7)], (12, 1), (60, 3, 2, 4)),
                     width=100, height=50)  # fmt: skip
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (100, 50)
    idat = png.index(b"IDAT")
    length = struct.unpack(">I", png[idat - 4 : idat])[0]
    raw = zlib.decompress(png[idat + 4 : idat + 4 + length])
    assert len(raw) == 50 * (1 + 100 * 3)
    assert b"\x1f\x77\xb4" in raw  # the series' blue is drawn


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
    assert item(kind).key == f"500111/geographical_indications/1/{kind}/0"


def test_the_mail_is_seven_bit_clean_for_any_smtp_server() -> None:
    raw = compose("ipr@dazu.example", [item()], "IPR Watch <alerts@iprwatch.example>", NOW)
    data = raw.as_bytes()
    assert max(data) < 128
    assert all(len(line) <= 998 for line in data.split(b"\n"))
