"""Reading the shipped Grafana dashboards: their panels, queries and variables, and a lint."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from iprwatch.stack.home import REPO_ROOT

GRAFANA = REPO_ROOT / "deploy" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range"}
CJK = re.compile(r"[\u4e00-\u9fff]")
VARIABLE = re.compile(r"\$\{?(\w+)")

Dashboard = dict[str, Any]


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref: str
    expr: str


def load_dashboards(folder: Path = DASHBOARDS) -> dict[str, Dashboard]:
    """File name -> dashboard JSON."""
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def datasource_uid() -> str:
    sources = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    uid: str = next(s["uid"] for s in sources if s["type"] == "prometheus")
    return uid


def panels(board: Dashboard) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows; rows themselves are skipped."""
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def queries(board: Dashboard) -> list[PanelQuery]:
    return [
        PanelQuery(board["title"], panel["title"], target.get("refId", ""), target["expr"])
        for panel in panels(board)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def variable_queries(board: Dashboard) -> dict[str, str]:
    """Variable name -> its `label_values(...)` query."""
    found: dict[str, str] = {}
    for variable in board.get("templating", {}).get("list", []):
        query = variable.get("query")
        found[variable["name"]] = query["query"] if isinstance(query, dict) else str(query)
    return found


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace Grafana variables ($name and ${name}) with concrete values."""
    for name, value in sorted(values.items(), key=lambda item: -len(item[0])):
        text = text.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return text


def lint(boards: Mapping[str, Dashboard], uid: str) -> list[str]:
    """Everything wrong with the dashboards, one readable line each (empty = fine)."""
    problems: list[str] = []
    seen_uids: dict[str, str] = {}
    for file, board in boards.items():
        where = f"{file}"
        board_uid = board.get("uid")
        if not board_uid:
            problems.append(f"{where}: no uid")
        elif board_uid in seen_uids:
            problems.append(f"{where}: uid {board_uid} also used by {seen_uids[board_uid]}")
        else:
            seen_uids[board_uid] = file
        if not CJK.search(board.get("title", "")):
            problems.append(f"{where}: the title has no Chinese")
        if not re.search(r"[A-Za-z]{3,}", board.get("description", "")):
            problems.append(f"{where}: no English description")
        variables = {v["name"] for v in board.get("templating", {}).get("list", [])}
        for variable in board.get("templating", {}).get("list", []):
            problems += _datasource_problems(f"{where} variable {variable['name']}", variable, uid)
        ids: set[int] = set()
        for panel in panels(board):
            problems += _panel_problems(f"{where} panel {panel.get('title')!r}", panel, uid)
            if panel.get("id") in ids:
                problems.append(f"{where}: panel id {panel.get('id')} used twice")
            ids.add(panel.get("id", -1))
            if (repeat := panel.get("repeat")) and repeat not in variables:
                problems.append(f"{where}: panel {panel.get('title')!r} repeats unknown ${repeat}")
            for target in panel.get("targets", []):
                for name in VARIABLE.findall(target.get("expr", "")):
                    if name not in variables | BUILTIN_VARIABLES:
                        problems.append(
                            f"{where}: panel {panel.get('title')!r} uses undefined ${name}"
                        )
        problems += _overlaps(where, list(panels(board)))
    return problems


def _datasource_problems(where: str, item: Mapping[str, Any], uid: str) -> list[str]:
    source = item.get("datasource")
    if not isinstance(source, dict) or source.get("uid") != uid:
        return [f"{where}: datasource {source!r} is not the provisioned Prometheus ({uid})"]
    if source.get("type") != "prometheus":
        return [f"{where}: datasource type {source.get('type')!r} is not prometheus"]
    return []


def _panel_problems(where: str, panel: Mapping[str, Any], uid: str) -> list[str]:
    problems = _datasource_problems(where, panel, uid)
    targets = panel.get("targets") or []
    if not any(t.get("expr", "").strip() for t in targets):
        problems.append(f"{where}: no query")
    refs = [t.get("refId") for t in targets]
    if len(set(refs)) != len(refs):
        problems.append(f"{where}: refIds {refs} are not unique")
    for target in targets:
        problems += _datasource_problems(f"{where} query {target.get('refId')}", target, uid)
        if not target.get("expr", "").strip():
            problems.append(f"{where} query {target.get('refId')}: empty expression")
    if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
        problems.append(f"{where}: no unit")
    if not CJK.search(panel.get("title", "")) and "$" not in panel.get("title", ""):
        problems.append(f"{where}: the title has no Chinese")
    if not re.search(r"[A-Za-z]{3,}", panel.get("description", "")):
        problems.append(f"{where}: no English description")
    return problems


def _overlaps(where: str, all_panels: list[dict[str, Any]]) -> list[str]:
    cells: dict[tuple[int, int], str] = {}
    problems: list[str] = []
    for panel in all_panels:
        grid = panel.get("gridPos", {})
        for x in range(grid.get("x", 0), grid.get("x", 0) + grid.get("w", 0)):
            for y in range(grid.get("y", 0), grid.get("y", 0) + grid.get("h", 0)):
                other = cells.setdefault((x, y), panel["title"])
                if other != panel["title"]:
                    problems.append(f"{where}: panels {other!r} and {panel['title']!r} overlap")
                    return problems
        if grid.get("x", 0) + grid.get("w", 0) > 24:
            problems.append(f"{where}: panel {panel['title']!r} is wider than the grid")
    return problems
