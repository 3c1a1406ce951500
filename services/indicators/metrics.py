"""The indicators service's metrics: values from a background snapshot, and the fold's own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.indicators.domain.values import Progress


@dataclass
class Snapshot:
    """Progress per known (plan, division, indicator); replaced whole by the refresher."""

    values: dict[tuple[str, str, str], Progress] = field(default_factory=dict)


class IndicatorCollector(Collector):
    """`collect()` cannot await: it reads the last snapshot the refresher stored."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["plan", "district", "indicator"]
        value = GaugeMetricFamily(
            "ipr_indicator_value",
            "A plan's current value of an indicator for a division (or the plan's area).",
            labels=labels,
        )
        target = GaugeMetricFamily(
            "ipr_indicator_target", "The plan's target of the indicator.", labels=labels
        )
        progress = GaugeMetricFamily(
            "ipr_indicator_progress_ratio",
            "Share of the planned change (target minus baseline) achieved.",
            labels=labels,
        )
        for key, item in sorted(self.snapshot.values.items()):
            if item.value is not None:
                value.add_metric(list(key), item.value)
            if item.target is not None:
                target.add_metric(list(key), item.target)
            if item.progress is not None:
                progress.add_metric(list(key), item.progress)
        yield value
        yield target
        yield progress


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
        for outcome in ("applied", "duplicate", "skipped"):
            self.events_folded.labels(outcome)
        self.dead_letters = Counter(
            "ipr_fold_dead_letters", "Records sent to the dead-letter topic, by reason.",
            ["reason"], registry=self.registry,
        )  # fmt: skip
        self.consumer_lag = Gauge(
            "ipr_fold_consumer_lag", "Records of the partition not yet fetched by this process.",
            ["partition"], registry=self.registry,
        )  # fmt: skip
        self.batch_seconds = Histogram(
            "ipr_fold_batch_duration_seconds", "Time to fold one batch in one transaction.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )  # fmt: skip
