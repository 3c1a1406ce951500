"""The importer's batches: sent through the ingest API (the `EventPoster` port), or, in a dry
run, validated locally; refused events go with their reasons to the rejected file."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from services.ingest.domain.validation import InvalidEvents, validate_events
from services.ingest.service.ports import Answer, EventPoster
from shared.ingest_client import IngestUnavailable, Sleep
from shared.plan import Plan


class ImportAborted(Exception):
    """The import cannot go on (no token, refused token, bad mapping, service unreachable)."""


@dataclass(frozen=True)
class Pending:
    """An event waiting to be sent, with the row it came from (for the rejected file)."""

    line: int
    text: str
    event: dict[str, Any]


@dataclass
class Summary:
    dry_run: bool = False
    rows: int = 0
    accepted: int = 0  # events the service took (a dry run: events that passed validation)
    rejected: int = 0
    skipped: int = 0  # rows that make no event (e.g. a legal status the system does not count)
    reasons: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, ("valid" if self.dry_run else "accepted"): self.accepted,
                "rejected": self.rejected, "skipped": self.skipped,
                "reasons": dict(self.reasons.most_common())}  # fmt: skip


class Sender:
    """Sends batches through `client` (None: validates them locally, a dry run)."""

    def __init__(
        self, client: EventPoster | None, plan: Plan, summary: Summary, rejected: TextIO,
        rate: float | None, sleep: Sleep = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.sleep = sleep
        self.client = client
        self.codes = plan.district_codes
        self.summary = summary
        self.rejected = rejected
        self.rate = rate
        self.started = time.monotonic()
        self.sent = 0

    def reject(self, line: int, text: str, problems: list[str], reason: str) -> None:
        self.summary.rejected += 1
        self.summary.reasons[reason] += 1
        entry = {"line": line, "row": text, "reason": reason, "problems": problems}
        self.rejected.write(json.dumps(entry, ensure_ascii=False) + "\n")

    async def send(self, pending: list[Pending]) -> None:
        if self.client is None:
            self._validate(pending)
            return
        while pending:
            await self._pace(len(pending))
            try:
                response = await self.client.post_events([p.event for p in pending])
            except IngestUnavailable as exc:
                raise ImportAborted(f"{exc} (a re-run is safe)") from None
            status = response.status_code
            if status == 202:
                self.summary.accepted += len(pending)
                return
            detail = _detail(response)
            if status == 401:
                raise ImportAborted(f"the service refused the token: {detail}")
            if status in (403, 422) and isinstance(detail.get("errors"), list):
                pending = self._drop_refused(pending, detail["errors"], status)
                continue
            if status == 413:
                raise ImportAborted(f"{detail.get('detail')}: use a smaller --batch")
            for item in pending:
                self.reject(item.line, item.text, [str(detail.get("detail", detail))],
                            f"http_{status}")  # fmt: skip
            return

    def _validate(self, pending: list[Pending]) -> None:
        try:
            validate_events([p.event for p in pending], self.codes, datetime.now(UTC))
        except InvalidEvents as exc:
            errors = [p.to_json() for p in exc.problems]
            rest = self._drop_refused(pending, errors, 422)
            self.summary.accepted += len(rest)
            return
        self.summary.accepted += len(pending)

    async def _pace(self, events: int) -> None:
        if self.rate:
            ahead = self.started + self.sent / self.rate - time.monotonic()
            if ahead > 0:
                await self.sleep(ahead)
        self.sent += events

    def _drop_refused(self, items: list[Pending], errors: list[Any], status: int) -> list[Pending]:
        problems: dict[int, list[str]] = {}
        for error in errors:
            if isinstance(error, dict) and isinstance(error.get("index"), int):
                problems.setdefault(error["index"], []).append(
                    f"{error.get('field')}: {error.get('problem')}"
                )
        reason = "forbidden" if status == 403 else "invalid"
        if not problems:  # nothing to single out: the whole batch is refused
            problems = {i: ["refused without a per-event reason"] for i in range(len(items))}
        for index, messages in problems.items():
            if 0 <= index < len(items):
                self.reject(items[index].line, items[index].text, messages, reason)
        return [item for i, item in enumerate(items) if i not in problems]


def _detail(response: Answer) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:500]}
    return body if isinstance(body, dict) else {"detail": body}
