"""The progress board: districts x indicators on one page, in Chinese, readable at a glance.

Each cell shows the value, the share of the planned change achieved and a colour: green on
or above the plan's path today, amber below it but within the indicator's tolerance, red
further below, grey without a target, and a dash where the value is unknown.
"""

from __future__ import annotations

from datetime import date
from html import escape

from services.indicators.domain.values import Ledger
from shared.plans import PlanSet
from shared.trajectory import required_value

_STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 1.5rem;
       color: #1d2733; background: #f6f7f9; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
p.meta { color: #56606b; margin: 0 0 1rem; font-size: .9rem; }
table { border-collapse: collapse; background: #fff; font-size: .82rem; }
th, td { border: 1px solid #d5d9de; padding: .3rem .45rem; text-align: right;
         white-space: nowrap; }
th { background: #eef1f4; position: sticky; top: 0; text-align: center; }
th.place, td.place { text-align: left; position: sticky; left: 0; background: #eef1f4; }
tr.city td { font-weight: bold; border-bottom: 2px solid #8a96a3; }
td .share { display: block; font-size: .72rem; color: #39424c; }
.on_track { background: #d9f2de; } .at_risk { background: #fff0c2; }
.behind { background: #f8d0cc; } .no_target { background: #fff; }
.unknown { background: #f0f0f0; color: #8a96a3; }
nav a { margin-right: .8rem; } nav a.current { font-weight: bold; color: #1d2733; }
td .change { display: block; font-size: .72rem; color: #8a5a00; }
.legend span { display: inline-block; padding: .1rem .5rem; margin-right: .4rem;
               border: 1px solid #d5d9de; font-size: .8rem; }
"""

_LEGEND = (
    ("on_track", "达到规划进度"),
    ("at_risk", "略低于进度(容差内)"),
    ("behind", "落后于进度"),
    ("no_target", "无目标"),
    ("ended", "规划期已结束"),
    ("unknown", "未知"),
)


def format_number(value: float, unit: str) -> str:
    """Numbers as officials read them: 亿 and 万 for large amounts, two decimals for ratios."""
    if unit == "per_10k_population":
        return f"{value:.2f}"
    magnitude = abs(value)
    if magnitude >= 1e8:
        return f"{value / 1e8:.2f}亿"
    if magnitude >= 1e5:
        return f"{value / 1e4:.1f}万"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def status_of(ledger: Ledger, code: str, indicator: str, on: date) -> str:
    value = ledger.value(code, indicator)
    if value is None:
        return "unknown"
    if ledger.plan.state(on) == "ended":
        return "ended"
    required = required_value(ledger.plan, code, indicator, on)
    if required is None:
        return "no_target"
    if value >= required:
        return "on_track"
    tolerance = ledger.plan.indicator(indicator).tolerance
    return "at_risk" if value >= required * (1 - tolerance) else "behind"


_STATES = {"upcoming": "未开始", "in_progress": "进行中", "ended": "已结束"}


def render_board(ledger: Ledger, plans: PlanSet, today: date) -> str:
    plan = ledger.plan
    current = ' class="current"'
    links = "".join(
        f'<a href="/?plan={escape(p.id)}"{current if p.id == plan.id else ""}>'
        f"{escape(p.name_zh)} ({_STATES[p.state(today)]})</a>"
        for p in plans
    )
    head = "".join(
        f'<th title="{escape(i.name_en)}">{escape(i.name_zh)}</th>' for i in plan.indicators
    )
    rows = []
    for code in ledger.codes():
        place = plan.city if code == ledger.area else plan.district(code)
        cells = []
        for spec in plan.indicators:
            status = status_of(ledger, code, spec.key, today)
            progress = ledger.progress(code, spec.key)
            if progress.value is None:
                cells.append(f'<td class="unknown" data-key="{spec.key}">—</td>')
                continue
            share = ""
            if progress.progress is not None:
                share = f'<span class="share">完成 {progress.progress:.0%}</span>'
            shown = format_number(progress.value, spec.unit)
            if progress.baseline is None and spec.kind not in ("annual", "reported"):
                # no opening balance: a change since the baseline date, never a stock
                sign = "+" if progress.value >= 0 else ""
                shown = f'{sign}{shown}<span class="change">基期以来增量</span>'
            elif progress.baseline_kind == "derived":
                share += '<span class="share">基期为推算值</span>'
            cells.append(f'<td class="{status}" data-key="{spec.key}">{shown}{share}</td>')
        css = ' class="city"' if code == ledger.area else ""
        rows.append(
            f'<tr{css} data-code="{code}"><td class="place">{escape(place.name_zh)}'
            f"</td>{''.join(cells)}</tr>"
        )
    legend = "".join(f'<span class="{c}">{t}</span>' for c, t in _LEGEND)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>知识产权规划指标进度 · {escape(plan.city.name_zh)}</title>
<style>{_STYLE}</style></head>
<body>
<nav>{links}</nav>
<h1>{escape(plan.name_zh)} · 指标进度</h1>
<p class="meta">数据截至 {today.isoformat()} ({escape(plan.timezone)}) · 基期 {plan.baseline_date} ·
目标期 {plan.target_date} · 无基期数据的区县显示基期以来的增量</p>
<p class="legend">{legend}</p>
<table><thead><tr><th class="place">区县</th>{head}</tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>
"""
