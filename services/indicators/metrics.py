"""The indicators service's metrics: values from a background snapshot, and the fold's own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


@dataclass
class Snapshot:
    """Indicator values per (district, indicator); replaced whole by the refresher."""

    values: dict[tuple[str, str], float] = field(default_factory=dict)


class IndicatorCollector(Collector):
    """`collect()` cannot await: it reads the last snapshot the refresher stored."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "ipr_indicator_value",
            "Current value of an indicator for a district (500000 = the city).",
            labels=["district", "indicator"],
        )
        for (district, indicator), value in sorted(self.snapshot.values.items()):
            gauge.add_metric([district, indicator], value)
        yield gauge


@dataclass
class IndicatorsMetrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    snapshot: Snapshot = field(default_factory=Snapshot)

    def __post_init__(self) -> None:
        self.registry.register(IndicatorCollector(self.snapshot))
        self.events_folded = Counter(
            "ipr_fold_events", "Records folded, by outcome (applied, duplicate, skipped).",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.batch_seconds = Histogram(
            "ipr_fold_batch_duration_seconds", "Time to fold one batch in one transaction.",
            registry=self.registry,
        )  # fmt: skip
