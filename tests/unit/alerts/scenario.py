"""A small alerts service built on the in-memory fakes: the bundled 14th five-year plan, one
district official, one city official, an optional webhook, no waiting (for, hold-down,
group wait all zero)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from services.alerts.domain.recipients import Recipient, Recipients, Webhook
from services.alerts.metrics import AlertMetrics
from services.alerts.service.alerting import Alerting
from services.alerts.service.dispatch import Dispatcher
from services.alerts.service.policy import Policy
from services.alerts.service.ports import Repositories
from shared.indicator_events import IndicatorChanged, SeriesPoint
from shared.plan import default_plan_path, load_plan
from shared.plans import PlanSet
from tests.unit.alerts.fakes import FixedClock, Memory, RecordingSender, memory_repositories

PLAN = "chongqing-14th-fyp"
DAZU, GI = "500111", "geographical_indications"
OFFICIAL, CITY = "d@dazu.example", "c@cq.example"
BEHIND = [("2021-06", 1.0), ("2022-06", 2.0)]
ON_TRACK = [("2021-06", 1.0), ("2022-06", 6.0)]
NOW = datetime(2024, 6, 30, 4, 0, tzinfo=UTC)
POLICY = Policy(
    for_span=timedelta(0), hold_down=timedelta(0), repeat_interval=timedelta(days=1),
    group_wait=timedelta(0), retry_base=30.0, retry_max=600.0,
)  # fmt: skip
ROBOT = Webhook(name="robot", kind="wecom", url="https://robot.example/send", districts=(DAZU,))


def change(seq: int, series: list[tuple[str, float]], indicator: str = GI) -> IndicatorChanged:
    month, value = series[-1]
    return IndicatorChanged(
        plan=PLAN, district=DAZU, indicator=indicator, month=month, value=value,
        month_value=value, seq=seq, series=tuple(SeriesPoint(month=m, value=v) for m, v in series),
    )  # fmt: skip


@dataclass
class Service:
    memory: Memory
    repositories: Repositories
    clock: FixedClock
    alerting: Alerting
    dispatcher: Dispatcher
    mailer: RecordingSender = field(default_factory=RecordingSender)
    poster: RecordingSender = field(default_factory=RecordingSender)


def service(
    today: date | None = date(2024, 6, 30), webhook: bool = False, policy: Policy = POLICY
) -> Service:
    memory = Memory()
    repositories = memory_repositories(memory)
    recipients = Recipients(
        city=(Recipient(email=CITY),), districts={DAZU: (Recipient(email=OFFICIAL),)},
        webhooks=(ROBOT,) if webhook else (),
    )  # fmt: skip
    clock, metrics = FixedClock(NOW, today), AlertMetrics()
    plans = PlanSet([load_plan(default_plan_path())])
    alerting = Alerting(repositories, plans, recipients, policy, clock, metrics)
    mailer, poster = RecordingSender(), RecordingSender()
    dispatcher = Dispatcher(repositories, recipients, POLICY, clock, metrics, mailer, poster,
                            "IPR Watch <alerts@iprwatch.example>")  # fmt: skip
    return Service(memory, repositories, clock, alerting, dispatcher, mailer, poster)
