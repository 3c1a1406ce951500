"""The ingest service's metrics, on a registry of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class IngestMetrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        self.events_accepted = Counter(
            "ipr_ingest_events_accepted", "Events acknowledged by Kafka, by type.",
            ["type"], registry=self.registry,
        )  # fmt: skip
        self.events_rejected = Counter(
            "ipr_ingest_events_rejected", "Events refused, by reason.",
            ["reason"], registry=self.registry,
        )  # fmt: skip
        self.publish_seconds = Histogram(
            "ipr_ingest_publish_duration_seconds",
            "Time until Kafka acknowledged a request's events.",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
