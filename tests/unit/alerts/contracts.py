"""The behaviour of each alerts repository port, one base class per port. Each is subclassed
twice: for the in-memory fake (tests/unit/alerts/test_contracts.py) and for PostgreSQL
(tests/integration/alerts/test_repositories.py); a subclass provides the `repos` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.alerts.domain.lifecycle import AlertState
from services.alerts.domain.notices import Item, Kind
from services.alerts.domain.silences import Matcher, Silence
from services.alerts.service.ports import HeldOutcome, Repositories, StoredAlert
from shared.outcomes import Outcome

P, P2, D, D2 = "chongqing-14th-fyp", "chongqing-15th-fyp", "500111", "500112"
GI, MADRID = "geographical_indications", "madrid_registrations_cumulative"
T0 = datetime(2024, 6, 30, 4, 0, tzinfo=UTC)
FIRING = AlertState("firing", "critical", T0, T0, None, None, 1, T0)


def item(kind: Kind = "firing", epoch: int = 1, repeat: int = 0, indicator: str = GI) -> Item:
    return Item(D, indicator, epoch, kind, repeat, {"value": 2.0, "month": "2022-06"}, P)


class Backend:
    @pytest.fixture
    async def repos(self) -> AsyncIterator[Repositories]:
        raise NotImplementedError
        yield  # pragma: no cover


class SeriesContract(Backend):
    async def test_a_series_is_stored_only_when_its_seq_is_newer(self, repos: Repositories) -> None:
        series = repos.series
        assert await series.save_series(P, D, GI, 3, [("2021-06", 1.0), ("2022-06", 2.0)])
        assert not await series.save_series(P, D, GI, 3, [("2022-06", 9.0)])
        assert not await series.save_series(P, D, GI, 2, [("2022-06", 9.0)])
        assert await series.points(P, D, GI) == [("2021-06", 1.0), ("2022-06", 2.0)]
        assert await series.save_series(P, D, GI, 4, [("2022-06", 3.0)])
        assert await series.points(P, D, GI) == [("2022-06", 3.0)]
        assert await series.points(P, D2, GI) == []

    async def test_many_at_once_and_per_plan(self, repos: Repositories) -> None:
        series = repos.series
        await series.save_series(P, D, GI, 5, [("2022-06", 2.0)])
        stored = await series.save_many([
            (P, D, GI, 4, [("2022-06", 9.0)]),  # stale
            (P, D, MADRID, 1, [("2023-01", 1.0)]),
            (P2, D, GI, 1, [("2026-01", 0.0)]),
        ])  # fmt: skip
        assert stored == {(P, D, MADRID), (P2, D, GI)}
        assert await series.save_many([]) == set()
        assert await series.all_series(P2) == {(P2, D, GI): [("2026-01", 0.0)]}
        assert await series.all_series() == {
            (P, D, GI): [("2022-06", 2.0)], (P, D, MADRID): [("2023-01", 1.0)],
            (P2, D, GI): [("2026-01", 0.0)],
        }  # fmt: skip


class AlertsContract(Backend):
    async def test_a_new_key_is_inactive_and_a_saved_one_reads_back(
        self, repos: Repositories
    ) -> None:
        alerts = repos.alerts
        assert await alerts.alert(P, D, GI) == (AlertState(), 0)
        await alerts.save_alert(P, D, GI, FIRING, 2, "behind", {"value": 2.0}, [], T0)
        assert await alerts.alert(P, D, GI) == (FIRING, 2)
        [stored] = await alerts.alerts(None, None, None)
        assert stored == replace(stored, plan=P, district=D, indicator=GI, alert=FIRING,
                                 status="behind", repeats=2, snapshot={"value": 2.0})  # fmt: skip
        assert stored.updated_at == T0

    async def test_alerts_are_filtered_ordered_and_paginated(self, repos: Repositories) -> None:
        alerts = repos.alerts
        resolved = AlertState(severity="warning", resolved_at=T0, epoch=1)
        await alerts.save_alert(P2, D, GI, FIRING, 0, "behind", {}, [], T0)
        await alerts.save_alert(P, D2, GI, resolved, 0, "on_track", {}, [], T0)
        await alerts.save_alert(P, D, MADRID, AlertState(), 0, "on_track", {}, [], T0)
        await alerts.save_alert(P, D, GI, FIRING, 0, "behind", {}, [], T0)

        def keys(found: list[StoredAlert]) -> list[tuple[str, str, str]]:
            return [(a.plan, a.district, a.indicator) for a in found]

        assert keys(await alerts.alerts(None, None, None)) == [
            (P, D, GI), (P, D, MADRID), (P, D2, GI), (P2, D, GI),
        ]  # fmt: skip
        assert keys(await alerts.alerts("firing", None, None)) == [(P, D, GI), (P2, D, GI)]
        assert keys(await alerts.alerts("firing", None, None, plan=P2)) == [(P2, D, GI)]
        assert keys(await alerts.alerts("resolved", None, None)) == [(P, D2, GI)]
        assert keys(await alerts.alerts("inactive", D, None)) == [(P, D, MADRID)]
        assert keys(await alerts.alerts(None, None, GI, limit=1, offset=1)) == [(P, D2, GI)]


class ConclusionsContract(Backend):
    async def test_a_plan_is_concluded_once_and_its_outcomes_revised(
        self, repos: Repositories
    ) -> None:
        c = repos.conclusions
        achieved = Outcome(P, D, GI, "achieved", 7.0, 7.0, 0.0, "2025-12")
        closed = AlertState(severity="critical", resolved_at=T0, epoch=1)
        await repos.alerts.save_alert(P, D, GI, FIRING, 3, "behind", {}, [], T0)
        assert not await c.concluded(P)
        final = item("final")
        assert await c.conclude(P, [achieved], {(D, GI): 1},
                                [(D, GI, closed, "achieved", {"outcome": "achieved"})],
                                [("email", "c@cq.example", final)], T0, first=True)  # fmt: skip
        assert await c.concluded(P)
        assert not await c.concluded(P2)
        assert await c.outcomes(P) == {
            (D, GI): HeldOutcome(D, GI, "achieved", 7.0, 7.0, 0.0, "2025-12", 1)
        }
        assert await repos.alerts.alert(P, D, GI) == (closed, 0)
        [(_, recipient, queued, _)] = await repos.send_log.queued()
        assert (recipient, queued) == ("c@cq.example", final)
        assert not await c.conclude(P, [achieved], {(D, GI): 1}, [], [], T0, first=True)

        missed = replace(achieved, outcome="missed", value=6.0, shortfall=1.0)
        assert await c.conclude(P, [missed], {(D, GI): 2}, [], [], T0, first=False)
        assert (await c.outcomes(P))[(D, GI)] == HeldOutcome(
            D, GI, "missed", 6.0, 7.0, 1.0, "2025-12", 2
        )
        assert await c.outcomes(P2) == {}


class SendLogContract(Backend):
    async def test_notices_are_queued_once_and_logged_into_a_message(
        self, repos: Repositories
    ) -> None:
        log = repos.send_log
        told = [("email", "a@x.example", item()), ("email", "b@x.example", item())]
        await repos.alerts.save_alert(P, D, GI, FIRING, 0, "behind", {}, told, T0)
        await repos.alerts.save_alert(P, D, GI, FIRING, 0, "behind", {}, told[:1], T0)
        assert [(c, r, i) for c, r, i, _ in await log.queued()] == [(c, r, i) for c, r, i in told]
        assert {at for *_, at in await log.queued()} == {T0}
        await log.log_message("<m1@x>", "email", "a@x.example", "告警", b"mail", [item()], [], T0)
        await log.log_message("<m1@x>", "email", "a@x.example", "again", b"other", [], [], T0)
        await log.log_message("", "email", "b@x.example", "", b"", [], [item()], T0)
        assert await log.queued() == []
        assert await log.notified_recipients(P, D, GI, 1) == [("email", "a@x.example")]
        assert await log.notified_recipients(P, D, GI, 2) == []
        [message] = await log.send_log()
        assert (message.message_id, message.subject, message.items, message.status) == (
            "<m1@x>", "告警", [item().key], "sending",
        )  # fmt: skip
        assert (message.attempts, message.last_error, message.created_at, message.sent_at) == (
            0, None, T0, None,
        )  # fmt: skip

    async def test_statuses_attempts_and_retries(self, repos: Repositories) -> None:
        log = repos.send_log
        for n, at in enumerate((T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))):
            await log.log_message(f"<m{n}@x>", "email", "a@x.example", "s", b"p%d" % n,
                                  [item(repeat=n)], [], at)  # fmt: skip
        assert [m.message_id for m in await log.due_messages(T0 + timedelta(seconds=1))] == [
            "<m0@x>", "<m1@x>",
        ]  # fmt: skip
        [first, *_] = await log.due_messages(T0 + timedelta(seconds=5))
        assert (first.channel, first.recipient, first.payload, first.attempts) == (
            "email", "a@x.example", b"p0", 0,
        )  # fmt: skip
        later = T0 + timedelta(minutes=1)
        await log.set_status("<m0@x>", "transmitting", T0)
        await log.set_status("<m0@x>", "sent", later)
        await log.set_status("<m1@x>", "sending", T0, "refused", retry_at=later)
        await log.set_status("<m2@x>", "transmitting", T0)
        assert [m.message_id for m in await log.due_messages(later - timedelta(seconds=1))] == []
        [retry] = await log.due_messages(later)
        assert (retry.message_id, retry.attempts) == ("<m1@x>", 1)
        assert await log.recover_in_flight(later) == 1
        assert await log.recover_in_flight(later) == 0
        rows = {m.message_id: m for m in await log.send_log()}
        assert [m.message_id for m in await log.send_log()] == ["<m2@x>", "<m1@x>", "<m0@x>"]
        assert [m.message_id for m in await log.send_log(limit=1, offset=1)] == ["<m1@x>"]
        assert (rows["<m0@x>"].status, rows["<m0@x>"].attempts, rows["<m0@x>"].sent_at) == (
            "sent", 1, later,
        )  # fmt: skip
        assert (rows["<m1@x>"].status, rows["<m1@x>"].last_error) == ("sending", "refused")
        assert (rows["<m2@x>"].status, rows["<m2@x>"].attempts, rows["<m2@x>"].sent_at) == (
            "unconfirmed", 1, later,
        )  # fmt: skip
        assert rows["<m2@x>"].last_error == (
            "process stopped after the end of data was written: not resent"
        )


class SilencesContract(Backend):
    async def test_silences_are_listed_in_order_and_expired_once(self, repos: Repositories) -> None:
        s = repos.silences
        first = Silence("6c1f0d5e-0000-4000-8000-000000000001", (Matcher("district", D),),
                        T0, T0 + timedelta(days=1), "ops", "维护")  # fmt: skip
        not_g = Matcher("indicator", "g.*", is_regex=True, is_equal=False)
        later, end = T0 + timedelta(hours=1), T0 + timedelta(days=2)
        second = Silence("6c1f0d5e-0000-4000-8000-000000000002", (not_g,), later, end, "ops", "x")
        await s.add_silence(first)
        await s.add_silence(second)
        assert await s.silences() == [first, second]
        assert await s.silences(limit=1, offset=1) == [second]
        now = T0 + timedelta(minutes=30)
        assert await s.expire_silence(second.id, now)
        assert not await s.expire_silence(second.id, now)
        assert not await s.expire_silence("6c1f0d5e-0000-4000-8000-00000000ffff", now)
        assert (await s.silences())[1] == replace(second, starts_at=now, ends_at=now)
