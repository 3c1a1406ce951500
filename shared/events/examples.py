"""An example event of each type (`EXAMPLES`): the API's documentation and the tests use them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.events.fields import SPEC_VERSION, TYPE_PREFIX

_EXAMPLE_DATA: Mapping[str, tuple[str | None, dict[str, Any]]] = {
    "patent.invention.granted": ("ZL202310123456.7", {"district": "500112", "high_value": True}),
    "patent.invention.lapsed": ("ZL201810654321.X", {"district": "500106", "reason": "fees"}),
    "patent.invention.restored": ("ZL201810654321.X", {"district": "500106"}),
    "patent.invention.transferred": (
        "ZL202010765432.1", {"district": "500112", "from_district": "500103"}
    ),
    "patent.invention.reclassified": ("ZL202310123456.7", {"district": "500112",
                                                           "high_value": False}),
    "pct.application.filed": ("PCT/CN2023/098765", {"district": "500105"}),
    "trademark.registered": ("68123456", {"district": "500111", "agricultural": True,
                                          "geographical_indication": False}),
    "trademark.lapsed": ("12345678", {"district": "500101"}),
    "trademark.madrid.registered": ("1712345", {"district": "500108"}),
    "gi.product.registered": ("GI-2023-017", {"district": "500229"}),
    "copyright.software.registered": ("2023SR0123456", {"district": "500107"}),
    "copyright.work.registered": ("渝作登字-2023-A-00012345", {"district": "500103",
                                                             "category": "fine_art"}),
    "finance.pledge.registered": ("Y2023500000123", {"district": "500112",
                                                     "amount_cny": 25000000.0}),
    "service.revenue.reported": (None, {"district": "500103", "year": 2023,
                                        "amount_cny": 1250000.0}),
    "statistic.reported": (None, {"district": "500112",
                                  "indicator": "patent_intensive_industries_gdp_share",
                                  "period": "2022", "value": 12.5,
                                  "document": "重庆市知识产权局 2022 年统计公报"}),
}  # fmt: skip


def _example(suffix: str, subject: str | None, data: dict[str, Any]) -> dict[str, Any]:
    registry = suffix.split(".")[0]
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": f"{registry}-2023-0512-000123",
        "source": f"/registries/{registry}",
        "type": f"{TYPE_PREFIX}{suffix}",
        "time": "2023-05-12T00:00:00+08:00",
        "datacontenttype": "application/json",
        "data": data,
    }
    if subject is not None:
        event["subject"] = subject
    return event


EXAMPLES: Mapping[str, Mapping[str, Any]] = {
    f"{TYPE_PREFIX}{suffix}": _example(suffix, subject, data)
    for suffix, (subject, data) in _EXAMPLE_DATA.items()
}
