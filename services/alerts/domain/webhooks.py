"""Webhook bodies: Alertmanager's webhook payload (version 4), WeCom and DingTalk markdown."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.alerts.domain.mail import KIND_ZH, STATUS_ZH, subject_of
from services.alerts.domain.notices import Item
from shared.numbers import beijing_time, chinese_amount

ZERO_TIME = "0001-01-01T00:00:00Z"


def _alert(item: Item) -> dict[str, Any]:
    s = item.snapshot
    labels = {"alertname": "IndicatorOffTrack", **item.labels}
    fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    resolved = item.kind == "resolved"
    return {
        "status": "resolved" if resolved else "firing",
        "labels": labels,
        "annotations": {
            "summary": f"{s.get('plan_name', item.plan)}:{s['district_name']} "
            f"{s['indicator_name']} {STATUS_ZH[s['status']]}",
            "value": str(s["value"]),
            "required": str(s["required"]),
            "forecast": str(s["forecast"]),
            "target": str(s["target"]),
        },
        "startsAt": s.get("firing_since") or s["at"],
        "endsAt": s["at"] if resolved else ZERO_TIME,
        "generatorURL": "",
        "fingerprint": fingerprint,
    }


def alertmanager_payload(receiver: str, items: Sequence[Item]) -> dict[str, Any]:
    alerts = [_alert(i) for i in items]
    firing = any(a["status"] == "firing" for a in alerts)
    common = {
        k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)
    }
    return {
        "version": "4",
        "groupKey": f"{{}}:{{receiver={json.dumps(receiver)}}}",
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": receiver,
        "groupLabels": {},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": alerts,
    }


def markdown_text(items: Sequence[Item]) -> str:
    lines = [f"### {subject_of(items)}"]
    for item in items:
        s = item.snapshot
        unit = str(s["unit"])

        def amount(value: Any, unit: str = unit) -> str:
            return "—" if value is None else chinese_amount(float(value), unit)

        lines += [
            f"**{s['district_name']} · {s['indicator_name']}**({KIND_ZH[item.kind]})",
            f"> 规划:{s.get('plan_name', item.plan)}",
            f"> 当前值:{amount(s['value'])}(截至 {s['month']})",
            f"> 规划路径要求值:{amount(s['required'])}",
            f"> 到期预测值:{amount(s['forecast'])}",
            f"> {str(s['target_date'])[:4]} 年目标:{amount(s['target'])}",
            f"> 评估时间:{beijing_time(datetime.fromisoformat(str(s['at'])))}",
        ]
    return "\n".join(lines)


def webhook_body(kind: str, receiver: str, items: Sequence[Item]) -> dict[str, Any]:
    if kind == "alertmanager":
        return alertmanager_payload(receiver, items)
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": markdown_text(items)}}
    return {
        "msgtype": "markdown",
        "markdown": {"title": subject_of(items), "text": markdown_text(items)},
    }
