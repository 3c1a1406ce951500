"""The ingest service's composition root: settings in, a running intake out; and the parts of
an import (`iprwatch import`): the plan, the mapping, the file, the shared ingest client."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer

from services.ingest.adapters.addresses import AddressResolver
from services.ingest.adapters.mapping_files import MappingNotFound, find_mapping, spanning_areas
from services.ingest.adapters.publisher import KafkaPublisher, ingest_producer
from services.ingest.adapters.readers import ExportReader
from services.ingest.adapters.tokens import TokenStore, client_token
from services.ingest.domain.mapping import MappingError
from services.ingest.metrics import IngestMetrics
from services.ingest.service.importing import ImportOptions, check_options, import_rows
from services.ingest.service.intake import EventIntake
from services.ingest.service.ports import ImportProgress, ReadError, TokenLookup
from services.ingest.service.sending import ImportAborted, Sender, Summary
from services.ingest.settings import IngestSettings
from shared.ingest_client import IngestClient
from shared.kafka import ensure_topics
from shared.plan import PlanError, default_plan_path, load_plan
from shared.plans import PlanSet

READY_TIMEOUT_SECONDS = 2.0
STARTUP_TIMEOUT_SECONDS = 60.0
log = logging.getLogger(__name__)


@dataclass
class Ingest:
    settings: IngestSettings
    plans: PlanSet
    producer: AIOKafkaProducer
    intake: EventIntake
    metrics: IngestMetrics
    tokens: TokenLookup

    async def kafka_reachable(self) -> bool:
        """True if the broker answers a metadata request within a short time."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), READY_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False
        return True


@asynccontextmanager
async def running(settings: IngestSettings, metrics: IngestMetrics) -> AsyncIterator[Ingest]:
    plans = settings.plan.load()
    producer = await _connected_producer(settings)
    try:
        publisher = KafkaPublisher(
            producer, settings.kafka.events_topic, settings.publish_timeout_seconds
        )
        intake = EventIntake(plans, publisher, metrics)
        yield Ingest(settings, plans, producer, intake, metrics, TokenStore(settings.tokens_file))
    finally:
        await producer.stop()


async def _connected_producer(settings: IngestSettings) -> AIOKafkaProducer:
    """Create the topic and start the producer, waiting (a bounded time) for a broker that is
    still starting."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        producer = ingest_producer(settings.kafka, settings.producer_batch_bytes)
        try:
            await ensure_topics(settings.kafka, [settings.kafka.events_topic])
            await producer.start()
        except Exception as exc:
            await producer.stop()
            if time.monotonic() > deadline:
                raise
            log.warning("Kafka is not reachable yet (%r); retrying", exc)
            await asyncio.sleep(2)
            continue
        return producer


def token_store(file: Path | None = None) -> TokenStore:
    """The registry systems' tokens (`iprwatch tokens`): `file`, else the service's setting."""
    return TokenStore(file or IngestSettings().tokens_file)


# --- `iprwatch import` -----------------------------------------------------------------------


class _NoProgress:
    def start(self, description: str, total: int | None) -> None:
        pass

    def advance(self, rows: int, accepted: int, rejected: int, skipped: int) -> None:
        pass


async def import_file(
    options: ImportOptions,
    progress: ImportProgress | None = None,
    on_retry: Callable[[str, float], None] | None = None,
) -> Summary:
    """Send (or, in a dry run, validate) every row of the file; return the summary.

    Raises `ImportAborted` with a readable message when the import cannot go on.
    """
    if not options.path.is_file():
        raise ImportAborted(f"no such file: {options.path}")
    token = client_token(options.token)
    if token is None and not options.dry_run:
        raise ImportAborted(
            "no token: pass --token, set IPRWATCH_TOKEN, or create one with "
            "`iprwatch tokens add NAME --source ... --type ...` (or use --dry-run)"
        )
    check_options(options)
    try:
        plan = load_plan(options.plan_file or default_plan_path())
        mapping = find_mapping(options.mapping) if options.mapping else None
    except (PlanError, MappingError, MappingNotFound) as exc:
        raise ImportAborted(str(exc)) from None
    file = ExportReader(options.path, options.kind, options.sheet, options.encoding)
    progress = progress or _NoProgress()
    summary = Summary(dry_run=options.dry_run)
    client = None
    if not options.dry_run:
        client = IngestClient(options.url, token, timeout=60, on_retry=on_retry)

    def addresses() -> AddressResolver:
        areas = spanning_areas(plan.city.code)
        codes = {d.code: d.name_zh for d in plan.districts}
        return AddressResolver(codes, plan.city.code, plan.city.name_zh, areas)

    try:
        _ = file.format
        total = file.count_rows() if options.progress else None
        with options.rejected_path.open("w", encoding="utf-8") as rejected:
            verb = "checking" if options.dry_run else "importing"
            progress.start(f"{verb} {file.name}", total)
            sender = Sender(client, plan, summary, rejected, options.rate)
            await import_rows(file, plan, mapping, sender, options.batch, addresses, progress)
    except (ReadError, MappingError) as exc:
        raise ImportAborted(str(exc)) from None
    finally:
        if client is not None:
            await client.aclose()
    return summary
