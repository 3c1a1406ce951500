"""The backtest: a replay month end by month end, and its command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from iprwatch.cli import main
from services.alerts.domain.backtest import replay
from services.alerts.entrypoints.cli import read_history
from shared.months import month_texts as months
from shared.plan import default_plan_path, load_plan

MADRID = [("2021-03", 1.0), ("2022-03", 4.0), ("2023-03", 6.0), ("2024-03", 8.0)]


def test_months() -> None:
    assert list(months("2021-11", "2022-02")) == ["2021-11", "2021-12", "2022-01", "2022-02"]


def test_replay_fires_after_the_pending_month_and_resolves_after_the_hold_down() -> None:
    # Dazu Madrid (linear to 10, tolerance 5 %, a count): behind once 0.95 × the path is more
    # than one whole registration above the value 1, i.e. 9.5 × days/1826 > 2: after day 384.4.
    # 2022-01-31 is day 396 (pending), firing at the end of February (day 424). On 2022-03-31
    # the value is 4 against 2.49: the condition is gone, resolved a month later.
    result = replay(load_plan(default_plan_path()), {("500111", "madrid_registrations_cumulative"):
                    MADRID}, "2021-01", "2022-12")  # fmt: skip
    [episode] = result.episodes
    assert (episode.fired, episode.resolved, episode.status, episode.value) == (
        "2022-02", "2022-04", "behind", 1.0,
    )  # fmt: skip
    assert episode.required == pytest.approx(10 * 424 / 1826, 1e-12)


def test_replay_ignores_keys_without_a_target() -> None:
    history = {("500112", "valid_invention_patents"): [("2021-01", 1.0)]}
    assert replay(load_plan(default_plan_path()), history, "2021-01", "2024-12").episodes == []


def test_the_command_prints_a_table_and_writes_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cjk_font: str
) -> None:
    csv = tmp_path / "history.csv"
    rows = [f"500111,madrid_registrations_cumulative,{m},{v}" for m, v in MADRID]
    csv.write_text("district,indicator,month,value\n" + "\n".join(rows) + "\n")
    code = main(["alerts", "backtest", "--plan", "chongqing-14th-fyp", "--from", "2021-01",
                 "--to", "2024-12", "--history", str(csv), "--charts",
                 str(tmp_path / "charts")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "2022-02" in out and "2022-04" in out and "1 alert(s)" in out
    png = tmp_path / "charts" / "500111-madrid_registrations_cumulative.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(png).size == (1200, 700)


def test_a_bad_history_row_is_named(tmp_path: Path) -> None:
    csv = tmp_path / "history.csv"
    csv.write_text("district,indicator,month,value\n500111,x,2021-13,1\n")
    with pytest.raises(ValueError, match=r"history.csv:2: month must be YYYY-MM, got '2021-13'"):
        read_history(csv)


def test_the_targeted_keys_of_the_bundled_plan() -> None:
    from shared.outcomes import targeted_keys

    assert targeted_keys(load_plan(default_plan_path())) == [
        ("500000", "ip_service_revenue_cny"),
        ("500111", "geographical_indications"),
        ("500111", "madrid_registrations_cumulative"),
        ("500111", "ip_pledge_financing_cny_cumulative"),
    ]
