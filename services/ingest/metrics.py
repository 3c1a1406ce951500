"""The ingest service's metrics, on a registry of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@dataclass
class IngestMetrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        self.http_requests = Counter(
            "ipr_ingest_http_requests", "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.http_seconds = Histogram(
            "ipr_ingest_http_request_duration_seconds", "Time to answer an HTTP request, by route.",
            ["route"], registry=self.registry, buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self.events_accepted = Counter(
            "ipr_ingest_events_accepted", "Events acknowledged by Kafka, by type.",
            ["type"], registry=self.registry,
        )  # fmt: skip
        self.events_rejected = Counter(
            "ipr_ingest_events_rejected",
            "Events refused, by type (`unknown` if not a contract type) and reason.",
            ["type", "reason"], registry=self.registry,
        )  # fmt: skip
        self.publish_seconds = Histogram(
            "ipr_ingest_publish_duration_seconds",
            "Time until Kafka acknowledged a request's events.",
            registry=self.registry, buckets=LATENCY_BUCKETS,
        )  # fmt: skip
