"""The Dispatcher on the in-memory fakes: a message is sent once, a silenced item not at all,
a delivery that may have arrived is never sent blindly again, a webhook gets its body."""

from __future__ import annotations

import json
from datetime import timedelta

from services.alerts.domain.silences import Matcher
from services.alerts.service import silencing
from tests.unit.alerts.scenario import (
    BEHIND,
    CITY,
    DAZU,
    NOW,
    OFFICIAL,
    ROBOT,
    Service,
    change,
    service,
)


async def fired(webhook: bool = False) -> Service:
    s = service(webhook=webhook)
    await s.alerting.on_change(change(1, BEHIND))
    return s


async def test_each_recipient_gets_one_message_once() -> None:
    s = await fired()
    assert await s.dispatcher.compose_due() == 2
    assert await s.dispatcher.compose_due() == 0  # its items are in a message now
    assert await s.dispatcher.send_due() == 2
    assert await s.dispatcher.send_due() == 0
    assert [(d.sender, d.recipient) for d in s.mailer.delivered] == [
        ("alerts@iprwatch.example", OFFICIAL), ("alerts@iprwatch.example", CITY),
    ]  # fmt: skip
    assert b"Message-ID: <" in s.mailer.delivered[0].payload
    log = await s.repositories.send_log.send_log()
    assert sorted((m.recipient, m.status, m.attempts, m.sent_at) for m in log) == [
        (CITY, "sent", 1, NOW), (OFFICIAL, "sent", 1, NOW),
    ]  # fmt: skip


async def test_a_silenced_item_is_not_sent() -> None:
    s = await fired()
    await silencing.add_silence(s.repositories.silences, [Matcher("district", DAZU)], NOW,
                                NOW + timedelta(days=1), "ops", "maintenance")  # fmt: skip
    assert await s.dispatcher.compose_due() == 0
    assert await s.dispatcher.send_due() == 0
    assert (s.mailer.calls, await s.repositories.send_log.send_log()) == (0, [])
    assert [q.status for q in s.memory.items.values()] == ["silenced", "silenced"]


async def test_an_ambiguous_delivery_is_never_resent() -> None:
    s = await fired()
    s.mailer.ambiguous = True
    await s.dispatcher.compose_due()
    assert await s.dispatcher.send_due() == 0
    s.clock.at = NOW + timedelta(hours=1)
    assert await s.dispatcher.send_due() == 0
    assert s.mailer.calls == 2  # one try per message, none repeated
    log = await s.repositories.send_log.send_log()
    assert [(m.status, m.attempts, m.last_error) for m in log] == [
        ("unconfirmed", 1, "connection lost after the end of data")
    ] * 2


async def test_a_failure_before_the_end_of_data_is_retried_after_the_backoff() -> None:
    s = await fired()
    s.mailer.fail_before = ConnectionRefusedError("mail server away")
    await s.dispatcher.compose_due()
    assert await s.dispatcher.send_due() == 0
    log = await s.repositories.send_log.send_log()
    assert {(m.status, m.attempts) for m in log} == {("sending", 1)}
    s.mailer.fail_before = None
    s.clock.at = NOW + timedelta(seconds=29)  # retry_base 30 s: not due yet
    assert await s.dispatcher.send_due() == 0
    s.clock.at = NOW + timedelta(seconds=30)
    assert await s.dispatcher.send_due() == 2
    assert s.mailer.calls == 4


async def test_a_webhook_gets_its_robot_body() -> None:
    s = await fired(webhook=True)
    assert await s.dispatcher.compose_due() == 3
    assert await s.dispatcher.send_due() == 3
    [post] = s.poster.delivered
    assert (post.sender, post.recipient) == ("", ROBOT.url)
    body = json.loads(post.payload)
    assert body["msgtype"] == "markdown"
    assert "大足区" in body["markdown"]["content"]
    assert len(s.mailer.delivered) == 2
