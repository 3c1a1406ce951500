"""Silences made and expired by an operator (the API translates the request)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from services.alerts.domain.silences import Matcher, Silence
from services.alerts.service.ports import SilenceRepository

log = logging.getLogger(__name__)


async def add_silence(
    silences: SilenceRepository,
    matchers: Sequence[Matcher],
    starts: datetime,
    ends: datetime,
    created_by: str,
    comment: str,
) -> Silence:
    """Store a new silence (a fresh id) of the alerts all `matchers` match."""
    silence = Silence(str(uuid.uuid4()), tuple(matchers), starts, ends, created_by, comment)
    await silences.add_silence(silence)
    log.info("silence added", extra={"silence": silence.id, "created_by": created_by,
             "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})  # fmt: skip
    return silence


async def expire_silence(silences: SilenceRepository, silence_id: str, now: datetime) -> bool:
    """End a silence now; False if there is none to expire (none, or expired before)."""
    expired = await silences.expire_silence(silence_id, now)
    if expired:
        log.info("silence expired", extra={"silence": silence_id})
    return expired
