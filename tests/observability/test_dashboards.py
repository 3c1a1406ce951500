"""Lint of the shipped Grafana dashboards and their provisioning (no Grafana needed)."""

from __future__ import annotations

import copy
import json
import re
import sys

import pytest
import yaml

from tests.observability.dashboards import (
    DASHBOARDS,
    GRAFANA,
    datasource_uid,
    lint,
    load_dashboards,
    panels,
    queries,
)

PLAN_METRIC = re.compile(r"\b(ipr_indicator_\w+|ipr_alert_firing|plan_\w+:\w+:\w+)\{([^}]*)\}")

EXPECTED_UIDS = {
    "plan-progress.json": "iprwatch-plan-progress",
    "district-detail.json": "iprwatch-district-detail",
    "pipeline-health.json": "iprwatch-pipeline-health",
}


def test_the_shipped_dashboards_pass_the_lint() -> None:
    assert lint(load_dashboards(), datasource_uid()) == []


def test_each_dashboard_keeps_its_stable_uid() -> None:
    boards = load_dashboards()
    assert {name: board["uid"] for name, board in boards.items()} == EXPECTED_UIDS


def test_the_plan_dashboards_have_a_plan_variable_and_a_district_variable_that_follows_it() -> None:
    boards = load_dashboards()
    for name in ("plan-progress.json", "district-detail.json"):
        (plan, *_) = boards[name]["templating"]["list"]
        assert plan["name"] == "plan"
        assert plan["query"]["query"] == "label_values(ipr_indicator_value, plan)"
        assert plan["current"]["value"] == "chongqing-15th-fyp"  # the plan in progress
    board = boards["district-detail.json"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["district"]["query"]["query"] == (
        'label_values(ipr_indicator_value{plan="$plan"}, district)'
    )
    assert variables["district"]["current"]["value"] == "500000"  # the plan's area
    assert variables["indicator"]["query"]["query"] == (
        'label_values(ipr_indicator_value{plan="$plan", district="$district"}, indicator)'
    )
    repeated = [p for p in panels(board) if p.get("repeat") == "indicator"]
    assert len(repeated) == 1
    assert [t["legendFormat"] for t in repeated[0]["targets"]] == [
        "实际 value", "规划路径 required", "目标 target", "预测 forecast",
    ]  # fmt: skip


def test_every_plan_metric_a_panel_reads_is_limited_to_the_chosen_plan() -> None:
    """Several plans follow the same (district, indicator): a selector without the plan
    would mix them. Joins on the recorded series and the plan metrics carry `plan` too."""
    checked = 0
    for name in ("plan-progress.json", "district-detail.json"):
        for q in queries(load_dashboards()[name]):
            for metric, matchers in PLAN_METRIC.findall(q.expr):
                checked += 1
                assert 'plan="$plan"' in matchers, f"{q.panel} / {q.ref}: {metric}{{{matchers}}}"
            for joined in re.findall(r"\bon \(([^)]*)\)", q.expr):
                assert joined in ("plan, district, indicator", ""), f"{q.panel}: on ({joined})"
            # a bare metric only as the right side of a join on the plan's key
            bare = re.findall(r"(?<![\w:])(ipr_indicator_\w+|ipr_alert_firing)(?![\w:{])", q.expr)
            assert not bare or "and on (plan, district, indicator)" in q.expr, f"{q.expr}"
    assert checked >= 30


def test_status_colours_follow_the_one_status_definition() -> None:
    """Every status column and the matrix map the recorded codes to the five statuses of
    shared/status.py, with one colour each, the same everywhere."""
    from shared.status import Status

    expected_keys = set(Status.__args__)  # type: ignore[attr-defined]
    seen: list[dict[str, tuple[str, str]]] = []
    for board in load_dashboards().values():
        for panel in panels(board):
            found = [panel["fieldConfig"]["defaults"].get("mappings", [])] + [
                p["value"]
                for o in panel["fieldConfig"]["overrides"]
                for p in o["properties"]
                if p["id"] == "mappings"
            ]
            for mappings in found:
                for mapping in mappings:
                    options = mapping.get("options", {})
                    if "4" in options and "behind" in options["4"]["text"]:
                        seen.append({k: (v["text"], v["color"]) for k, v in options.items()})
    assert len(seen) >= 3
    assert all(s == seen[0] for s in seen)
    assert {text.split()[-1] for text, _ in seen[0].values()} == expected_keys
    assert [seen[0][str(code)][0].split()[-1] for code in range(5)] == [
        "no_data", "no_target", "on_track", "at_risk", "behind",
    ]  # fmt: skip
    assert len({colour for _, colour in seen[0].values()}) == 5


def test_the_pipeline_dashboard_covers_every_service_metric_family() -> None:
    text = " ".join(q.expr for q in queries(load_dashboards()["pipeline-health.json"]))
    for metric in (
        "ipr_ingest_events_accepted_total", "ipr_ingest_events_rejected_total",
        "ipr_ingest_publish_duration_seconds_bucket", "ipr_fold_events_total",
        "ipr_fold_consumer_lag", "ipr_fold_batch_duration_seconds_bucket",
        "ipr_fold_dead_letters_total", "ipr_notifications_sent_total",
        "ipr_notifications_failed_total", "ipr_ingest_http_requests_total",
        "ipr_ingest_http_request_duration_seconds_bucket", "up{",
    ):  # fmt: skip
        assert metric in text, metric


def test_the_lint_names_each_kind_of_defect() -> None:
    boards = load_dashboards()
    broken = copy.deepcopy(boards)
    pipeline = broken["pipeline-health.json"]
    pipeline["uid"] = "iprwatch-plan-progress"
    first, second, third, fourth = list(panels(pipeline))[:4]
    del first["fieldConfig"]["defaults"]["unit"]
    second["targets"] = []
    third["datasource"] = {"type": "prometheus", "uid": "somewhere-else"}
    fourth["targets"][0]["expr"] = "rate(ipr_ingest_events_accepted_total[$window])"
    problems = lint(broken, datasource_uid())
    text = "\n".join(problems)
    assert "uid iprwatch-plan-progress also used by" in text
    assert f"panel {first['title']!r}: no unit" in text
    assert f"panel {second['title']!r}: no query" in text
    assert f"panel {third['title']!r}: datasource" in text
    assert f"panel {fourth['title']!r} uses undefined $window" in text
    assert len(problems) == 5, problems


def test_provisioning_points_grafana_at_the_dashboards_and_the_prometheus_datasource() -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (prometheus,) = sources["datasources"]
    assert (prometheus["type"], prometheus["uid"]) == ("prometheus", "iprwatch-prometheus")
    assert prometheus["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/iprwatch.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"


def test_the_json_files_are_what_the_generator_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(GRAFANA))
    for module in [m for m in sys.modules if m.startswith("iprwatch_grafana")]:
        monkeypatch.delitem(sys.modules, module)
    from iprwatch_grafana import build

    written = {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert written == build(), "run: python deploy/grafana/generate.py"
    for text in written.values():
        json.loads(text)
