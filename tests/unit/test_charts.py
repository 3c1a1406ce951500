"""The charts officials read: what is drawn (texts, ticks, marks, legend), the PNG's size, the
CJK font really used and embedded, the units as officials write them."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from matplotlib import font_manager
from PIL import Image

from shared.charts import Chart, FontMissing, Forecast, alt_text, drawing, png, svg
from shared.numbers import axis_scale, with_unit

pytestmark = pytest.mark.usefixtures("cjk_font")

PLAN = '重庆市知识产权保护和运用"十四五"规划(2021—2025年)'
TITLE = "重庆市 · 知识产权质押融资金额累计 · 重庆市知识产权保护和运用“十四五”规划(2021—2025年)"


def _year_end(year: int) -> date:
    return date(year, 12, 31)


PLEDGE = Chart(
    division="重庆市",
    indicator="知识产权质押融资金额累计",
    plan=PLAN,
    unit="cny",
    actual=[(date(2021, 6, 30), 9e8), (_year_end(2021), 22e8), (_year_end(2022), 41e8),
            (_year_end(2023), 60e8)],
    path=[(_year_end(y), (y - 2020) * 28e8) for y in range(2020, 2026)],
    milestones=[(_year_end(2022), 50e8), (_year_end(2024), 100e8)],
    target=140e8,
    target_date=_year_end(2025),
    forecast=Forecast(_year_end(2025), 94e8, 79e8, 112e8),
    as_of=date(2024, 3, 31),
    required=91e8,
)  # fmt: skip


def test_the_chart_says_what_it_shows() -> None:
    text, drawn = svg(PLEDGE, text="text")
    assert drawn.title == TITLE
    assert drawn.x_label == "时间(年末)"
    assert drawn.y_label == "金额(亿元)"
    assert drawn.x_ticks == ("2020年末", "2021年末", "2022年末", "2023年末", "2024年末", "2025年末")
    assert drawn.legend == ("实际值", "规划路径", "年度目标", "目标", "预测 (90% 区间)")
    assert drawn.labels == ("60亿元(2023年12月)", "要求 91亿元", "目标 140亿元")
    assert drawn.figures == (
        "截至2024年3月31日:实际 60亿元 · 要求 91亿元 · 目标 140亿元 · "
        "预测 94亿元(90%区间 79~112亿元)"
    )
    # the SVG (text kept as text) carries every one of them
    shown = re.findall(r"<text[^>]*>([^<]*)</text>", text)
    title_lines = [
        "重庆市 · 知识产权质押融资金额累计",
        "重庆市知识产权保护和运用“十四五”规划(2021—2025年)",
    ]
    for expected in [*title_lines, drawn.figures, drawn.x_label, drawn.y_label, *drawn.x_ticks,
                     *drawn.legend, *drawn.labels]:  # fmt: skip
        assert expected in shown, expected
    assert {"0", "50", "100", "150"} <= set(shown)  # y ticks in 亿元
    assert drawn.y_range == pytest.approx((0.0, 140 * 1.12))  # from zero: the values start low


def test_a_stock_far_above_zero_gets_an_axis_from_below_its_lowest_value() -> None:
    chart = Chart("成都市", "有效发明专利", "成都市知识产权测试规划", "count",
                  actual=[(_year_end(2026), 58_000.0), (_year_end(2027), 65_000.0)],
                  path=[(_year_end(2025), 52_000.0), (_year_end(2030), 98_000.0)],
                  target=98_000.0, target_date=_year_end(2030))  # fmt: skip
    _, drawn = png(chart, (600, 350), dpi=100)
    assert drawn.y_label == "数量(万件)"
    assert drawn.y_range == pytest.approx((4.0, 9.8 + 4.6 * 0.12))  # 5.2万 less 8 % of the spread


def test_a_short_span_has_month_ticks_and_a_change_says_so() -> None:
    chart = Chart("大足区", "地理标志拥有量", PLAN, "count",
                  actual=[(date(2024, m, 28 if m == 2 else 30), float(m)) for m in (1, 4, 6)],
                  as_of=date(2024, 6, 30), change_since=date(2020, 12, 31))  # fmt: skip
    _, drawn = png(chart, (600, 350), dpi=100)
    assert drawn.x_ticks == tuple(f"2024年{m}月" for m in range(1, 7))
    assert drawn.x_label == "时间(月末)"
    assert drawn.y_label == "较2020年末增加(件)"
    assert drawn.legend == ("实际值",)
    assert drawn.labels == ("6件(2024年6月)",)
    assert drawn.figures == "截至2024年6月30日:实际 6件"


def test_the_png_is_a_png_of_the_asked_size_with_the_palette() -> None:
    data, drawn = png(PLEDGE)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    assert image.size == drawn.size == (1200, 700)
    colours = {c for _, c in image.convert("RGB").getcolors(1200 * 700) or []}
    assert (0x00, 0x72, 0xB2) in colours  # the series (Okabe-Ito blue)
    assert (0xD5, 0x5E, 0x00) in colours  # the target (vermillion)


def test_the_cjk_font_draws_the_chinese_and_is_embedded_in_the_svg(cjk_font: str) -> None:
    assert cjk_font.endswith("NotoSansCJK-Regular.ttc")
    path = font_manager.findfont(font_manager.FontProperties(family="Noto Sans CJK SC"),
                                 fallback_to_default=False)  # fmt: skip
    font = font_manager.get_font(path)
    assert font.family_name == "Noto Sans CJK SC"
    text, _ = svg(PLEDGE)  # glyphs as paths: renders without the font
    assert "<text" not in text
    for char in "重庆市规划路径实际值":  # in regular weight (the title is bold)
        glyph = f"{font.postscript_name}-{font.get_char_index(ord(char)):x}"
        assert font.get_char_index(ord(char)) != 0  # the font has it: no tofu
        assert f'id="{glyph}"' in text, char


def test_a_missing_font_is_named_with_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    drawing.cjk_font_file.cache_clear()
    monkeypatch.setattr(drawing, "FONT_FAMILY", "No Such Font CJK")
    try:
        with pytest.raises(FontMissing, match=r"apt-get install fonts-noto-cjk"):
            png(PLEDGE)
    finally:
        monkeypatch.undo()
        drawing.cjk_font_file.cache_clear()


def test_the_alt_text_states_the_numbers() -> None:
    assert alt_text(PLEDGE) == (
        "重庆市知识产权质押融资金额累计走势图;当前值 60亿元(截至2023年12月),规划路径要求值 91亿元,"
        "2025年末目标 140亿元,到期预测值 94亿元(90%区间 79~112亿元)。"
    )


def test_units_as_officials_write_them() -> None:
    assert with_unit(7, "count") == "7件"
    assert with_unit(52_300, "count") == "5.23万件"
    assert with_unit(1.5e9, "cny") == "15亿元"
    assert with_unit(3.456, "cny_100m") == "3.46亿元"
    assert with_unit(0.125, "share") == "12.5%"
    assert with_unit(8.1, "per_10k_population") == "8.1件/万人"
    assert axis_scale(9_999, "count") == (1.0, "件")
    assert axis_scale(52_300, "count") == (1e4, "万件")
    assert axis_scale(1.4e10, "cny") == (1e8, "亿元")
    assert axis_scale(0.3, "share") == (0.01, "%")
