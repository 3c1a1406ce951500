"""What the ingest use cases need from the outside, as Protocols the adapters implement.

- `Publisher`: Kafka holds a request's events (`adapters.publisher.KafkaPublisher`).
- `TokenLookup`: a bearer token's grant (`adapters.tokens.TokenStore`).
- `EventPoster`: the ingest API, for the importer (`shared.ingest_client.IngestClient`).
- `ExportFile`: an export's rows, streamed (`adapters.readers.ExportReader`).
- `AddressLookup`: holders' addresses to divisions (`adapters.addresses.AddressResolver`).
- `ImportProgress`: where an import reports how far it is (the CLI's progress bar).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.ingest.domain.cells import Cell
from services.ingest.domain.grants import TokenGrant
from services.ingest.domain.rows import Row
from shared.events import CloudEvent


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge every event of a request in time: nothing may be promised."""


class TokenError(ValueError):
    """A token could not be added or revoked; the message says why."""


class TokensUnreadable(Exception):
    """The tokens file cannot be read: no token can be checked."""


class ReadError(Exception):
    """The file cannot be read as asked: the message says why and what to do."""


class Publisher(Protocol):
    async def publish(self, events: Sequence[CloudEvent]) -> None:
        """Return once Kafka holds every event; raise `BrokerUnavailable` if it did not."""
        ...


class TokenLookup(Protocol):
    @property
    def path(self) -> Path: ...

    def is_empty(self) -> bool:
        """True if no token is configured; raises `TokensUnreadable`."""
        ...

    def verify(self, token: str) -> TokenGrant | None:
        """The grant of `token`, None if unknown or revoked; raises `TokensUnreadable`."""
        ...


class Answer(Protocol):
    """An HTTP answer (httpx.Response is one)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class EventPoster(Protocol):
    async def post_events(self, batch: Sequence[Mapping[str, Any]]) -> Answer:
        """POST one batch until a final answer; raise `shared.ingest_client.IngestUnavailable`."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class TableRow:
    """One data row: its line (CSV, NDJSON) or row number (Excel) and its cells by column."""

    line: int
    cells: dict[str, Cell]
    problem: str | None = None


class ExportFile(Protocol):
    """One export file, read as asked (format, sheet, encoding); every method may raise
    `ReadError`."""

    @property
    def name(self) -> str: ...

    @property
    def format(self) -> str: ...

    def count_rows(self) -> int | None: ...

    def events(self) -> Iterator[Row]:
        """A file of CloudEvents (CSV or NDJSON), row by row."""
        ...

    def tables(self) -> Iterator[tuple[list[str], Iterator[TableRow]]]:
        """Each table (sheet) of the file: its header and its rows."""
        ...


@dataclass(frozen=True)
class Resolution:
    code: str | None
    reason: str | None = None
    problem: str | None = None


class AddressLookup(Protocol):
    def resolve_many(self, addresses: Iterable[str]) -> dict[str, Resolution]: ...


class ImportProgress(Protocol):
    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, rows: int, accepted: int, rejected: int, skipped: int) -> None: ...
