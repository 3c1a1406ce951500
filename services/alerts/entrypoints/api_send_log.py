"""The send-log part of the alerts API: every message logged, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.alerts.entrypoints.api_common import (
    Offset,
    limit_query,
    running_service,
    shown_time,
)


class NotificationOut(BaseModel):
    message_id: str
    channel: str
    recipient: str
    subject: str
    items: list[str]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime | None
    sent_at: datetime | None


def send_log_routes(
    router: APIRouter, reading: list[Any], read_responses: dict[int | str, dict[str, Any]]
) -> None:
    @router.get("/notifications", dependencies=reading, responses=read_responses,
                operation_id="listNotifications")  # fmt: skip
    async def notifications(
        request: Request, limit: Annotated[int, limit_query(500, 5000)] = 500, offset: Offset = 0
    ) -> list[NotificationOut]:
        """The send log, newest first."""
        rows = await running_service(request).repositories.send_log.send_log(limit, offset)
        return [
            NotificationOut(
                message_id=r.message_id,
                channel=r.channel,
                recipient=r.recipient,
                subject=r.subject,
                items=r.items,
                status=r.status,
                attempts=r.attempts,
                last_error=r.last_error,
                created_at=shown_time(r.created_at),
                sent_at=shown_time(r.sent_at),
            )  # fmt: skip
            for r in rows
        ]
