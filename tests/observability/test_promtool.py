"""promtool checks the shipped Prometheus config and rules, and runs the rules' unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from iprwatch.stack.prometheus import CONFIG_FILE, PROMETHEUS_DIR, render_config, write_config

RULES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))


def promtool_run(promtool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - promtool with our own files
        [promtool, *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )


def test_the_shipped_config_is_valid(promtool: str) -> None:
    result = promtool_run(promtool, "check", "config", CONFIG_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def test_the_rendered_loopback_config_is_valid(promtool: str, tmp_path: Path) -> None:
    targets = {"ingest": "127.0.0.1:1", "indicators": "127.0.0.1:2", "alerts": "127.0.0.1:3"}
    config = write_config(tmp_path, render_config(targets, "1s", "1s"))
    result = promtool_run(promtool, "check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_are_valid(promtool: str) -> None:
    assert [r.name for r in RULES] == ["alerts.yml", "recording.yml"]
    result = promtool_run(promtool, "check", "rules", *RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout  # the alerting rules
    assert "SUCCESS: 11 rules found" in result.stdout  # the recording rules


def test_the_rules_unit_tests_pass(promtool: str) -> None:
    assert RULE_TESTS, "no promtool rule tests"
    result = promtool_run(promtool, "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_broken_expectation_fails_the_rules_tests(promtool: str, tmp_path: Path) -> None:
    """The unit tests can fail: a lag threshold moved to 20,000 no longer fires at 12,000."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for rule in RULES:
        (rules / rule.name).write_text(
            rule.read_text().replace("job:ipr_fold_consumer_lag:sum > 10000",
                                     "job:ipr_fold_consumer_lag:sum > 20000")
        )  # fmt: skip
    tests = tmp_path / "tests"
    tests.mkdir()
    for test in RULE_TESTS:
        (tests / test.name).write_text(test.read_text())
    result = promtool_run(promtool, "test", "rules", *sorted(tests.glob("*.yml")))
    assert result.returncode != 0
    assert "alertname: IprConsumerLagHigh" in result.stdout + result.stderr
