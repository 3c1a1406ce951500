"""Posting a logged webhook body (httpx), retrying transient failures a few times in place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from services.alerts.service.ports import AmbiguousDelivery, Rejected


class WebhookSender:
    def __init__(self, timeout: float, tries: int = 3, pause: float = 0.5) -> None:
        self.timeout = timeout
        self.tries = tries
        self.pause = pause

    async def deliver(
        self, sender: str, url: str, body: bytes, before_send: Callable[[], Awaitable[None]]
    ) -> None:
        """Connection failures are retried here; once a request went out, it is not repeated."""
        del sender  # a webhook has no envelope sender
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for attempt in range(self.tries):
                try:
                    await before_send()
                    response = await client.post(
                        url, content=body, headers={"content-type": "application/json"}
                    )
                except httpx.ConnectError:
                    if attempt + 1 == self.tries:
                        raise
                    await asyncio.sleep(self.pause * 2**attempt)
                    continue
                except httpx.HTTPError as exc:
                    raise AmbiguousDelivery(str(exc)) from exc
                if response.status_code >= 300:
                    raise Rejected(f"HTTP {response.status_code}")
                _check_robot_answer(response)
                return


def _check_robot_answer(response: httpx.Response) -> None:
    """WeCom and DingTalk robots answer 200 with `errcode` != 0 when they refuse a message."""
    try:
        answer = response.json()
    except ValueError:
        return
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise Rejected(f"robot refused: errcode {answer.get('errcode')} {answer.get('errmsg')}")
