"""Orchestration: group queued notices into logged messages, and deliver them.

A message's bytes and deterministic Message-ID are committed (`sending`) before any
connection; `transmitting` is committed just before the end of data; `sent` after the
server's acceptance. See docs/alerts.md for what this guarantees.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from email.utils import parseaddr

from services.alerts.domain.evaluation import compose_evaluation, evaluation_subject
from services.alerts.domain.mail import compose, subject_of
from services.alerts.domain.notices import Item, message_id
from services.alerts.domain.recipients import Recipients, Webhook
from services.alerts.domain.silences import silenced
from services.alerts.domain.webhooks import webhook_body
from services.alerts.metrics import AlertMetrics
from services.alerts.service.policy import Policy
from services.alerts.service.ports import (
    AmbiguousDelivery,
    Clock,
    MailSender,
    Repositories,
    WebhookSender,
)

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        repositories: Repositories,
        recipients: Recipients,
        policy: Policy,
        clock: Clock,
        metrics: AlertMetrics,
        mailer: MailSender,
        poster: WebhookSender,
        sender: str,
    ) -> None:
        self.repositories, self.recipients, self.policy = repositories, recipients, policy
        self.send_log = repositories.send_log
        self.clock, self.metrics = clock, metrics
        self.mailer, self.poster, self.sender = mailer, poster, sender

    def _webhook(self, name: str) -> Webhook | None:
        return next((w for w in self.recipients.webhooks if w.name == name), None)

    async def compose_due(self) -> int:
        """Group queued notices per recipient (after `group_wait`) into logged messages."""
        now = self.clock.now()
        # One message per recipient and plan; a plan's evaluation (终期评估) is its own message.
        groups: dict[tuple[str, str, str, bool], list[tuple[Item, datetime]]] = defaultdict(list)
        for channel, recipient, item, created in await self.send_log.queued():
            groups[(channel, recipient, item.plan, item.evaluation)].append((item, created))
        if not groups:
            return 0
        silences = await self.repositories.silences.silences()
        made = 0
        for (channel, recipient, _, evaluation), entries in groups.items():
            if min(created for _, created in entries) > now - self.policy.group_wait:
                continue
            items = [i for i, _ in entries if not silenced(silences, i.labels, now)]
            muted = [i for i, _ in entries if silenced(silences, i.labels, now)]
            hook = self._webhook(recipient) if channel == "webhook" else None
            if channel == "webhook" and hook is None:
                log.warning("webhook no longer configured: its notices are dropped",
                            extra={"webhook": recipient, "notices": len(items)})  # fmt: skip
                items, muted = [], muted + items
            if channel == "email":
                mid = message_id(recipient, items) if items else ""
                write = compose_evaluation if evaluation else compose
                payload = write(recipient, items, self.sender, now).as_bytes() if items else b""
            else:
                mid = message_id(f"webhook:{recipient}", items) if items else ""
                body = webhook_body(hook.kind, recipient, items) if hook and items else {}
                payload = json.dumps(body, ensure_ascii=False).encode()
            title = evaluation_subject if evaluation else subject_of
            subject = title(items) if items else ""
            await self.send_log.log_message(
                mid, channel, recipient, subject, payload, items, muted, now
            )
            made += 1 if items else 0
        return made

    async def send_due(self, stopping: asyncio.Event | None = None) -> int:
        """Deliver the messages due; with `stopping` set, stop between two messages."""
        sent = 0
        for row in await self.send_log.due_messages(self.clock.now()):
            if stopping is not None and stopping.is_set():
                break
            mid, channel = row.message_id, row.channel

            async def transmitting(mid: str = mid) -> None:
                await self.send_log.set_status(mid, "transmitting", self.clock.now())

            try:
                if channel == "email":
                    envelope_from = parseaddr(self.sender)[1]
                    await self.mailer.deliver(
                        envelope_from, row.recipient, row.payload, transmitting
                    )
                else:
                    hook = self._webhook(row.recipient)
                    if hook is None:
                        raise LookupError(f"webhook {row.recipient!r} is not configured")
                    await self.poster.deliver("", hook.url, row.payload, transmitting)
            except AmbiguousDelivery as exc:
                log.warning(
                    "delivery unconfirmed: not resent", extra={"message_id": mid, "error": str(exc)}
                )
                await self.send_log.set_status(mid, "unconfirmed", self.clock.now(), str(exc))
                self.metrics.failed.labels(channel).inc()
            except Exception as exc:  # noqa: BLE001 - any other failure: the server has nothing
                wait = min(self.policy.retry_max, self.policy.retry_base * 2**row.attempts)
                retry_at = self.clock.now() + timedelta(seconds=wait)
                log.warning(
                    "delivery failed, retrying",
                    extra={"message_id": mid, "error": repr(exc), "retry_in_seconds": wait},
                )
                await self.send_log.set_status(
                    mid, "sending", self.clock.now(), repr(exc), retry_at
                )
                self.metrics.failed.labels(channel).inc()
            else:
                await self.send_log.set_status(mid, "sent", self.clock.now())
                self.metrics.sent.labels(channel).inc()
                sent += 1
        return sent
