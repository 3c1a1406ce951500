"""The plan file and its loader: the bundled Chongqing plan, its lookups, every kind of bad plan."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from shared.plan import PLAN_FILE_ENV, Plan, PlanError, default_plan_path, load_plan

BUNDLED = Path(__file__).resolve().parents[2] / "deploy" / "plans" / "chongqing-14th-fyp.yaml"
SEED = (
    "Chongqing Daily 2021-12-18, article on the plan (the seed document): "
    "end-of-13th-FYP (end-2020) figures"
)
DISTRICT_CENSUS = (
    "7th national census (2020), district census bulletins via a third-party compilation"
)
DAZU = "smecq.cn article on Dazu's implementing opinion"
INDICATORS = (
    "valid_invention_patents",
    "high_value_invention_patents",
    "invention_patents_per_10k_population",
    "high_value_invention_patents_per_10k_population",
    "pct_applications_cumulative",
    "valid_registered_trademarks",
    "agricultural_product_trademarks",
    "geographical_indications",
    "madrid_registrations_cumulative",
    "software_copyright_registrations_cumulative",
    "work_copyright_registrations_cumulative",
    "ip_pledge_financing_cny_cumulative",
    "ip_service_revenue_cny",
)
NULL_POPULATIONS = {
    "500229",
    "500230",
    "500231",
    "500233",
    "500235",
    "500236",
    "500237",
    "500238",
    "500240",
    "500242",
    "500243",
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(BUNDLED)


@pytest.fixture
def raw() -> dict[str, Any]:
    loaded = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return copy.deepcopy(loaded)


def write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def error_of(path: Path | str) -> PlanError:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return caught.value


# --- the bundled plan ---------------------------------------------------------------------------


def test_bundled_plan_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PLAN_FILE_ENV, raising=False)
    assert default_plan_path() == BUNDLED
    monkeypatch.setenv(PLAN_FILE_ENV, "/etc/iprwatch/other-plan.yaml")
    assert default_plan_path() == Path("/etc/iprwatch/other-plan.yaml")


def test_plan_header_and_city(plan: Plan) -> None:
    assert plan.id == "chongqing-14th-fyp"
    assert plan.name_zh == '重庆市知识产权保护和运用"十四五"规划(2021—2025年)'
    assert plan.document_no == "渝府办发〔2021〕132号"
    assert (plan.baseline_date, plan.target_date) == (date(2020, 12, 31), date(2025, 12, 31))
    assert plan.timezone == "Asia/Shanghai"
    assert (plan.city.code, plan.city.name_zh, plan.city.name_en) == (
        "500000",
        "重庆市",
        "Chongqing",
    )
    assert plan.city.population == 32054159
    assert plan.city.population_source == (
        "7th national census (2020-11-01), Chongqing census bulletin No. 1"
    )
    assert plan.population_of("500000") == 32054159


def test_the_38_divisions(plan: Plan) -> None:
    assert len(plan.districts) == 38
    assert len(plan.district_codes) == 38
    assert plan.districts[0].code == "500101"
    assert plan.districts[-1].code == "500243"
    kinds = [d.kind for d in plan.districts]
    assert (kinds.count("district"), kinds.count("county"), kinds.count("autonomous_county")) == (
        26,
        8,
        4,
    )
    assert plan.is_district("500112")
    assert not plan.is_district("500000")
    assert not plan.is_district("500232")  # 武隆县 became 500156 武隆区
    assert plan.district("500155").name_zh == "梁平区"
    assert plan.district("500108").name_en == "Nan'an"


def test_populations_never_guessed(plan: Plan) -> None:
    banan = plan.district("500113")
    assert banan.population == 1178856
    assert banan.population_checked is True
    assert banan.population_source == DISTRICT_CENSUS
    assert plan.population_of("500229") is None
    assert plan.district("500229").population_source is None
    assert {d.code for d in plan.districts if d.population is None} == NULL_POPULATIONS
    known = [d for d in plan.districts if d.population is not None]
    assert all(d.population_source == DISTRICT_CENSUS for d in known)
    assert {d.code for d in plan.districts if d.population_checked} == {
        "500113",
        "500119",
        "500151",
        "500241",
    }
    districts_only = sum(d.population or 0 for d in plan.districts if d.kind == "district")
    assert (plan.city.population or 0) - districts_only == 6674690  # the reference check figure
    assert plan.district("500106").population == 1477345
    assert plan.district("500106").population_note == "source also shows 1,447,345: unsure"


def test_the_13_indicators(plan: Plan) -> None:
    assert plan.indicator_keys == INDICATORS
    kinds = {i.key: (i.kind, i.unit, i.path, i.tolerance, i.numerator) for i in plan.indicators}
    assert kinds == {
        "valid_invention_patents": ("stock", "count", "compound", 0.05, None),
        "high_value_invention_patents": ("stock", "count", "compound", 0.05, None),
        "invention_patents_per_10k_population": (
            "ratio",
            "per_10k_population",
            "compound",
            0.05,
            "valid_invention_patents",
        ),
        "high_value_invention_patents_per_10k_population": (
            "ratio",
            "per_10k_population",
            "compound",
            0.05,
            "high_value_invention_patents",
        ),
        "pct_applications_cumulative": ("cumulative", "count", "linear", 0.05, None),
        "valid_registered_trademarks": ("stock", "count", "compound", 0.05, None),
        "agricultural_product_trademarks": ("stock", "count", "compound", 0.05, None),
        "geographical_indications": ("stock", "count", "compound", 0.05, None),
        "madrid_registrations_cumulative": ("cumulative", "count", "linear", 0.05, None),
        "software_copyright_registrations_cumulative": (
            "cumulative",
            "count",
            "linear",
            0.05,
            None,
        ),
        "work_copyright_registrations_cumulative": ("cumulative", "count", "linear", 0.05, None),
        "ip_pledge_financing_cny_cumulative": ("cumulative_sum", "cny", "linear", 0.10, None),
        "ip_service_revenue_cny": ("annual", "cny", "linear", 0.10, None),
    }
    assert plan.indicator("geographical_indications").name_zh == "地理标志拥有量"


def test_city_baselines_are_the_seed_figures(plan: Plan) -> None:
    baselines = {key: plan.baseline_for("500000", key) for key in INDICATORS}
    values = {key: (f.value if f else None) for key, f in baselines.items()}
    assert values == {
        "valid_invention_patents": 35000,
        "high_value_invention_patents": None,
        "invention_patents_per_10k_population": 11.3,
        "high_value_invention_patents_per_10k_population": None,
        "pct_applications_cumulative": 1645,
        "valid_registered_trademarks": 604000,
        "agricultural_product_trademarks": 101000,
        "geographical_indications": 278,
        "madrid_registrations_cumulative": 373,
        "software_copyright_registrations_cumulative": 100000,
        "work_copyright_registrations_cumulative": 563000,
        "ip_pledge_financing_cny_cumulative": None,
        "ip_service_revenue_cny": None,
    }
    assert all(f.source == SEED for f in baselines.values() if f is not None)
    patents = baselines["valid_invention_patents"]
    assert patents is not None
    assert patents.note == "突破3.5万件 (passed 35,000)"


def test_only_the_published_city_target(plan: Plan) -> None:
    revenue = plan.target_for("500000", "ip_service_revenue_cny")
    assert revenue is not None
    assert revenue.value == 1e9
    assert revenue.kind == "expected"
    assert revenue.source == "seed: Chongqing Daily 2021-12-18"
    assert plan.target_for("500000", "valid_invention_patents") is None
    with_target = [i.key for i in plan.indicators if i.target is not None]
    assert with_target == ["ip_service_revenue_cny"]


def test_national_figures_are_reference_only(plan: Plan) -> None:
    high_value = plan.indicator("high_value_invention_patents_per_10k_population")
    assert high_value.target is None
    assert high_value.national_reference is not None
    assert (high_value.national_reference.baseline, high_value.national_reference.target) == (
        6.3,
        12,
    )
    assert "国发〔2021〕20号" in high_value.national_reference.source
    assert [i.key for i in plan.indicators if i.national_reference] == [high_value.key]


def test_published_actuals_kept_with_their_source(plan: Plan) -> None:
    ratio = plan.indicator("invention_patents_per_10k_population")
    assert ratio.actuals == {"2022": 16.14, "2023": 19.98, "2024": 22.94}
    assert ratio.actuals_source is not None
    assert ratio.actuals_source.startswith("gov.cn 2020-01-01;")
    trademarks = plan.indicator("valid_registered_trademarks")
    assert trademarks.actuals == {"2019-11": 493700, "2022": 806600, "2023": 866600, "2024": 895400}
    pct = plan.indicator("pct_applications_cumulative")
    assert pct.in_year == {"2018": 253, "2021": 393, "2022": 451, "2023": 528}
    # The reference's Madrid figures per year are applications, not registrations: not kept.
    assert plan.indicator("madrid_registrations_cumulative").in_year == {}


def test_dazu_targets(plan: Plan) -> None:
    dazu = plan.district("500111")
    assert {key: f.value for key, f in dazu.targets.items()} == {
        "geographical_indications": 7,
        "madrid_registrations_cumulative": 10,
        "ip_pledge_financing_cny_cumulative": 500000000,
    }
    assert all(f.source == DAZU for f in dazu.targets.values())
    assert [(u.key, u.value) for u in dazu.unmodelled_targets] == [
        ("overseas_invention_patent_grants", 3),
        ("valid_trademarks_per_10k_market_entities", 1500),
    ]
    assert all(u.note and "no event feeds it" in u.note for u in dazu.unmodelled_targets)
    target = plan.target_for("500111", "geographical_indications")
    assert target is not None
    assert target.value == 7
    assert plan.target_for("500111", "valid_invention_patents") is None
    assert plan.baseline_for("500111", "geographical_indications") is None
    assert [d.code for d in plan.districts if d.targets] == ["500111"]
    assert [d.code for d in plan.districts if d.baselines] == []


def test_elapsed_fraction(plan: Plan) -> None:
    assert plan.elapsed_fraction(date(2020, 12, 31)) == 0.0
    assert plan.elapsed_fraction(date(2025, 12, 31)) == 1.0
    assert plan.elapsed_fraction(date(2023, 7, 2)) == 913 / 1826 == 0.5
    assert plan.elapsed_fraction(date(2021, 12, 31)) == 365 / 1826
    assert plan.elapsed_fraction(date(2019, 6, 1)) == 0.0
    assert plan.elapsed_fraction(date(2027, 1, 1)) == 1.0
    # 16:00 UTC on 2020-12-31 is already 2021-01-01 in Shanghai.
    assert plan.elapsed_fraction(datetime(2020, 12, 31, 16, 0, tzinfo=UTC)) == 1 / 1826


def test_lookups_fail_clearly(plan: Plan) -> None:
    with pytest.raises(KeyError, match=r"'500000' in plan 'chongqing-14th-fyp': that is the city"):
        plan.district("500000")
    with pytest.raises(KeyError, match=r"unknown district code '500999'"):
        plan.population_of("500999")
    with pytest.raises(KeyError, match=r"unknown indicator 'gdp'"):
        plan.target_for("500000", "gdp")


def test_plan_is_frozen(plan: Plan) -> None:
    with pytest.raises(ValidationError):
        plan.id = "other"  # type: ignore[misc]


# --- bad plans ----------------------------------------------------------------------------------

DELETE = object()

BAD_PLANS: list[tuple[str, tuple[str | int, ...], object, str, str]] = [
    (
        "negative population",
        ("districts", 3, "population"),
        -5,
        "districts[3].population",
        "must be a positive integer or null, got -5",
    ),
    (
        "fractional population",
        ("districts", 0, "population"),
        1.5,
        "districts[0].population",
        "must be a positive integer or null, got 1.5",
    ),
    (
        "population without source",
        ("districts", 2, "population_source"),
        DELETE,
        "districts[2].population_source",
        "required when population is given: where does the figure come from?",
    ),
    (
        "duplicate district code",
        ("districts", 5, "code"),
        "500101",
        "districts[5].code",
        "duplicate district code '500101', as districts[0]",
    ),
    (
        "district code of another province",
        ("districts", 1, "code"),
        "510104",
        "districts[1].code",
        "510104 is not a division of the area 500000",
    ),
    (
        "district code as a number",
        ("districts", 1, "code"),
        500102,
        "districts[1].code",
        "must be a GB/T 2260 code (6 digits, a quoted string), got 500102",
    ),
    (
        "ratio numerator not declared",
        ("indicators", "invention_patents_per_10k_population", "numerator"),
        "patents",
        "indicators.invention_patents_per_10k_population.numerator",
        "unknown indicator 'patents': not declared",
    ),
    (
        "ratio without numerator",
        ("indicators", "invention_patents_per_10k_population", "numerator"),
        DELETE,
        "indicators.invention_patents_per_10k_population.numerator",
        "a ratio needs a numerator indicator",
    ),
    (
        "district target for an unknown indicator",
        ("districts", 10, "targets", "trademarks_per_capita"),
        {"value": 3, "source": DAZU},
        "districts[10].targets.trademarks_per_capita",
        "unknown indicator 'trademarks_per_capita': not declared",
    ),
    (
        "target date not after baseline date",
        ("plan", "target_date"),
        date(2020, 12, 31),
        "plan.target_date",
        "must be after 2020-12-31, got 2020-12-31",
    ),
    (
        "negative city baseline",
        ("indicators", "pct_applications_cumulative", "baseline", "value"),
        -1645,
        "indicators.pct_applications_cumulative.baseline.value",
        "must be a non-negative number, got -1645",
    ),
    (
        "negative city target",
        ("indicators", "ip_service_revenue_cny", "target", "value"),
        -1.5e9,
        "indicators.ip_service_revenue_cny.target.value",
        "must be a non-negative number, got -1500000000",
    ),
    (
        "negative district target",
        ("districts", 10, "targets", "madrid_registrations_cumulative", "value"),
        -10,
        "districts[10].targets.madrid_registrations_cumulative.value",
        "must be a non-negative number, got -10",
    ),
    (
        "zero baseline on a compound path",
        ("indicators", "valid_invention_patents", "baseline", "value"),
        0,
        "indicators.valid_invention_patents.baseline.value",
        "must be positive: a compound path grows from and to a positive value",
    ),
    (
        "unknown indicator kind",
        ("indicators", "valid_invention_patents", "kind"),
        "flow",
        "indicators.valid_invention_patents.kind",
        "Input should be 'stock', 'ratio', 'cumulative', 'cumulative_sum', 'annual' or "
        "'reported', got 'flow'",
    ),
    (
        "tolerance not a fraction",
        ("indicators", "geographical_indications", "tolerance"),
        5,
        "indicators.geographical_indications.tolerance",
        "Input should be less than 1, got 5",
    ),
    (
        "missing tolerance",
        ("indicators", "geographical_indications", "tolerance"),
        DELETE,
        "indicators.geographical_indications.tolerance",
        "required key is missing",
    ),
    (
        "misspelt key",
        ("districts", 4, "populaton"),
        925800,
        "districts[4].populaton",
        "unknown key",
    ),
    (
        "unknown time zone",
        ("plan", "timezone"),
        "Asia/Chongqing-ish",
        "plan.timezone",
        "unknown time zone 'Asia/Chongqing-ish'",
    ),
    (
        "text where a number belongs",
        ("indicators", "geographical_indications", "baseline", "value"),
        "278",
        "indicators.geographical_indications.baseline.value",
        "Input should be a valid number, got '278'",
    ),
    (
        "numerator on a stock",
        ("indicators", "valid_invention_patents", "numerator"),
        "geographical_indications",
        "indicators.valid_invention_patents.numerator",
        "only a ratio has one; kind is 'stock'",
    ),
]


def _mutate(raw: dict[str, Any], keys: tuple[str | int, ...], value: object) -> None:
    parent: Any = raw
    for key in keys[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[keys[-1]]
    else:
        parent[keys[-1]] = value


@pytest.mark.parametrize(
    ("keys", "value", "where", "problem"),
    [case[1:] for case in BAD_PLANS],
    ids=[case[0] for case in BAD_PLANS],
)
def test_bad_plan_names_file_key_path_and_problem(
    tmp_path: Path,
    raw: dict[str, Any],
    keys: tuple[str | int, ...],
    value: object,
    where: str,
    problem: str,
) -> None:
    _mutate(raw, keys, value)
    path = write(tmp_path, raw)
    error = error_of(path)
    assert str(error) == f"{path}: {where}: {problem}"
    assert error.problems == ((where, problem),)
    assert error.file == str(path)


def test_every_problem_is_reported(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["districts"][3]["population"] = -5
    raw["indicators"]["invention_patents_per_10k_population"]["numerator"] = "patents"
    path = write(tmp_path, raw)
    # Shape errors come first; the checks across keys need a well-formed file.
    assert str(error_of(path)) == f"{path}: districts[3].population: " + (
        "must be a positive integer or null, got -5"
    )
    raw["districts"][3]["population"] = 421904
    raw["districts"][7]["code"] = "500101"
    path = write(tmp_path, raw)
    assert str(error_of(path)).splitlines() == [
        f"{path}: indicators.invention_patents_per_10k_population.numerator: "
        "unknown indicator 'patents': not declared",
        f"{path}: districts[7].code: duplicate district code '500101', as districts[0]",
    ]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert str(error_of(path)) == f"{path}: (file): no such plan file"
    assert str(error_of(str(path))) == f"{path}: (file): no such plan file"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    lines = BUNDLED.read_text(encoding="utf-8").splitlines(keepends=True)
    at = lines.index("  timezone: Asia/Shanghai\n")
    lines.insert(at + 1, "  - not a key\n")
    path = tmp_path / "broken.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    assert str(error_of(path)) == (
        f"{path}: line {at + 2}, column 3: invalid YAML: expected <block end>, but found '-'"
    )


def test_repeated_yaml_key_names_the_line(tmp_path: Path) -> None:
    lines = BUNDLED.read_text(encoding="utf-8").splitlines(keepends=True)
    at = lines.index("  id: chongqing-14th-fyp\n")
    lines.insert(at + 1, "  id: another-plan\n")
    path = tmp_path / "repeated.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    assert str(error_of(path)) == (
        f"{path}: line {at + 2}, column 3: invalid YAML: found duplicate key 'id'"
    )


@pytest.mark.parametrize(
    ("text", "got"), [("", "an empty file"), ("- plan\n", "list"), ("plan\n", "str")]
)
def test_document_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    assert str(error_of(path)) == (
        f"{path}: (document): must be a mapping with keys plan, area, districts, indicators; "
        f"got {got}"
    )


def test_plan_error_survives_pickling(tmp_path: Path) -> None:
    error = error_of(tmp_path / "nowhere.yaml")
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert isinstance(again, PlanError)
    assert str(again) == str(error)
