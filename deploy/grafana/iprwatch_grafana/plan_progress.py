"""规划进度 Plan progress: the chosen plan's area and every division against the plan."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, stat, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from iprwatch_grafana.common import (
    DS,
    PLAN,
    STATUS,
    STATUS_RULE,
    Json,
    PanelBuilder,
    area,
    by_thresholds,
    colour_cells,
    dashboard,
    hide,
    labelled_table,
    legend_table,
    merged_table,
    names,
    plan_variable,
    prop,
    query,
    reduce_last,
    status_mappings,
    steps,
    tooltip_all,
)

KEY = "plan, district, indicator"


def area_values() -> stat.Panel:
    panel = (
        stat.Panel().title("全域指标 Area values").datasource(DS).unit("short")
        .description("The chosen plan's area (the city, the province or the nation: the sum of "
                     "its divisions): the current value of every indicator the plan follows.")
        .with_target(query("A", f"max by (indicator) ({area('ipr_indicator_value')})",
                           legend="{{indicator}}"))
        .reduce_options(reduce_last()).graph_mode(common.BigValueGraphMode.AREA)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
    )  # fmt: skip
    for key, name in names()[1].items():
        panel = panel.override_by_name(key, [prop("displayName", name)])
    return panel


def status_counts() -> stat.Panel:
    """How many (division, indicator) pairs of the plan stand at each status."""
    panel = (
        stat.Panel().title("状态分布 Status count").datasource(DS).unit("none")
        .description("Number of (division, indicator) pairs of the plan at each status of "
                     "the one status definition (shared/status.py): behind and at risk as the "
                     "alerts service fires them, an ended plan's outcome at the target date, "
                     "on track, no target published, no data yet.")
        .reduce_options(reduce_last()).graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
    )  # fmt: skip
    for code, key, zh, colour in reversed(STATUS):
        ref = chr(65 + 4 - code)
        expr = f"count({STATUS_RULE}{{{PLAN}}} == {code}) or vector(0)"
        name = f"{zh} {key}"
        panel = panel.with_target(query(ref, expr, legend=name)).override_by_name(
            name, [prop("color", {"mode": "fixed", "fixedColor": colour})]
        )
    return panel


def alerts_firing() -> stat.Panel:
    return (
        stat.Panel().title("规划告警 Plan alerts firing").datasource(DS).unit("none")
        .description("Plan alerts of the chosen plan firing now, by severity, from the alerts "
                     "service (none 0 = nothing fires).")
        .with_target(query(
            "A", f"sum by (severity) (plan_severity:ipr_alert_firing:sum{{{PLAN}}}) "
                 'or on() label_replace(vector(0), "severity", "none", "", "")',
            legend="{{severity}}"))
        .reduce_options(reduce_last()).graph_mode(common.BigValueGraphMode.NONE)
        .thresholds(steps((None, "green"), (1, "red"))).color_scheme(by_thresholds())
    )  # fmt: skip


def status_matrix() -> table.Panel:
    """The division x indicator view: one row per division, one coloured cell per indicator."""
    return (
        labelled_table(table.Panel().title("状态矩阵 Status by division and indicator")
        .description("Every division (rows) and indicator (columns) of the chosen plan, "
                     "coloured by its status: green on track, orange at risk, vermillion "
                     "behind, blue no target, grey no data.")
        .datasource(DS).unit("none").mappings(status_mappings())
        .with_target(query("A", f"max by ({KEY}) ({STATUS_RULE}{{{PLAN}}})",
                           instant=True, as_table=True))
        .override_by_regexp("^[a-z_0-9]+$", [colour_cells()])
        .with_transformation(hide("Time", "plan"))
        .with_transformation(model.DataTransformerConfig(id_val="groupingToMatrix", options={
            "columnField": "indicator", "rowField": "district", "valueField": "Value"}))
        .cell_height(common.TableCellHeight.SM))
    )  # fmt: skip


def progress_bars() -> bargauge.Panel:
    return (
        bargauge.Panel().title("规划变化完成度 Share of planned change achieved").datasource(DS)
        .description("Share of the planned change from the plan's baseline to its target "
                     "achieved so far, per division and indicator with a target (1 = reached).")
        .unit("percentunit").min(0).max(1)
        .thresholds(steps((None, "#D55E00"), (0.5, "#E69F00"), (1, "#009E73")))
        .color_scheme(by_thresholds())
        .with_target(query("A", f"max by ({KEY}) (ipr_indicator_progress_ratio{{{PLAN}}})",
                           legend="{{district}} {{indicator}}", instant=True))
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .reduce_options(reduce_last()).show_unfilled(True)
    )  # fmt: skip


def values_matrix() -> table.Panel:
    return labelled_table(
        table.Panel().title("各区县指标值 Division values").datasource(DS).unit("short")
        .description("Every division's current value of every indicator of the chosen plan "
                     "(where a division has no published baseline: the change since the "
                     "plan's baseline date).")
        .with_target(query("A", f"max by ({KEY}) (ipr_indicator_value{{{PLAN}}})",
                           instant=True, as_table=True))
        .with_transformation(hide("Time", "plan"))
        .with_transformation(model.DataTransformerConfig(id_val="groupingToMatrix", options={
            "columnField": "indicator", "rowField": "district", "valueField": "Value"}))
        .cell_height(common.TableCellHeight.SM)
    )  # fmt: skip


def area_over_time() -> timeseries.Panel:
    return (
        timeseries.Panel().title("全域指标走势 Area indicators over time").datasource(DS)
        .description("The area's values of every indicator of the chosen plan as Prometheus "
                     "scraped them over the time range (wall-clock time, not the acts' dates).")
        .unit("short")
        .with_target(query("A", f"max by (indicator) ({area('ipr_indicator_value')})",
                           legend="{{indicator}}"))
        .legend(legend_table()).tooltip(tooltip_all())
    )  # fmt: skip


def plan_progress() -> Json:
    value = f"max by ({KEY}) (ipr_indicator_value{{{PLAN}}})"
    panels: list[tuple[PanelBuilder, int, int]] = [
        (area_values(), 24, 6),
        (status_counts(), 18, 5),
        (alerts_firing(), 6, 5),
        (merged_table(
            "全域对照规划 Area against the plan",
            "The chosen plan's area: each indicator's value, the value the plan's path requires "
            "today, the plan's target and the status (shared/status.py).",
            [(f"max by ({KEY}) ({area('ipr_indicator_value')})", "当前值 Value", "short"),
             (f"max by ({KEY}) ({area('ipr_indicator_required')})", "规划路径值 Required today",
              "short"),
             (f"max by ({KEY}) ({area('ipr_indicator_target')})", "目标 Target", "short"),
             (f"max by ({KEY}) ({area(STATUS_RULE)})", "状态 Status", "status")]), 24, 10),
        (merged_table(
            "各区县进度 Divisions against the plan",
            "Every (division, indicator) of the chosen plan with a target: value, target, share "
            "of the planned change achieved, value as a share of the value required today, "
            "forecast as a share of the target, and the status (shared/status.py).",
            [(f"{value} and on ({KEY}) ipr_indicator_target", "当前值 Value", "short"),
             (f"max by ({KEY}) (ipr_indicator_target{{{PLAN}}})", "目标 Target", "short"),
             (f"max by ({KEY}) (ipr_indicator_progress_ratio{{{PLAN}}})", "完成度 Progress",
              "percentunit"),
             (f"plan_district_indicator:ipr_indicator_value_to_required:ratio{{{PLAN}}}",
              "对照路径 Value / required", "percentunit"),
             (f"plan_district_indicator:ipr_indicator_forecast_to_target:ratio{{{PLAN}}}",
              "预测/目标 Forecast / target", "percentunit"),
             (f"max by ({KEY}) ({STATUS_RULE}{{{PLAN}}}) and on ({KEY}) ipr_indicator_target",
              "状态 Status", "status")]), 24, 10),
        (status_matrix(), 24, 12),
        (progress_bars(), 24, 10),
        (values_matrix(), 24, 12),
        (area_over_time(), 24, 9),
    ]  # fmt: skip
    return dashboard(
        "iprwatch-plan-progress",
        "规划进度 · $plan",
        "Plan progress: pick a plan (the one in progress by default); its area and each of its "
        "divisions against it: current values, targets, the share of the planned change "
        "achieved, and the status by the one status definition (on track, at risk, behind, "
        "no target, no data).",
        ["plan"],
        panels,
        variables=[plan_variable()],
    )
