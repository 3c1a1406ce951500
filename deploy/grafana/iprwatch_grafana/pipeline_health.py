"""管道健康 Pipeline health: the services, ingest, the fold, dead letters and notifications.

No plan here: the pipeline's metrics belong to no plan."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from iprwatch_grafana.common import (
    DS,
    Json,
    PanelBuilder,
    by_thresholds,
    dashboard,
    legend_table,
    prop,
    query,
    reduce_last,
    steps,
    tooltip_all,
)

RATE = "$__rate_interval"


def counter(title: str, description: str, unit: str, *exprs: tuple[str, str]) -> timeseries.Panel:
    """A time series panel of one or more queries (expression, legend)."""
    panel = (
        timeseries.Panel().title(title).description(description).datasource(DS).unit(unit)
        .legend(legend_table()).tooltip(tooltip_all())
    )  # fmt: skip
    for i, (expr, legend) in enumerate(exprs):
        panel = panel.with_target(query(chr(65 + i), expr, legend=legend))
    return panel


def quantiles(title: str, description: str, histogram: str) -> timeseries.Panel:
    return counter(
        title, description, "s",
        *[(f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket[{RATE}])))", f"p{p}")
          for q, p in ((0.5, 50), (0.99, 99))],
    )  # fmt: skip


def services_up() -> stat.Panel:
    return (
        stat.Panel().title("服务在线 Services up").datasource(DS).unit("none")
        .description("1 when Prometheus' last scrape of the service succeeded (UP), 0 when it "
                     "failed.")
        .with_target(query("A", 'up{job=~"ingest|indicators|alerts"}', legend="{{job}}"))
        .reduce_options(reduce_last()).graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .thresholds(steps((None, "red"), (1, "green"))).color_scheme(by_thresholds())
        .mappings([model.ValueMap(options={
            "0": model.ValueMappingResult(text="离线 DOWN", index=0),
            "1": model.ValueMappingResult(text="在线 UP", index=1)})])
    )  # fmt: skip


def alerts_firing() -> stat.Panel:
    return (
        stat.Panel().title("管道告警 Pipeline alerts firing").datasource(DS).unit("none")
        .description("Prometheus alerting rules on the pipeline itself (deploy/prometheus/"
                     "rules/alerts.yml) that fire now (0 = none).")
        .with_target(query("A", 'count(ALERTS{alertname=~"Ipr.*", alertstate="firing"}) '
                                "or vector(0)", legend="firing"))
        .reduce_options(reduce_last()).graph_mode(common.BigValueGraphMode.NONE)
        .thresholds(steps((None, "green"), (1, "red"))).color_scheme(by_thresholds())
    )  # fmt: skip


def dead_letters() -> stat.Panel:
    return (
        stat.Panel().title("死信 Dead letters by reason").datasource(DS).unit("short")
        .description("Events sent to the dead-letter topic since the indicators service "
                     "started, by reason (0 is the healthy value).")
        .with_target(query("A", "sum by (reason) (ipr_fold_dead_letters_total)",
                           legend="{{reason}}"))
        .reduce_options(reduce_last()).graph_mode(common.BigValueGraphMode.AREA)
        .thresholds(steps((None, "green"), (1, "red"))).color_scheme(by_thresholds())
    )  # fmt: skip


def pipeline_health() -> Json:
    panels: list[tuple[PanelBuilder, int, int]] = [
        (services_up(), 12, 4),
        (alerts_firing(), 12, 4),
        (counter("接收速率 Events accepted by type",
                 "Events per second that Kafka acknowledged through ingest, by CloudEvents type.",
                 "cps", (f"sum by (type) (rate(ipr_ingest_events_accepted_total[{RATE}]))",
                         "{{type}}")), 12, 8),
        (counter("拒收 Events refused by reason",
                 "Events per second that ingest refused (contract or plan violations), by "
                 "reason.",
                 "cps", (f"sum by (reason) (rate(ipr_ingest_events_rejected_total[{RATE}]))",
                         "{{reason}}")), 12, 8),
        (counter("HTTP 请求 Ingest HTTP requests by route and status",
                 "Requests per second ingest answered, by route and HTTP status (202 accepted, "
                 "4xx refused, 503 while Kafka is unreachable).",
                 "reqps", (f"sum by (route, status) (rate(ipr_ingest_http_requests_total"
                           f"[{RATE}]))", "{{route}} {{status}}")), 12, 8),
        (counter("HTTP 耗时 Ingest HTTP latency by route",
                 "Time ingest took to answer a request, 99th percentile, by route.",
                 "s", ("histogram_quantile(0.99, sum by (le, route) "
                       f"(rate(ipr_ingest_http_request_duration_seconds_bucket[{RATE}])))",
                       "p99 {{route}}")), 12, 8),
        (quantiles("Kafka 确认耗时 Publish latency",
                   "Time until Kafka acknowledged a request's events: median and 99th "
                   "percentile.", "ipr_ingest_publish_duration_seconds"), 12, 8),
        (counter("折叠速率 Fold rate by outcome",
                 "Records folded per second by outcome: applied (moved totals), duplicate (an "
                 "act already counted), skipped (not countable).",
                 "cps", (f"sum by (outcome) (rate(ipr_fold_events_total[{RATE}]))",
                         "{{outcome}}")), 12, 8),
        (counter("消费积压 Consumer lag by partition",
                 "Records on ipr.events.v1 not yet folded, per partition.",
                 "short", ("sum by (partition) (ipr_fold_consumer_lag)",
                           "partition {{partition}}")), 12, 8),
        (quantiles("批处理耗时 Fold batch duration",
                   "Time to fold one batch in one PostgreSQL transaction: median and 99th "
                   "percentile.", "ipr_fold_batch_duration_seconds"), 12, 8),
        (dead_letters(), 12, 8),
        (counter("告警服务消费 Indicator changes consumed by alerts",
                 "Indicator changes per second the alerts service consumed from "
                 "ipr.indicators.v1, by outcome.",
                 "cps", (f"sum by (outcome) (rate(ipr_alerts_indicator_changes_total[{RATE}]))",
                         "{{outcome}}")), 12, 8),
        (counter("通知 Notifications by channel",
                 "Notifications per second the alerts service sent and failed to send, by "
                 "channel.", "cps",
                 (f"sum by (channel) (rate(ipr_notifications_sent_total[{RATE}]))",
                  "sent {{channel}}"),
                 (f"sum by (channel) (rate(ipr_notifications_failed_total[{RATE}]))",
                  "failed {{channel}}"))
         .override_by_regexp("failed.*", [prop("color", {"mode": "fixed", "fixedColor": "red"})]),
         24, 8),
    ]  # fmt: skip
    return dashboard(
        "iprwatch-pipeline-health",
        "管道健康 · IPR Watch",
        "Pipeline health: whether each service answers, ingest's event rate, refusals and Kafka "
        "acknowledgement latency, the fold's rate, consumer lag and batch latency, dead "
        "letters, and the alerts service's notifications.",
        ["pipeline"],
        panels,
        refresh="10s",
        since="now-1h",
    )
