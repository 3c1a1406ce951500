"""The Grafana dashboards as code, built with Grafana's typed builders (grafana-foundation-sdk,
the release of the Grafana that docker-compose.yml runs): one module per dashboard, what they
share in `common`. `python deploy/grafana/generate.py` writes ../dashboards/*.json."""

from __future__ import annotations

import json
from pathlib import Path

from iprwatch_grafana.district_detail import district_detail
from iprwatch_grafana.pipeline_health import pipeline_health
from iprwatch_grafana.plan_progress import plan_progress

OUT = Path(__file__).resolve().parent.parent / "dashboards"


def build() -> dict[str, str]:
    """File name -> the JSON text of each dashboard."""
    boards = {
        "plan-progress.json": plan_progress(),
        "district-detail.json": district_detail(),
        "pipeline-health.json": pipeline_health(),
    }
    return {name: json.dumps(b, ensure_ascii=False, indent=2) + "\n" for name, b in boards.items()}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in build().items():
        (OUT / name).write_text(text)
