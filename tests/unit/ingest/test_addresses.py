"""Addresses to the plan's county-level divisions: resolved, not found, outside, ambiguous."""

from __future__ import annotations

import pytest

from services.ingest.adapters.addresses import AddressResolver
from services.ingest.adapters.mapping_files import spanning_areas
from services.ingest.service.ports import Resolution
from shared.plan import default_plan_path, load_plan


@pytest.fixture(scope="module")
def resolver() -> AddressResolver:
    plan = load_plan(default_plan_path())
    return AddressResolver({d.code: d.name_zh for d in plan.districts}, plan.city.code,
                           plan.city.name_zh, spanning_areas(plan.city.code))  # fmt: skip


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("重庆市渝北区龙溪街道金龙路1号", "500112"), ("重庆渝中区解放碑", "500103"),
        ("重庆市涪陵区江北街道", "500102"),  # 江北街道 is a street, not 江北区
        ("重庆市武隆区凤山街道", "500156"),  # 武隆区 since 2016: the plan's name, not cpca's data
        ("重庆市秀山土家族苗族自治县中和街道", "500241"), ("奉节县永安街道", "500236"),
    ],
)  # fmt: skip
def test_addresses_that_resolve(resolver: AddressResolver, address: str, code: str) -> None:
    assert resolver.resolve(address) == Resolution(code)


@pytest.mark.parametrize(
    ("address", "reason", "problem"),
    [
        ("重庆市", "address_not_found", "names no county-level division of the plan"),
        ("某某路88号", "address_not_found", "names no county-level division of the plan"),
        ("重庆市武隆县巷口镇", "address_not_found", "武隆县 (500232) is not a division"),
        ("北京市海淀区中关村大街1号", "address_outside_plan", "is in 北京市海淀区 (110108)"),
        ("浙江省宁波市江北区", "address_outside_plan", "is in 浙江省宁波市江北区 (330205)"),
        ("江北区建新北路8号", "address_ambiguous",
         "江北区 is both 江北区 (500105) and in 浙江省宁波市 (330205); write the city"),
        ("重庆市渝北区和江北区", "address_ambiguous", "names several divisions: 江北区、渝北区"),
        ("重庆市两江新区金渝大道99号", "address_ambiguous",
         "两江新区 spans several divisions (江北区、渝北区、北碚区)"),
    ],
)  # fmt: skip
def test_addresses_that_do_not_resolve_say_why(
    resolver: AddressResolver, address: str, reason: str, problem: str
) -> None:
    answer = resolver.resolve(address)
    assert (answer.code, answer.reason) == (None, reason)
    assert problem in (answer.problem or ""), answer.problem


def test_many_at_once_with_repeats(resolver: AddressResolver) -> None:
    answers = resolver.resolve_many(["重庆市南岸区茶园", "", "重庆市南岸区茶园", "重庆市"])
    assert {a: r.code for a, r in answers.items()} == {"重庆市南岸区茶园": "500108", "重庆市": None}
