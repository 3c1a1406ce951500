"""The alerts service's metrics: path, forecast and firing gauges, notification counters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


@dataclass
class Snapshot:
    """Per (plan, district, indicator), replaced entry by entry after each evaluation."""

    required: dict[tuple[str, str, str], float] = field(default_factory=dict)
    forecast: dict[tuple[str, str, str], float] = field(default_factory=dict)
    firing: dict[tuple[str, str, str], str] = field(default_factory=dict)  # -> severity


class AlertCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["plan", "district", "indicator"]
        required = GaugeMetricFamily(
            "ipr_indicator_required", "The plan's required value today.", labels=labels
        )
        for key, value in sorted(self.snapshot.required.items()):
            required.add_metric(list(key), value)
        forecast = GaugeMetricFamily(
            "ipr_indicator_forecast", "Forecast of the value at the target date.", labels=labels
        )
        for key, value in sorted(self.snapshot.forecast.items()):
            forecast.add_metric(list(key), value)
        firing = GaugeMetricFamily(
            "ipr_alert_firing", "1 while the alert fires.", labels=[*labels, "severity"]
        )
        for (plan, district, indicator), severity in sorted(self.snapshot.firing.items()):
            firing.add_metric([plan, district, indicator, severity], 1.0)
        yield from (required, forecast, firing)


@dataclass
class AlertMetrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    snapshot: Snapshot = field(default_factory=Snapshot)

    def __post_init__(self) -> None:
        self.registry.register(AlertCollector(self.snapshot))
        self.sent = Counter(
            "ipr_notifications_sent",
            "Notifications delivered, by channel.",
            ["channel"],
            registry=self.registry,
        )
        self.failed = Counter(
            "ipr_notifications_failed",
            "Delivery attempts that failed, by channel.",
            ["channel"],
            registry=self.registry,
        )
        self.changes = Counter(
            "ipr_alerts_indicator_changes",
            "Indicator changes consumed, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "ipr_alerts_leader",
            "1 while this replica holds the lease to evaluate and send, 0 while it stands by.",
            registry=self.registry,
        )
        for channel in ("email", "webhook"):
            self.sent.labels(channel)
            self.failed.labels(channel)
