"""The ingest service's metrics, on a registry of its own.

With several worker processes (`IPRWATCH_INGEST_WORKERS` > 1) prometheus-client runs in its
multiprocess mode: the supervisor sets `PROMETHEUS_MULTIPROC_DIR` before it starts the workers,
each worker writes its values to files of its own there, and `/metrics`, whichever worker
answers it, reads every file (`MultiProcessCollector`): counters and histograms are the sums over
the workers, those of workers that have exited included, so no counter goes back when a worker is
replaced. `ipr_ingest_workers` counts the live workers (`livesum`): a worker that stops removes
its share (`mark_process_dead`), and a starting worker removes the shares of workers that died
without stopping (SIGKILL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    """The folder of the multiprocess mode if this process runs in it (as prometheus-client
    decides: by the environment, when it is first imported)."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


@dataclass
class IngestMetrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    shared_dir: Path | None = field(default_factory=multiprocess_dir)

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
        self.workers = Gauge(
            "ipr_ingest_workers", "Worker processes serving the ingest port.",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        # What `/metrics` serves: this process's registry, or every worker's values.
        self.exposition = self.registry
        if self.shared_dir is not None:
            self.exposition = CollectorRegistry()
            multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
                self.exposition, path=str(self.shared_dir)
            )

    def worker_started(self) -> None:
        if self.shared_dir is not None:
            for pid in _pids_with_live_gauges(self.shared_dir):
                if not _alive(pid):
                    multiprocess.mark_process_dead(pid, str(self.shared_dir))  # type: ignore[no-untyped-call]
        self.workers.set(1)

    def worker_stopped(self) -> None:
        self.workers.set(0)
        if self.shared_dir is not None:
            multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
                os.getpid(), str(self.shared_dir)
            )


def _pids_with_live_gauges(folder: Path) -> set[int]:
    """Processes with a `livesum`/`liveall`... gauge file (`gauge_live<mode>_<pid>.db`)."""
    pids = set()
    for path in folder.glob("gauge_live*_*.db"):
        text = path.stem.rpartition("_")[2]
        if text.isdigit():
            pids.add(int(text))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
