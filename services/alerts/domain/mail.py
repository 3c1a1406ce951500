"""One notification mail: Chinese subject and body, text and HTML, a PNG chart per alert.

The chart (shared.charts) is 1200×700 pixels, shown 600 wide: sharp on a phone at 2×; its
`alt` states the numbers for readers whose client blocks images.

Pure: builds an `email.message.EmailMessage` from notice items; sending is the adapter's job.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from services.alerts.domain.notices import Item, message_id, thread_id
from services.alerts.domain.snapshots import chart_alt, chart_png
from shared.charts import MAIL_SIZE
from shared.numbers import SHANGHAI, beijing_time, chinese_amount

log = logging.getLogger(__name__)

STATUS_ZH = {
    "behind": "落后于规划路径",
    "at_risk": "预测到期难以达标",
    "on_track": "符合进度",
    "no_data": "暂无数据",
    "no_target": "无目标",
}
KIND_ZH = {"firing": "告警", "repeat": "告警(重复提醒)", "resolved": "已恢复"}


def _amount(value: Any, unit: str) -> str:
    return "—" if value is None else chinese_amount(float(value), unit)


def _headline(item: Item) -> str:
    s = item.snapshot
    what = STATUS_ZH.get(str(s["status"]), str(s["status"]))
    if item.kind == "resolved":
        what = "已恢复正常进度"
    return f"{s['district_name']} {s['indicator_name']} {what}"


def _plan_name(item: Item) -> str:
    return str(item.snapshot.get("plan_name") or item.plan)


def subject_of(items: Sequence[Item]) -> str:
    """Names the plan: the items of one message are of one plan (see dispatch)."""
    plan = _plan_name(items[0])
    if len(items) == 1:
        return f"【知识产权规划监测】{plan} {KIND_ZH[items[0].kind]}:{_headline(items[0])}"
    firing = sum(1 for i in items if i.kind != "resolved")
    resolved = len(items) - firing
    return f"【知识产权规划监测】{plan} {firing} 项告警,{resolved} 项恢复:{_headline(items[0])} 等"


def _lines(item: Item) -> list[tuple[str, str]]:
    s = item.snapshot
    unit = str(s["unit"])
    forecast = _amount(s["forecast"], unit)
    if s["forecast"] is not None:
        low, high = _amount(s["forecast_low"], unit), _amount(s["forecast_high"], unit)
        forecast += f"(90% 区间 {low} ~ {high})"
    else:
        forecast += "(数据不足,无法预测)"
    at = datetime.fromisoformat(str(s["at"]))
    return [
        ("规划", _plan_name(item)),
        ("区县", f"{s['district_name']}({s['district']})"),
        ("指标", f"{s['indicator_name']}({s['indicator']})"),
        ("状态", f"{KIND_ZH[item.kind]} · {STATUS_ZH.get(str(s['status']), str(s['status']))}"),
        ("当前值", f"{_amount(s['value'], unit)}(截至 {s['month']})"),
        ("规划路径要求值", _amount(s["required"], unit)),
        ("到期预测值", forecast),
        (f"{str(s['target_date'])[:4]} 年目标", _amount(s["target"], unit)),
        ("容差", f"{float(s['tolerance']) * 100:g}%"),
        ("规划进度对照日", str(s.get("as_of", "—"))),
        ("评估时间", beijing_time(at)),
    ]


def compose(
    recipient: str, items: Sequence[Item], sender: str, created_at: datetime
) -> EmailMessage:
    """The mail to `recipient` for `items`; its Message-ID depends on nothing else."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject_of(items)
    msg["Date"] = format_datetime(created_at.astimezone(SHANGHAI))
    msg["Message-ID"] = message_id(recipient, items)
    threads = [thread_id(i.plan, i.district, i.indicator) for i in items]
    if len(set(threads)) == 1:
        msg["In-Reply-To"] = threads[0]
    msg["References"] = " ".join(dict.fromkeys(threads))
    msg["X-IPRWatch-Plan"] = items[0].plan
    msg["X-IPRWatch-Alerts"] = ", ".join(i.key for i in items)

    text = [f"以下{_plan_name(items[0])}指标的进度发生变化:", ""]
    for item in items:
        text += [f"■ {_headline(item)}"] + [f"  {k}:{v}" for k, v in _lines(item)] + [""]
    text += [
        "走势图见邮件的网页版:蓝色实线为实际值,黑色虚线为规划路径,红色星号为目标,"
        "橙色虚线及阴影为预测及 90% 区间。",
        "",
        "此邮件由 IPR Watch 自动发送。",
    ]
    msg.set_content("\n".join(text), cte="base64")  # 7-bit clean: no 8BITMIME needed

    parts = [
        "<html><body style='font-family:sans-serif'>",
        f"<p>以下{html.escape(_plan_name(items[0]))}指标的进度发生变化:</p>",
    ]
    width, height = MAIL_SIZE[0] // 2, MAIL_SIZE[1] // 2
    charts = [_chart_or_none(item.snapshot) for item in items]
    for n, item in enumerate(items):
        rows = "".join(
            f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in _lines(item)
        )
        parts += [
            f"<h3>{html.escape(_headline(item))}</h3>",
            f"<table cellpadding='4'>{rows}</table>",
            f"<p><img src='cid:chart{n}@alerts.iprwatch'"
            f" alt='{html.escape(chart_alt(item.snapshot), quote=True)}'"
            f" width='{width}' height='{height}' style='max-width:100%;height:auto'></p>"
            if charts[n] is not None
            else f"<p>{html.escape(chart_alt(item.snapshot))}</p>",
        ]
    parts += ["</body></html>"]
    msg.add_alternative("".join(parts), subtype="html", cte="base64")
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)  # noqa: S101 - added just above
    for n, item in enumerate(items):
        png = charts[n]
        if png is None:
            continue
        html_part.add_related(
            png,
            maintype="image",
            subtype="png",
            cid=f"<chart{n}@alerts.iprwatch>",
            filename=f"{item.district}-{item.indicator}.png",
        )
    return msg


def _chart_or_none(snapshot: dict[str, Any]) -> bytes | None:
    """The chart's PNG; None (the mail goes without it, its alt text in its place) if it fails.

    A notice matters more than its picture: a missing font or a drawing bug must not hold back
    the mail (the failure is logged with the key).
    """
    try:
        return chart_png(snapshot)
    except Exception:  # noqa: BLE001 - any drawing failure: send the notice without its chart
        log.warning(
            "chart not drawn; the mail goes without it",
            exc_info=True,
            extra={"district": snapshot.get("district"), "indicator": snapshot.get("indicator")},
        )
        return None
