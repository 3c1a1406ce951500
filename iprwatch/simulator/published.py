"""The demo's 公布值对照: the city's year-end values on the API next to the published figures.

The published figures are the plan file's `actuals` (deploy/plans/chongqing-14th-fyp.yaml, built
from the Chongqing reference data, each with its source), never constants of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from rich.table import Table

from shared.numbers import with_unit
from shared.plan import Plan

YEARS = ("2022", "2023", "2024")
INDICATORS = ("invention_patents_per_10k_population", "valid_registered_trademarks")


@dataclass(frozen=True)
class Row:
    indicator: str
    name_zh: str
    unit: str
    year: str
    value: float | None  # the API's value at the end of the year (None: unknown)
    published: float

    @property
    def difference(self) -> float | None:
        """(value − published) / published, as a fraction; None without a value."""
        if self.value is None or self.published == 0:
            return None
        return (self.value - self.published) / self.published


def rows(plan: Plan, answers: dict[str, dict[str, float | None]]) -> list[Row]:
    """One row per indicator and year that has a published figure; `answers` is year ->
    indicator -> the API's value as of that year's end."""
    found = []
    for key in INDICATORS:
        indicator = plan.indicator(key)
        for year in YEARS:
            published = indicator.actuals.get(year)
            if published is None:  # not published: nothing to compare with, never a guess
                continue
            value = answers.get(year, {}).get(key)
            found.append(Row(key, indicator.name_zh, indicator.unit, year, value, float(published)))
    return found


async def year_end_values(
    indicators_url: str, plan: Plan, years: tuple[str, ...] = YEARS
) -> dict[str, dict[str, float | None]]:
    """year -> indicator -> the city's value on `GET /v1/indicators?as_of=YYYY-12-31`."""
    found: dict[str, dict[str, float | None]] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for year in years:
            params = {"plan": plan.id, "district": plan.city.code, "as_of": f"{year}-12-31"}
            response = await client.get(f"{indicators_url}/v1/indicators", params=params)
            response.raise_for_status()
            items: list[dict[str, Any]] = response.json()["items"]
            found[year] = {i["indicator"]: i.get("value") for i in items}
    return found


def table(plan: Plan, found: list[Row], scale: float, caveats: tuple[str, ...] = ()) -> Table:
    """公布值对照 / Published figures, with the sources and, below scale 1, why they differ."""
    title = f"公布值对照 / Published figures: {plan.city.name_zh} {plan.city.code}, {plan.id}"
    notes = list(caveats)
    if scale < 1:
        notes.append(
            f"规模 scale {scale:g}: 模拟量按比例缩小 the simulated volumes are scaled to "
            f"{scale * 100:g}% of the real ones, so the comparison is only meaningful at scale 1 "
            "(`iprwatch demo`, whose default is scale 1)"
        )
    sources = sorted({plan.indicator(r.indicator).actuals_source or "" for r in found} - {""})
    marks = {source: number for number, source in enumerate(sources, start=1)}
    for source, number in marks.items():
        notes.append(f"[{number}] 公布值来源 published: {source} (the plan file's `actuals`)")
    result = Table(title=title, caption="\n".join(notes) or None, caption_justify="left")
    result.add_column("指标")
    result.add_column("indicator", max_width=24, no_wrap=True, overflow="ellipsis")
    for column in ("年末 year end", "IPR Watch", "公布值 published", "差异 diff"):
        result.add_column(column, justify="right")
    for row in found:
        mark = marks.get(plan.indicator(row.indicator).actuals_source or "")
        difference = row.difference
        result.add_row(
            row.name_zh,
            row.indicator,
            row.year,
            "-" if row.value is None else with_unit(row.value, row.unit),
            with_unit(row.published, row.unit) + (f" [{mark}]" if mark else ""),
            "-" if difference is None else f"{difference:+.2%}",
        )
    return result
