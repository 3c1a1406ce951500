"""The Grafana dashboards as code: `python deploy/grafana/generate.py` writes dashboards/*.json.

Edit the panels here, run the script, commit both; tests/observability/test_dashboards.py checks
that the JSON files are what this script writes. District and indicator names in the tables
come from the bundled plan file.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
PLAN_FILE = HERE.parent / "plans" / "chongqing-14th-fyp.yaml"
OUT = HERE / "dashboards"
DS = {"type": "prometheus", "uid": "iprwatch-prometheus"}
Json = dict[str, Any]


@cache
def names() -> tuple[dict[str, str], dict[str, str]]:
    """(district code -> Chinese name, indicator key -> Chinese name), from the plan file."""
    plan = yaml.safe_load(PLAN_FILE.read_text())
    area = plan.get("area") or plan["city"]
    districts = {area["code"]: area["name_zh"]}
    districts.update({d["code"]: d["name_zh"] for d in plan["districts"]})
    return districts, {k: v["name_zh"] for k, v in plan["indicators"].items()}


def mapping(names: dict[str, str]) -> list[Json]:
    return [
        {
            "type": "value",
            "options": {
                code: {"text": f"{name} ({code})" if code.isdigit() else name, "index": i}
                for i, (code, name) in enumerate(names.items())
            },
        }
    ]


def label_overrides() -> list[Json]:
    return [
        {
            "matcher": {"id": "byRegexp", "options": "^district"},
            "properties": [
                {"id": "mappings", "value": mapping(names()[0])},
                {"id": "displayName", "value": "区县 District"},
                {"id": "unit", "value": "none"},
            ],
        },
        {
            "matcher": {"id": "byName", "options": "indicator"},
            "properties": [
                {"id": "mappings", "value": mapping(names()[1])},
                {"id": "displayName", "value": "指标 Indicator"},
                {"id": "unit", "value": "none"},
            ],
        },
    ]


STATUS_STEPS: list[Json] = [
    {"color": "red", "value": None},
    {"color": "orange", "value": 0.9},
    {"color": "yellow", "value": 0.95},
    {"color": "green", "value": 1},
]
PROGRESS_STEPS: list[Json] = [
    {"color": "red", "value": None},
    {"color": "yellow", "value": 0.5},
    {"color": "green", "value": 1},
]
NEUTRAL_STEPS: list[Json] = [{"color": "blue", "value": None}]


def target(
    ref: str, expr: str, legend: str = "", instant: bool = False, table: bool = False
) -> Json:
    t: Json = {
        "datasource": DS,
        "refId": ref,
        "expr": expr,
        "range": not instant,
        "instant": instant,
    }
    if legend:
        t["legendFormat"] = legend
    if table:
        t["format"] = "table"
    return t


def panel(
    kind: str,
    title: str,
    description: str,
    targets: list[Json],
    unit: str,
    w: int = 12,
    h: int = 8,
    steps: list[Json] | None = None,
    extra: Json | None = None,
    **cfg: Any,
) -> Json:
    defaults: Json = {
        "unit": unit,
        "thresholds": {"mode": "absolute", "steps": steps or NEUTRAL_STEPS},
        "color": {"mode": "thresholds" if steps else "palette-classic"},
    }
    defaults.update(cfg.pop("defaults", {}))
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": cfg.pop("overrides", [])},
        "options": cfg.pop("options", {}),
        "_w": w,
        "_h": h,
    }
    p.update(extra or {})
    p.update(cfg)
    return p


def layout(panels: list[Json]) -> list[Json]:
    x = y = row_h = 0
    for i, p in enumerate(panels, start=1):
        w, h = p.pop("_w"), p.pop("_h")
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["id"] = i
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x += w
        row_h = max(row_h, h)
    return panels


def dashboard(
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    panels: list[Json],
    variables: tuple[Json, ...] = (),
    refresh: str = "30s",
    time: str = "now-6h",
) -> Json:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["iprwatch", *tags],
        "timezone": "Asia/Shanghai",
        "editable": True,
        "graphTooltip": 1,
        "refresh": refresh,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": time, "to": "now"},
        "templating": {"list": list(variables)},
        "annotations": {"list": []},
        "links": [
            {"title": t, "type": "link", "url": f"/d/{u}", "targetBlank": False}
            for t, u in LINKS
            if u != uid
        ],
        "panels": layout(panels),
    }


LINKS = [
    ("规划进度 Plan progress", "iprwatch-plan-progress"),
    ("区县详情 District detail", "iprwatch-district-detail"),
    ("管道健康 Pipeline health", "iprwatch-pipeline-health"),
]

STAT: Json = {
    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    "colorMode": "value",
    "graphMode": "area",
    "textMode": "auto",
    "justifyMode": "auto",
    "orientation": "auto",
}
TABLE_OPTIONS: Json = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
TS_OPTIONS: Json = {
    "legend": {
        "displayMode": "table",
        "placement": "bottom",
        "showLegend": True,
        "calcs": ["lastNotNull", "max"],
    },
    "tooltip": {"mode": "multi", "sort": "desc"},
}


def city_stat(indicator: str, title: str, description: str, decimals: int = 0) -> Json:
    return panel(
        "stat",
        title,
        description,
        [
            target(
                "A",
                f'ipr_indicator_value{{district="500000", indicator="{indicator}"}}',
                legend=names()[1][indicator],
            )
        ],
        "short",
        w=6,
        h=5,
        options=STAT,
        defaults={"decimals": decimals},
    )


def merged_table(
    title: str, description: str, columns: list[tuple[str, str, str]], w: int = 24, h: int = 12
) -> Json:
    """A table joining several instant queries on (district, indicator)."""
    targets = [
        target(chr(65 + i), expr, instant=True, table=True)
        for i, (expr, _, _) in enumerate(columns)
    ]
    overrides = label_overrides()
    rename = {"district": "district", "indicator": "indicator"}
    for i, (_, name, unit) in enumerate(columns):
        field = f"Value #{chr(65 + i)}"
        rename[field] = name
        props: list[Json] = [{"id": "unit", "value": unit}]
        if unit == "percentunit":
            steps = STATUS_STEPS if "路径" in name else PROGRESS_STEPS
            props += [
                {"id": "thresholds", "value": {"mode": "absolute", "steps": steps}},
                {"id": "custom.cellOptions", "value": {"type": "color-background"}},
                {"id": "decimals", "value": 1},
            ]
        overrides.append({"matcher": {"id": "byName", "options": name}, "properties": props})
    return panel(
        "table",
        title,
        description,
        targets,
        "short",
        w=w,
        h=h,
        options={**TABLE_OPTIONS, "sortBy": [{"displayName": "区县 District", "desc": False}]},
        overrides=overrides,
        transformations=[
            {"id": "merge", "options": {}},
            {
                "id": "organize",
                "options": {
                    "excludeByName": {
                        "Time": True,
                        "job": True,
                        "instance": True,
                        "__name__": True,
                    },
                    "indexByName": {"district": 0, "indicator": 1},
                    "renameByName": rename,
                },
            },
        ],
    )


# ------------------------------------------------------------------------------------------
def plan_progress() -> Json:
    return dashboard(
        "iprwatch-plan-progress",
        "规划进度 · 重庆市知识产权“十四五”规划",
        "Plan progress: the city (500000) and each of the 38 districts and counties against "
        "Chongqing's 14th Five-Year IP plan: current values, targets, the share of the planned "
        "change achieved, and the status against the plan's required path.",
        ["plan"],
        [
            city_stat(
                "valid_invention_patents",
                "全市有效发明专利",
                "City: valid invention patents in force (stock, count).",
            ),
            city_stat(
                "invention_patents_per_10k_population",
                "全市万人发明专利拥有量",
                "City: valid invention patents per 10,000 population.",
                decimals=2,
            ),
            city_stat(
                "valid_registered_trademarks",
                "全市有效注册商标",
                "City: valid registered trademarks (stock, count).",
            ),
            panel(
                "stat",
                "规划告警 Plan alerts firing",
                "Plan alerts firing now, by severity, from the alerts service (0 = none).",
                [
                    target(
                        "A",
                        "sum by (severity) (severity:ipr_alert_firing:sum) "
                        'or on() label_replace(vector(0), "severity", "none", "", "")',
                        legend="{{severity}}",
                    )
                ],
                "none",
                w=6,
                h=5,
                steps=[{"color": "green", "value": None}, {"color": "red", "value": 1}],
                options={**STAT, "graphMode": "none"},
            ),
            merged_table(
                "全市对照规划 City against the plan",
                "City (500000): each indicator's value, 2025 target, the value the plan's path "
                "requires today, the share of the planned change achieved (progress) and the value "
                "as a share of the required value (status: green on or above the path, yellow "
                "within 5%, orange within 10%, red further behind).",
                [
                    (
                        'max by (district, indicator) (ipr_indicator_value{district="500000"})',
                        "当前值 Value",
                        "short",
                    ),
                    (
                        'max by (district, indicator) (ipr_indicator_required{district="500000"})',
                        "规划路径值 Required today",
                        "short",
                    ),
                    (
                        'max by (district, indicator) (ipr_indicator_target{district="500000"})',
                        "2025目标 Target",
                        "short",
                    ),
                ],
                h=10,
            ),
            merged_table(
                "各区县进度 Districts against the plan",
                "Every (district, indicator) with a target: value, 2025 target, share of the "
                "planned change achieved (ipr_indicator_progress_ratio) and value as a share of "
                "the "
                "required value today (status colours as above). Districts without published "
                "baselines report changes since 2020-12-31.",
                [
                    (
                        "max by (district, indicator) (ipr_indicator_value)"
                        " and on (district, indicator) ipr_indicator_target",
                        "当前值 Value",
                        "short",
                    ),
                    (
                        "max by (district, indicator) (ipr_indicator_target)",
                        "2025目标 Target",
                        "short",
                    ),
                    (
                        "max by (district, indicator) (ipr_indicator_progress_ratio)",
                        "完成度 Progress",
                        "percentunit",
                    ),
                    (
                        "district_indicator:ipr_indicator_value_to_required:ratio",
                        "对照路径 Value / required",
                        "percentunit",
                    ),
                    (
                        "district_indicator:ipr_indicator_forecast_to_target:ratio",
                        "预测/目标 Forecast / target",
                        "percentunit",
                    ),
                ],
                h=10,
            ),
            panel(
                "bargauge",
                "规划变化完成度 Share of planned change achieved",
                "Share of the planned change from the 2020 baseline to the 2025 target achieved so "
                "far, per district and indicator (1 = target reached).",
                [
                    target(
                        "A",
                        "max by (district, indicator) (ipr_indicator_progress_ratio)",
                        legend="{{district}} {{indicator}}",
                        instant=True,
                    )
                ],
                "percentunit",
                w=12,
                h=10,
                steps=PROGRESS_STEPS,
                defaults={"min": 0, "max": 1},
                options={
                    "orientation": "horizontal",
                    "displayMode": "gradient",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "showUnfilled": True,
                },
            ),
            panel(
                "bargauge",
                "对照规划路径 Status against the required path",
                "Value as a share of the value the plan's path requires today: green at or above "
                "the path, yellow within 5%, orange within 10%, red further behind.",
                [
                    target(
                        "A",
                        "district_indicator:ipr_indicator_value_to_required:ratio",
                        legend="{{district}} {{indicator}}",
                        instant=True,
                    )
                ],
                "percentunit",
                w=12,
                h=10,
                steps=STATUS_STEPS,
                defaults={"min": 0, "max": 1.2},
                options={
                    "orientation": "horizontal",
                    "displayMode": "lcd",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "showUnfilled": True,
                },
            ),
            panel(
                "table",
                "各区县指标值 District values",
                "Every district's current value of every indicator (500000 = the city).",
                [
                    target(
                        "A",
                        "max by (district, indicator) (ipr_indicator_value)",
                        instant=True,
                        table=True,
                    )
                ],
                "short",
                w=24,
                h=12,
                options=TABLE_OPTIONS,
                overrides=label_overrides(),
                transformations=[
                    {"id": "organize", "options": {"excludeByName": {"Time": True}}},
                    {
                        "id": "groupingToMatrix",
                        "options": {
                            "columnField": "indicator",
                            "rowField": "district",
                            "valueField": "Value",
                        },
                    },
                ],
            ),
            panel(
                "barchart",
                "各区县有效发明专利 Valid invention patents by district",
                "Valid invention patents per district (changes since 2020-12-31 where no district "
                "baseline is published).",
                [
                    target(
                        "A",
                        'max by (district) (ipr_indicator_value{district!="500000", '
                        'indicator="valid_invention_patents"})',
                        instant=True,
                        table=True,
                    )
                ],
                "short",
                w=24,
                h=9,
                options={
                    "orientation": "vertical",
                    "xField": "district",
                    "showValue": "auto",
                    "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom"},
                },
                overrides=label_overrides()[:1],
                transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
            ),
            panel(
                "timeseries",
                "全市指标走势 City indicators over time",
                "City values of every indicator as Prometheus scraped them over the dashboard's "
                "time range (wall-clock time, not the acts' dates).",
                [target("A", 'ipr_indicator_value{district="500000"}', legend="{{indicator}}")],
                "short",
                w=24,
                h=9,
                options=TS_OPTIONS,
            ),
        ],
    )


DISTRICT_VAR: Json = {
    "name": "district",
    "label": "区县 District",
    "type": "query",
    "datasource": DS,
    "query": {"query": "label_values(ipr_indicator_value, district)", "refId": "district"},
    "definition": "label_values(ipr_indicator_value, district)",
    "current": {"text": "500000", "value": "500000"},
    "refresh": 2,
    "sort": 3,
    "multi": False,
    "includeAll": False,
}
INDICATOR_VAR: Json = {
    "name": "indicator",
    "label": "指标 Indicator",
    "type": "query",
    "datasource": DS,
    "query": {
        "query": 'label_values(ipr_indicator_value{district="$district"}, indicator)',
        "refId": "indicator",
    },
    "definition": 'label_values(ipr_indicator_value{district="$district"}, indicator)',
    "current": {"text": "All", "value": "$__all"},
    "refresh": 2,
    "sort": 1,
    "multi": True,
    "includeAll": True,
}


def district_detail() -> Json:
    return dashboard(
        "iprwatch-district-detail",
        "区县详情 · $district",
        "District detail: pick a district (500000 = the city); each indicator's value over time "
        "with the plan's required path, the 2025 target and the forecast for the target date, "
        "and the plan alerts of that district.",
        ["plan", "district"],
        [
            merged_table(
                "指标一览 Indicators of the district",
                "Each indicator of the chosen district: value, the value the plan's path requires "
                "today, the 2025 target, the forecast at the target date and the share of the "
                "planned change achieved.",
                [
                    (
                        'max by (district, indicator) (ipr_indicator_value{district="$district"})',
                        "当前值 Value",
                        "short",
                    ),
                    (
                        "max by (district, indicator) "
                        '(ipr_indicator_required{district="$district"})',
                        "规划路径值 Required today",
                        "short",
                    ),
                    (
                        'max by (district, indicator) (ipr_indicator_target{district="$district"})',
                        "2025目标 Target",
                        "short",
                    ),
                    (
                        "max by (district, indicator) "
                        '(ipr_indicator_forecast{district="$district"})',
                        "预测 Forecast 2025",
                        "short",
                    ),
                    (
                        "max by (district, indicator) (ipr_indicator_progress_ratio"
                        '{district="$district"})',
                        "完成度 Progress",
                        "percentunit",
                    ),
                ],
                h=10,
            ),
            panel(
                "timeseries",
                "指标走势 $indicator",
                "One indicator of the district over the time range: actual value (实际), "
                "the plan's required path (规划路径), the 2025 target (目标) and the forecast "
                "at the target date (预测). Repeated for each selected indicator.",
                [
                    target(
                        "A",
                        'max by (indicator) (ipr_indicator_value{district="$district", '
                        'indicator="$indicator"})',
                        legend="实际 value",
                    ),
                    target(
                        "B",
                        'max by (indicator) (ipr_indicator_required{district="$district", '
                        'indicator="$indicator"})',
                        legend="规划路径 required",
                    ),
                    target(
                        "C",
                        'max by (indicator) (ipr_indicator_target{district="$district", '
                        'indicator="$indicator"})',
                        legend="目标 target",
                    ),
                    target(
                        "D",
                        'max by (indicator) (ipr_indicator_forecast{district="$district", '
                        'indicator="$indicator"})',
                        legend="预测 forecast",
                    ),
                ],
                "short",
                w=12,
                h=8,
                options=TS_OPTIONS,
                overrides=[
                    {
                        "matcher": {"id": "byName", "options": "目标 target"},
                        "properties": [
                            {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}
                        ],
                    },
                    {
                        "matcher": {"id": "byName", "options": "规划路径 required"},
                        "properties": [
                            {"id": "color", "value": {"mode": "fixed", "fixedColor": "orange"}}
                        ],
                    },
                ],
                extra={"repeat": "indicator", "repeatDirection": "h", "maxPerRow": 2},
            ),
            panel(
                "table",
                "本区县告警 Plan alerts of the district",
                "Plan alerts of the chosen district from the alerts service: 1 = firing, by "
                "indicator and severity.",
                [
                    target(
                        "A",
                        "max by (district, indicator, severity) "
                        '(ipr_alert_firing{district="$district"})',
                        instant=True,
                        table=True,
                    )
                ],
                "none",
                w=24,
                h=7,
                options=TABLE_OPTIONS,
                overrides=label_overrides(),
                steps=[{"color": "green", "value": None}, {"color": "red", "value": 1}],
                transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
            ),
        ],
        variables=(DISTRICT_VAR, INDICATOR_VAR),
        time="now-24h",
    )


RATE = "$__rate_interval"


def pipeline_health() -> Json:
    return dashboard(
        "iprwatch-pipeline-health",
        "管道健康 · IPR Watch",
        "Pipeline health: whether each service answers, ingest's event rate, refusals and Kafka "
        "acknowledgement latency, the fold's rate, consumer lag and batch latency, dead letters, "
        "and the alerts service's notifications.",
        ["pipeline"],
        [
            panel(
                "stat",
                "服务在线 Services up",
                "1 when Prometheus' last scrape of the service succeeded (UP), 0 when it failed.",
                [target("A", 'up{job=~"ingest|indicators|alerts"}', legend="{{job}}")],
                "none",
                w=12,
                h=4,
                steps=[{"color": "red", "value": None}, {"color": "green", "value": 1}],
                options={**STAT, "graphMode": "none", "colorMode": "background"},
                defaults={
                    "mappings": [
                        {
                            "type": "value",
                            "options": {
                                "0": {"text": "离线 DOWN", "index": 0},
                                "1": {"text": "在线 UP", "index": 1},
                            },
                        }
                    ]
                },
            ),
            panel(
                "stat",
                "管道告警 Pipeline alerts firing",
                "Prometheus alerting rules on the pipeline itself (deploy/prometheus/rules/"
                "alerts.yml) that fire now (0 = none).",
                [
                    target(
                        "A",
                        'count(ALERTS{alertname=~"Ipr.*", alertstate="firing"}) or vector(0)',
                        legend="firing",
                    )
                ],
                "none",
                w=12,
                h=4,
                steps=[{"color": "green", "value": None}, {"color": "red", "value": 1}],
                options={**STAT, "graphMode": "none"},
            ),
            panel(
                "timeseries",
                "接收速率 Events accepted by type",
                "Events per second that Kafka acknowledged through ingest, by CloudEvents type.",
                [
                    target(
                        "A",
                        f"sum by (type) (rate(ipr_ingest_events_accepted_total[{RATE}]))",
                        legend="{{type}}",
                    )
                ],
                "cps",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "拒收 Events refused by reason",
                "Events per second that ingest refused (contract or plan violations), by reason.",
                [
                    target(
                        "A",
                        f"sum by (reason) (rate(ipr_ingest_events_rejected_total[{RATE}]))",
                        legend="{{reason}}",
                    )
                ],
                "cps",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "HTTP 请求 Ingest HTTP requests by route and status",
                "Requests per second ingest answered, by route and HTTP status (202 accepted, 4xx "
                "refused, 503 while Kafka is unreachable).",
                [
                    target(
                        "A",
                        f"sum by (route, status) (rate(ipr_ingest_http_requests_total[{RATE}]))",
                        legend="{{route}} {{status}}",
                    )
                ],
                "reqps",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "HTTP 耗时 Ingest HTTP latency by route",
                "Time ingest took to answer a request, 99th percentile, by route.",
                [
                    target(
                        "A",
                        "histogram_quantile(0.99, sum by (le, route) "
                        f"(rate(ipr_ingest_http_request_duration_seconds_bucket[{RATE}])))",
                        legend="p99 {{route}}",
                    )
                ],
                "s",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "Kafka 确认耗时 Publish latency",
                "Time until Kafka acknowledged a request's events: median and 99th percentile.",
                [
                    target(
                        "A",
                        "histogram_quantile(0.5, sum by (le) "
                        f"(rate(ipr_ingest_publish_duration_seconds_bucket[{RATE}])))",
                        legend="p50",
                    ),
                    target(
                        "B",
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(ipr_ingest_publish_duration_seconds_bucket[{RATE}])))",
                        legend="p99",
                    ),
                ],
                "s",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "折叠速率 Fold rate by outcome",
                "Records folded per second by outcome: applied (moved totals), duplicate (an act "
                "already counted), skipped (dated in the baseline).",
                [
                    target(
                        "A",
                        f"sum by (outcome) (rate(ipr_fold_events_total[{RATE}]))",
                        legend="{{outcome}}",
                    )
                ],
                "cps",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "消费积压 Consumer lag by partition",
                "Records on ipr.events.v1 not yet folded, per partition.",
                [
                    target(
                        "A",
                        "sum by (partition) (ipr_fold_consumer_lag)",
                        legend="partition {{partition}}",
                    )
                ],
                "short",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "批处理耗时 Fold batch duration",
                "Time to fold one batch in one PostgreSQL transaction: median and 99th percentile.",
                [
                    target(
                        "A",
                        "histogram_quantile(0.5, sum by (le) "
                        f"(rate(ipr_fold_batch_duration_seconds_bucket[{RATE}])))",
                        legend="p50",
                    ),
                    target(
                        "B",
                        "histogram_quantile(0.99, sum by (le) "
                        f"(rate(ipr_fold_batch_duration_seconds_bucket[{RATE}])))",
                        legend="p99",
                    ),
                ],
                "s",
                options=TS_OPTIONS,
            ),
            panel(
                "stat",
                "死信 Dead letters by reason",
                "Events sent to the dead-letter topic since the indicators service started, by "
                "reason (0 is the healthy value).",
                [target("A", "sum by (reason) (ipr_fold_dead_letters_total)", legend="{{reason}}")],
                "short",
                w=12,
                steps=[{"color": "green", "value": None}, {"color": "red", "value": 1}],
                options={**STAT, "graphMode": "area"},
            ),
            panel(
                "timeseries",
                "告警服务消费 Indicator changes consumed by alerts",
                "Indicator changes per second the alerts service consumed from ipr.indicators.v1, "
                "by outcome.",
                [
                    target(
                        "A",
                        f"sum by (outcome) (rate(ipr_alerts_indicator_changes_total[{RATE}]))",
                        legend="{{outcome}}",
                    )
                ],
                "cps",
                options=TS_OPTIONS,
            ),
            panel(
                "timeseries",
                "通知 Notifications by channel",
                "Notifications per second the alerts service sent and failed to send, by channel.",
                [
                    target(
                        "A",
                        f"sum by (channel) (rate(ipr_notifications_sent_total[{RATE}]))",
                        legend="sent {{channel}}",
                    ),
                    target(
                        "B",
                        f"sum by (channel) (rate(ipr_notifications_failed_total[{RATE}]))",
                        legend="failed {{channel}}",
                    ),
                ],
                "cps",
                w=24,
                options=TS_OPTIONS,
                overrides=[
                    {
                        "matcher": {"id": "byRegexp", "options": "failed.*"},
                        "properties": [
                            {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}
                        ],
                    }
                ],
            ),
        ],
        refresh="10s",
        time="now-1h",
    )


def build() -> dict[str, str]:
    """File name -> the JSON text of each dashboard."""
    boards = {
        "plan-progress.json": plan_progress(),
        "district-detail.json": district_detail(),
        "pipeline-health.json": pipeline_health(),
    }
    return {name: json.dumps(b, ensure_ascii=False, indent=2) + "\n" for name, b in boards.items()}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in build().items():
        (OUT / name).write_text(text)


if __name__ == "__main__":
    main()
