"""A `Bulletin` as HTML (Jinja2, autoescaped) and as PDF (WeasyPrint).

One template serves both: the PDF is the HTML laid out on A4 pages by WeasyPrint (CSS paged
media: running header, page numbers "第 n 页 共 m 页"), so the two never disagree. The charts
are `shared.charts` PNGs at 200 dpi (1200 px over 160 mm: print quality), embedded as data
URIs (the HTML file stands alone; SVGs with glyph paths made the PDF layout ten times slower).
The text is set in Noto Serif CJK SC (body, 宋体 style) and Noto Sans CJK SC (headings and
tables, 黑体 style) from Debian's fonts-noto-cjk, subset and embedded in the PDF.
"""

from __future__ import annotations

import base64
import logging

import jinja2

from shared.bulletin.rows import Bulletin
from shared.charts import Chart, alt_text, cjk_font_file, png

CHART_SIZE = (1200, 640)  # pixels at 200 dpi: 6 × 3.2 inches, shown 160 mm wide on A4


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shared.bulletin", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def chart_image(chart: Chart) -> dict[str, str]:
    """The chart as an `<img>`'s data URI (a PNG) and alt text."""
    drawing, _ = png(chart, size=CHART_SIZE)
    encoded = base64.b64encode(drawing).decode("ascii")
    return {"src": f"data:image/png;base64,{encoded}", "alt": alt_text(chart)}


def html(bulletin: Bulletin, images: list[dict[str, str]] | None = None) -> str:
    """The bulletin's HTML page; `images` (one per chart) default to drawing the charts."""
    cjk_font_file()  # FontMissing names the package before anything is drawn
    pictures = images if images is not None else [chart_image(c) for c in bulletin.charts]
    template = _environment().get_template("bulletin.html.j2")
    return template.render(b=bulletin, images=pictures)


def pdf(page: str, base_url: str | None = None) -> tuple[bytes, int]:
    """The page laid out on A4 by WeasyPrint: the PDF's bytes and its number of pages."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy: only when laying out

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=page, base_url=base_url).render()
    made = document.write_pdf()
    assert made is not None  # noqa: S101 - no target given: the bytes are returned
    return made, len(document.pages)
