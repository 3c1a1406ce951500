"""The progress board, in Chinese first: a plan's headline cards, its divisions × indicators
table with statuses and ranks, a map, and a page per division with every indicator's chart.

Pages come from the Jinja2 templates beside this module (autoescaped); the charts and the map
are drawn in the browser by Apache ECharts, vendored under `static/` and served by the service
itself (`STATIC_URL`), so the board works offline. Each page carries its figures as JSON for
the charts and as tables for everyone else (keyboard, screen readers, no script).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.indicators.domain.values import Ledger
from services.indicators.entrypoints.board.feed import ALERTS_NOTE_ZH, alert_rows, event_rows
from services.indicators.entrypoints.board.maps import STATIC_DIR, division_map
from services.indicators.entrypoints.board.view import (
    MARK,
    STATUS_ZH,
    Cell,
    cell,
    overall,
    path,
    ranked,
    spark,
    unit_zh,
)
from services.indicators.service.division import DivisionFeed
from shared.numbers import with_unit
from shared.plans import PlanSet

__all__ = [
    "ECHARTS_VERSION", "STATIC_DIR", "STATIC_URL", "division_parts", "render_board",
    "render_division", "render_division_page",
]  # fmt: skip

STATIC_URL = "/assets"
ECHARTS_VERSION = "6.1.0"  # static/echarts.min.js, npm `echarts`, Apache-2.0
STATES_ZH = {"upcoming": "未开始", "in_progress": "进行中", "ended": "已结束"}


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("services.indicators.entrypoints.board", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=STATIC_URL, marks=MARK, states=STATES_ZH)
    env.filters["percent"] = lambda share: "—" if share is None else f"{share:.0%}"
    env.filters["amount"] = with_unit
    env.filters["bar"] = lambda share: f"{max(0.0, min(1.0, share or 0.0)) * 100:.1f}"
    return env


def _place(ledger: Ledger, code: str) -> str:
    plan = ledger.plan
    return plan.city.name_zh if code == ledger.area else plan.district(code).name_zh


def _common(ledger: Ledger, plans: PlanSet, today: date) -> dict[str, Any]:
    plan = ledger.plan
    return {
        "plan": plan,
        "state": plan.state(today),
        "ended": plan.state(today) == "ended",
        "today": today,
        "plans": [(p, STATES_ZH[p.state(today)]) for p in plans],
        "area": ledger.area,
    }


def board_cells(ledger: Ledger, today: date) -> dict[str, list[Cell]]:
    """Every division's cells (the area first), in the plan's order of indicators, ranked."""
    plan = ledger.plan
    rows = {
        code: [cell(ledger, code, spec, today) for spec in plan.indicators]
        for code in ledger.codes()
    }
    divisions = [code for code in rows if code != ledger.area]
    for index in range(len(plan.indicators)):
        ranks = ranked([rows[code][index] for code in divisions])
        for code in divisions:
            found = rows[code][index]
            rows[code][index] = _with_rank(found, ranks.get(code))
    return rows


def _with_rank(found: Cell, rank: int | None) -> Cell:
    return replace(found, rank=rank)


def render_board(ledger: Ledger, plans: PlanSet, today: date, sort: str | None = None) -> str:
    """The board of `ledger`'s plan on `today`; `sort`: an indicator key to rank the divisions
    by (best first), else the plan's order."""
    plan = ledger.plan
    rows = board_cells(ledger, today)
    keys = list(plan.indicator_keys)
    order = [code for code in rows if code != ledger.area]
    if sort in keys:
        index = keys.index(sort)
        position = {code: place for place, code in enumerate(order)}
        order.sort(key=lambda code: (rows[code][index].rank or 10_000, position[code]))
    else:
        sort = None
    found_map = division_map(plan)
    cards = [
        {"spec": spec, "cell": c, "spark": spark(ledger.series(ledger.area, spec.key))}
        for spec, c in zip(plan.indicators, rows[ledger.area], strict=True)
    ]
    map_data = {
        "map": None
        if found_map is None
        else {"script": f"{STATIC_URL}/{found_map.script}", "name": found_map.name},
        "statuses": STATUS_ZH,
        "indicators": [
            {"key": s.key, "name": s.name_zh, "unit": unit_zh(s)} for s in plan.indicators
        ],
        "divisions": [
            {
                "code": code,
                "name": _place(ledger, code),
                "feature": found_map.features.get(code) if found_map else None,
                "overall": overall(rows[code]),
                "cells": {
                    c.key: {"status": c.status, "value": c.value, "shown": c.shown}
                    for c in rows[code]
                },
            }
            for code in order
        ],
    }
    missing = [] if found_map is None else [_place(ledger, c) for c in found_map.missing]
    return (
        environment()
        .get_template("board.html")
        .render(
            **_common(ledger, plans, today),
            cards=cards,
            rows=[(code, _place(ledger, code), rows[code]) for code in [ledger.area, *order]],
            sort=sort,
            map_data=map_data,
            has_map=found_map is not None,
            missing=missing,
            status_zh=STATUS_ZH,
        )
    )


def division_parts(ledger: Ledger, plans: PlanSet, code: str, today: date) -> dict[str, Any]:
    """What a division's page shows from the snapshot: each indicator's latest value against
    the plan, and its chart (the same until the totals change: worth keeping)."""
    plan = ledger.plan
    cells = [cell(ledger, code, spec, today) for spec in plan.indicators]
    charts = []
    for spec, found in zip(plan.indicators, cells, strict=True):
        charts.append({
            "key": spec.key,
            "title": f"{_place(ledger, code)} · {spec.name_zh} · {plan.name_zh}",
            "unit": unit_zh(spec),
            "change": found.change,
            "points": [(f"{m:%Y-%m}", v) for m, v in ledger.series(code, spec.key)],
            "path": path(ledger, code, spec.key),
            "target": None
            if found.assessment.target is None
            else [f"{plan.target_date:%Y-%m}", found.assessment.target],
        })  # fmt: skip
    return {
        **_common(ledger, plans, today),
        "code": code,
        "name": _place(ledger, code),
        "rows": list(zip(plan.indicators, cells, strict=True)),
        "charts": charts,
    }


def render_division_page(parts: dict[str, Any], feed: DivisionFeed | None = None) -> str:
    """The page of `division_parts`, with the division's latest acts and current alerts read
    for this request (`feed`; None: neither section)."""
    plan = parts["plan"]
    return (
        environment()
        .get_template("division.html")
        .render(
            **parts,
            feed=feed is not None,
            events=[] if feed is None else event_rows(plan, feed.acts),
            alerts=[] if feed is None else alert_rows(plan, feed.alerts),
            alerts_note=None if feed is None else ALERTS_NOTE_ZH.get(feed.alerts.outcome),
        )
    )


def render_division(
    ledger: Ledger, plans: PlanSet, code: str, today: date, feed: DivisionFeed | None = None
) -> str:
    """A division's page: each indicator's latest value against the plan, and its chart; its
    latest acts and current alerts with `feed`."""
    return render_division_page(division_parts(ledger, plans, code, today), feed)
