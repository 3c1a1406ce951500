"""What the three dashboards share: the datasource, the plans' names, the status definition,
the variables, queries, tables and the layout, all through Grafana's typed builders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import prometheus, table
from grafana_foundation_sdk.cog import builder as cog
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model

from shared.plans import BUNDLED_PLANS, PlanSet, load_plans, plan_files

DS = model.DataSourceRef(type_val="prometheus", uid="iprwatch-prometheus")
PLAN = 'plan="$plan"'
Json = dict[str, Any]
PanelBuilder = cog.Builder[model.Panel]

# The five statuses of shared/status.py, coded as the recording rule
# plan_district_indicator:ipr_indicator_status:code codes them, with the words of the alert
# mail and the colour-blind-safe (Okabe-Ito) colours of shared/charts/.
STATUS: tuple[tuple[int, str, str, str], ...] = (
    (0, "no_data", "暂无数据", "#999999"),
    (1, "no_target", "无目标", "#56B4E9"),
    (2, "on_track", "符合进度", "#009E73"),
    (3, "at_risk", "预测到期难以达标", "#E69F00"),
    (4, "behind", "落后于规划路径", "#D55E00"),
)
STATUS_RULE = "plan_district_indicator:ipr_indicator_status:code"
LINKS = (
    ("规划进度 Plan progress", "iprwatch-plan-progress"),
    ("区县详情 District detail", "iprwatch-district-detail"),
    ("管道健康 Pipeline health", "iprwatch-pipeline-health"),
)


@cache
def plans() -> PlanSet:
    """The bundled plans (deploy/plans/), as the services load them."""
    return load_plans(plan_files(str(BUNDLED_PLANS)))


def default_plan() -> str:
    """The dashboards' default plan: the bundled plan whose period starts last (the current
    period once it has begun). Fixed by the files, not by the day the JSON is generated, so
    regenerating gives the same dashboards; a user picks another in the plan variable."""
    return max(plans(), key=lambda plan: (plan.baseline_date, plan.id)).id


@cache
def names() -> tuple[dict[str, str], dict[str, str]]:
    """(division code -> Chinese name, indicator key -> Chinese name) over every plan."""
    divisions: dict[str, str] = {}
    indicators: dict[str, str] = {}
    for plan in plans():
        divisions.setdefault(plan.area.code, plan.area.name_zh)
        for district in plan.districts:
            divisions.setdefault(district.code, district.name_zh)
        for spec in plan.indicators:
            indicators.setdefault(spec.key, spec.name_zh)
    return dict(sorted(divisions.items())), indicators


def area(metric: str) -> str:
    """`metric` of the chosen plan's area (a city, a province, the nation) only.

    The area's code is plan data, not a label: one alternative per area code, each limited to
    the plans of that area, so that at most one matches `$plan` (500000 is Chongqing's area
    in the Chongqing plans and one of the provinces in the national plan)."""
    by_code: dict[str, list[str]] = {}
    for plan in plans():
        by_code.setdefault(plan.area.code, []).append(plan.id)
    return " or ".join(
        f'{metric}{{{PLAN}, plan=~"{"|".join(ids)}", district="{code}"}}'
        for code, ids in sorted(by_code.items())
    )


def status_mappings() -> list[model.ValueMapping]:
    return [
        model.ValueMap(
            options={
                str(code): model.ValueMappingResult(text=f"{zh} {key}", color=colour, index=code)
                for code, key, zh, colour in STATUS
            }
        )
    ]


def name_mappings(table_of_names: dict[str, str]) -> list[model.ValueMapping]:
    return [
        model.ValueMap(
            options={
                code: model.ValueMappingResult(
                    text=f"{name} ({code})" if code.isdigit() else name, index=i
                )
                for i, (code, name) in enumerate(table_of_names.items())
            }
        )
    ]


def steps(*pairs: tuple[float | None, str]) -> builders.ThresholdsConfig:
    return (
        builders.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=colour) for value, colour in pairs])
    )


def by_thresholds() -> builders.FieldColor:
    return builders.FieldColor().mode(model.FieldColorModeId.THRESHOLDS)


def query(
    ref: str, expr: str, legend: str = "", instant: bool = False, as_table: bool = False
) -> prometheus.Dataquery:
    q = prometheus.Dataquery().ref_id(ref).expr(expr).datasource(DS)
    q = q.instant() if instant else q.range()
    if legend:
        q = q.legend_format(legend)
    if as_table:
        q = q.format(prometheus_model.PromQueryFormat.TABLE)
    return q


def reduce_last() -> common_builders.ReduceDataOptions:
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False)


def prop(id_val: str, value: object) -> model.DynamicConfigValue:
    return model.DynamicConfigValue(id_val=id_val, value=value)


def colour_cells() -> model.DynamicConfigValue:
    return prop("custom.cellOptions", {"type": "color-background"})


def label_properties(zh: str, mapping: dict[str, str]) -> list[model.DynamicConfigValue]:
    return [prop("mappings", name_mappings(mapping)), prop("displayName", zh), prop("unit", "none")]


def labelled_table(panel: table.Panel) -> table.Panel:
    """District codes and indicator keys shown by their Chinese names."""
    districts, indicators = names()
    return panel.override_by_regexp(
        "^district", label_properties("区县 District", districts)
    ).override_by_name("indicator", label_properties("指标 Indicator", indicators))


def hide(*fields: str) -> model.DataTransformerConfig:
    return model.DataTransformerConfig(
        id_val="organize", options={"excludeByName": dict.fromkeys(fields, True)}
    )


def merged_table(
    title: str, description: str, columns: Sequence[tuple[str, str, str]]
) -> table.Panel:
    """One row per (district, indicator): several instant queries merged on their labels;
    a column of unit `status` is the status code, coloured and named by STATUS."""
    panel = labelled_table(
        table.Panel().title(title).description(description).datasource(DS).unit("short")
    )
    rename = {}
    for i, (expr, name, unit) in enumerate(columns):
        ref = chr(65 + i)
        panel = panel.with_target(query(ref, expr, instant=True, as_table=True))
        rename[f"Value #{ref}"] = name
        if unit == "status":
            props = [prop("unit", "none"), prop("mappings", status_mappings()), colour_cells()]
        elif unit == "percentunit":
            props = [prop("unit", unit), prop("decimals", 1)]
        else:
            props = [prop("unit", unit)]
        panel = panel.override_by_name(name, props)
    fields = {"Time": True, "plan": True, "job": True, "instance": True, "__name__": True}
    return (
        panel.with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            model.DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": fields,
                    "indexByName": {"district": 0, "indicator": 1},
                    "renameByName": rename,
                },
            )
        )
        .cell_height(common.TableCellHeight.SM)
        .sort_by([common_builders.TableSortByFieldState().display_name("区县 District")])
    )


def variable(
    name: str, label: str, expr: str, label_name: str, current: str | None = None
) -> builders.QueryVariable:
    text = f"label_values({expr}, {label_name})"
    v = (
        builders.QueryVariable(name)
        .label(label)
        .datasource(DS)
        .query({"query": text, "refId": name, "qryType": 1})
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
    )
    if current is not None:
        v = v.current(model.VariableOption(text=current, value=current))
    return v


def plan_variable() -> builders.QueryVariable:
    """`$plan`: every plan the indicators service publishes; default the plan in progress."""
    return variable("plan", "规划 Plan", "ipr_indicator_value", "plan", default_plan()).sort(
        model.VariableSort.ALPHABETICAL_ASC
    )


def dashboard(
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    panels: Sequence[tuple[PanelBuilder, int, int]],
    variables: Sequence[builders.QueryVariable] = (),
    refresh: str = "30s",
    since: str = "now-6h",
) -> Json:
    """The dashboard as Grafana's JSON; `panels` are (panel, width, height), laid out in
    rows of 24 columns in order, numbered from 1."""
    board = (
        builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["iprwatch", *tags])
        .timezone(plans().zone.key)
        .editable()
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .refresh(refresh)
        .version(1)
        .time(since, "now")
        .variables(list(variables))
    )
    for title_of_link, other in LINKS:
        if other != uid:
            board = board.link(
                builders.DashboardLink(title_of_link).type(model.DashboardLinkType.LINK)
                .url(f"/d/{other}").include_vars(True).keep_time(True)
            )  # fmt: skip
    x = y = row_height = 0
    for number, (panel, width, height) in enumerate(panels, start=1):
        if x + width > 24:
            x, y, row_height = 0, y + row_height, 0
        built = panel.build()
        built.id_val = number
        built.grid_pos = model.GridPos(h=height, w=width, x=x, y=y)
        board = board.with_panel(_Built(built))
        x, row_height = x + width, max(row_height, height)
    result: Json = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    return result


class _Built(cog.Builder[model.Panel]):
    """A panel already built and placed (the dashboard builder takes builders)."""

    def __init__(self, panel: model.Panel) -> None:
        self.panel = panel

    def build(self) -> model.Panel:
        return self.panel


def legend_table() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.TABLE)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs(["lastNotNull", "max"])
    )


def tooltip_all() -> common_builders.VizTooltipOptions:
    return (
        common_builders.VizTooltipOptions()
        .mode(common.TooltipDisplayMode.MULTI)
        .sort(common.SortOrder.DESCENDING)
    )
