"""Holders' addresses to county-level divisions of the plan, with cpca and the plan's names.

cpca (PyPI, MIT) recognises province, city and county in a Chinese address (full or short
names: "重庆渝北", "浙江省宁波市江北区") and answers the GB/T 2260 code from the data it
ships (no network). Its data predates some renamings (武隆县 → 武隆区 in 2016, 梁平县 → 梁平区
in 2016), so the plan's own division names are matched as well, and every answer is checked
against the plan's divisions:

- exactly one division of the plan → resolved;
- none (no county-level part, or only the city) → `address_not_found`;
- a division outside the plan's area, named with its province or city → `address_outside_plan`;
- more than one: the address names two divisions of the plan, a name both the plan and
  another place have without saying which city ("江北区" is in Chongqing and in Ningbo), or an
  area that spans divisions ("两江新区") → `address_ambiguous`.

cpca imports pandas (about a second at start); it is loaded only when a row needs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from services.ingest.service.ports import Resolution

CACHE_LIMIT = 200_000


class AddressResolver:
    """Resolves addresses in batches (cpca is fast on many at once), remembering answers."""

    def __init__(
        self,
        divisions: Mapping[str, str],
        area_code: str,
        area_name: str,
        spanning_areas: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.divisions = dict(divisions)  # code -> name, e.g. 500112 -> 渝北区
        self.area_code = area_code
        self.area_prefix = re.sub(r"(00)+$", "", area_code)  # 500000 -> 50, 510100 -> 5101
        self.area_stem = _stem(area_name)
        self.by_name = {name: code for code, name in self.divisions.items()}
        self.spanning = {k: tuple(v) for k, v in (spanning_areas or {}).items()}
        names = sorted([*self.by_name, *self.spanning], key=len, reverse=True)
        self._names = re.compile("|".join(re.escape(n) for n in names)) if names else None
        self._cache: dict[str, Resolution] = {}
        self._cpca: Any = None

    def resolve_many(self, addresses: Iterable[str]) -> dict[str, Resolution]:
        wanted = list(dict.fromkeys(a for a in addresses if a))
        unknown = [a for a in wanted if a not in self._cache]
        if unknown:
            if len(self._cache) + len(unknown) > CACHE_LIMIT:
                self._cache.clear()
            for address, found in zip(unknown, self._recognise(unknown), strict=True):
                self._cache[address] = self._decide(address, found)
        return {a: self._cache[a] for a in wanted}

    def resolve(self, address: str) -> Resolution:
        return self.resolve_many([address])[address]

    def _recognise(self, addresses: list[str]) -> list[tuple[str, str, str, str]]:
        """(province, city, county, code) per address, '' where cpca found nothing."""
        if self._cpca is None:
            import cpca

            self._cpca = cpca
        frame = self._cpca.transform(addresses)
        found: list[tuple[str, str, str, str]] = []
        for province, city, county, code in zip(
            frame["省"], frame["市"], frame["区"], frame["adcode"], strict=True
        ):
            found.append((_text(province), _text(city), _text(county), _text(code)[:6]))
        return found

    def _decide(self, address: str, found: tuple[str, str, str, str]) -> Resolution:
        province, city, county, code = found
        named = self._named_divisions(address)
        cpca_in_plan = code in self.divisions
        candidates = set(named)
        if cpca_in_plan:
            candidates.add(code)
        if len(candidates) > 1:
            shown = "、".join(self.divisions[c] for c in sorted(candidates))
            return Resolution(None, "address_ambiguous", f"{address!r} names several divisions: "
                                                         f"{shown}")  # fmt: skip
        if county and code and not cpca_in_plan and not code.startswith(self.area_prefix):
            said = [p for p in (_stem(province), _stem(city)) if p and p in address]
            if said:
                return Resolution(None, "address_outside_plan",
                                  f"{address!r} is in {province}{city}{county} ({code}), "
                                  "not in the plan's area")  # fmt: skip
            if candidates:
                only = next(iter(candidates))
                return Resolution(None, "address_ambiguous",
                                  f"{address!r}: {county} is both {self.divisions[only]} ({only}) "
                                  f"and in {province}{city} ({code}); write the city")  # fmt: skip
            return Resolution(None, "address_outside_plan",
                              f"{address!r} is in {province}{city}{county} ({code}), "
                              "not in the plan's area")  # fmt: skip
        if len(candidates) == 1:
            return Resolution(next(iter(candidates)))
        spans = self._spanning(address)
        if spans:
            area, codes = spans
            shown = "、".join(self.divisions.get(c, c) for c in codes)
            return Resolution(None, "address_ambiguous",
                              f"{address!r}: {area} spans several divisions ({shown})")  # fmt: skip
        if code and code not in self.divisions and code.startswith(self.area_prefix) and county:
            return Resolution(None, "address_not_found",
                              f"{address!r}: {county} ({code}) is not a division of the plan "
                              "(renamed or merged?)")  # fmt: skip
        return Resolution(None, "address_not_found",
                          f"{address!r} names no county-level division of the plan")  # fmt: skip

    def _named_divisions(self, address: str) -> set[str]:
        if self._names is None:
            return set()
        return {self.by_name[m] for m in self._names.findall(address) if m in self.by_name}

    def _spanning(self, address: str) -> tuple[str, tuple[str, ...]] | None:
        for area, codes in self.spanning.items():
            if area in address:
                return area, codes
        return None


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN: nothing found
        return ""
    text = str(value).strip()
    return "" if text in ("nan", "None", "市辖区", "县") else text


def _stem(name: str) -> str:
    """重庆市 -> 重庆, 浙江省 -> 浙江, 宁波市 -> 宁波 (how addresses often write them)."""
    return re.sub(r"(省|市|自治区|特别行政区)$", "", name)
