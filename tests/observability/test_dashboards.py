"""Lint of the shipped Grafana dashboards and their provisioning (no Grafana needed)."""

from __future__ import annotations

import copy
import importlib.util
from collections.abc import Callable
from typing import cast

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


def test_the_district_dashboard_has_a_district_variable_fed_by_the_indicator_metric() -> None:
    board = load_dashboards()["district-detail.json"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["district"]["query"]["query"] == "label_values(ipr_indicator_value, district)"
    repeated = [p for p in panels(board) if p.get("repeat") == "indicator"]
    assert len(repeated) == 1
    assert [t["legendFormat"] for t in repeated[0]["targets"]] == [
        "实际 value", "规划路径 required", "目标 target", "预测 forecast",
    ]  # fmt: skip


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


def test_the_json_files_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    build = cast(Callable[[], dict[str, str]], module.build)
    written = {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert written == build(), "run: python deploy/grafana/generate.py"
