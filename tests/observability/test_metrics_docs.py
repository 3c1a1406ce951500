"""docs/observability.md lists exactly the metrics the services expose, with their types."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from iprwatch.stack.home import REPO_ROOT
from services.alerts.metrics import AlertMetrics
from services.indicators.metrics import IndicatorsMetrics
from services.ingest.metrics import IngestMetrics

DOC = REPO_ROOT / "docs" / "observability.md"
ROW = re.compile(r"^\| `(ipr_[a-z0-9_]+)` \| (counter|gauge|histogram) \|", re.MULTILINE)


def exposed(registry: CollectorRegistry) -> dict[str, str]:
    """Metric name as queried (counters with `_total`) -> type."""
    found: dict[str, str] = {}
    for family in registry.collect():
        name = f"{family.name}_total" if family.type == "counter" else family.name
        found[name] = family.type
    return found


def test_the_metrics_table_matches_the_services() -> None:
    code: dict[str, str] = {}
    for metrics in (IngestMetrics(), IndicatorsMetrics(), AlertMetrics()):
        code.update(exposed(metrics.registry))
    documented = dict(ROW.findall(DOC.read_text()))
    assert documented == code
