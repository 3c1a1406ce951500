"""区县详情 District detail: one division of the chosen plan, indicator by indicator."""

from __future__ import annotations

from grafana_foundation_sdk.builders import table, timeseries
from grafana_foundation_sdk.builders.dashboard import QueryVariable
from grafana_foundation_sdk.models import dashboard as model

from iprwatch_grafana.common import (
    DS,
    PLAN,
    STATUS_RULE,
    Json,
    PanelBuilder,
    by_thresholds,
    dashboard,
    default_plan,
    hide,
    labelled_table,
    legend_table,
    merged_table,
    plan_variable,
    plans,
    prop,
    query,
    steps,
    tooltip_all,
    variable,
)

KEY = "plan, district, indicator"
HERE = f'{PLAN}, district="$district"'
ONE = f'{HERE}, indicator="$indicator"'


def district_variable() -> QueryVariable:
    """`$district`: the divisions (and the area) of the chosen plan; default its area."""
    area = plans().get(default_plan()).area.code
    return variable(
        "district", "区县 District", f"ipr_indicator_value{{{PLAN}}}", "district", area
    ).sort(model.VariableSort.NUMERICAL_ASC)


def indicator_variable() -> QueryVariable:
    return (
        variable("indicator", "指标 Indicator", f"ipr_indicator_value{{{HERE}}}", "indicator")
        .current(model.VariableOption(text="All", value="$__all"))
        .sort(model.VariableSort.ALPHABETICAL_ASC).multi(True).include_all(True)
    )  # fmt: skip


def overview() -> table.Panel:
    return merged_table(
        "指标一览 Indicators of the division",
        "Each indicator of the chosen division in the chosen plan: value, the value the plan's "
        "path requires today, the plan's target, the forecast at the target date, the share of "
        "the planned change achieved and the status (shared/status.py).",
        [(f"max by ({KEY}) (ipr_indicator_value{{{HERE}}})", "当前值 Value", "short"),
         (f"max by ({KEY}) (ipr_indicator_required{{{HERE}}})", "规划路径值 Required today",
          "short"),
         (f"max by ({KEY}) (ipr_indicator_target{{{HERE}}})", "目标 Target", "short"),
         (f"max by ({KEY}) (ipr_indicator_forecast{{{HERE}}})", "预测 Forecast", "short"),
         (f"max by ({KEY}) (ipr_indicator_progress_ratio{{{HERE}}})", "完成度 Progress",
          "percentunit"),
         (f"max by ({KEY}) ({STATUS_RULE}{{{HERE}}})", "状态 Status", "status")],
    )  # fmt: skip


def trend() -> timeseries.Panel:
    series = [
        ("ipr_indicator_value", "实际 value"),
        ("ipr_indicator_required", "规划路径 required"),
        ("ipr_indicator_target", "目标 target"),
        ("ipr_indicator_forecast", "预测 forecast"),
    ]
    panel = (
        timeseries.Panel().title("指标走势 $indicator").datasource(DS).unit("short")
        .description("One indicator of the division in the chosen plan over the time range: "
                     "actual value (实际), the plan's required path (规划路径), the target "
                     "(目标) and the forecast at the target date (预测). Repeated for each "
                     "selected indicator.")
        .legend(legend_table()).tooltip(tooltip_all())
        .repeat("indicator").repeat_direction("h").max_per_row(2)
        .override_by_name("目标 target", [prop("custom.lineStyle",
                                               {"fill": "dash", "dash": [10, 10]})])
        .override_by_name("规划路径 required", [prop("color",
                                                     {"mode": "fixed", "fixedColor": "#E69F00"})])
    )  # fmt: skip
    for i, (metric, legend) in enumerate(series):
        expr = f"max by (indicator) ({metric}{{{ONE}}})"
        panel = panel.with_target(query(chr(65 + i), expr, legend=legend))
    return panel


def alerts() -> table.Panel:
    return labelled_table(
        table.Panel().title("本区县告警 Plan alerts of the division").datasource(DS).unit("none")
        .description("Plan alerts of the chosen division in the chosen plan from the alerts "
                     "service: 1 = firing, by indicator and severity.")
        .with_target(query("A", f"max by ({KEY}, severity) (ipr_alert_firing{{{HERE}}})",
                           instant=True, as_table=True))
        .thresholds(steps((None, "green"), (1, "red"))).color_scheme(by_thresholds())
        .with_transformation(hide("Time", "plan"))
    )  # fmt: skip


def district_detail() -> Json:
    panels: list[tuple[PanelBuilder, int, int]] = [
        (overview(), 24, 10),
        (trend(), 12, 8),
        (alerts(), 24, 7),
    ]
    return dashboard(
        "iprwatch-district-detail",
        "区县详情 · $district · $plan",
        "District detail: pick a plan and one of its divisions (or its area); each indicator's "
        "value over time with the plan's required path, target and forecast for the target "
        "date, its status, and the plan alerts of that division.",
        ["plan", "district"],
        panels,
        variables=[plan_variable(), district_variable(), indicator_variable()],
        since="now-24h",
    )
