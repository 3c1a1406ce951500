"""docs/operations.md keeps up with the rules it tells operators to watch and the measured fold."""

from __future__ import annotations

import re

import yaml

from iprwatch.stack.home import REPO_ROOT

DOC = REPO_ROOT / "docs" / "operations.md"


def test_what_to_watch_lists_every_pipeline_alert() -> None:
    rules = yaml.safe_load((REPO_ROOT / "deploy/prometheus/rules/alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    watch = DOC.read_text().split("## What to watch", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(Ipr[A-Za-z]+)` \|", watch, re.MULTILINE))
    assert listed == alerts


def test_sizing_quotes_the_fold_rate_measured_in_docs_indicators() -> None:
    indicators = (REPO_ROOT / "docs" / "indicators.md").read_text()
    row = r"^\| `bench/fold.py`, 1M events, [^|]*\| ([0-9,]+) \| ([0-9,]+) \| ([0-9,]+) \|"
    [runs] = re.findall(row, indicators, re.MULTILINE)  # the three runs of the table
    low, high = sorted(runs, key=lambda figure: int(figure.replace(",", "")))[:: len(runs) - 1]
    assert f"**{low}–{high} events/s per process on 2 cores**" in DOC.read_text()
