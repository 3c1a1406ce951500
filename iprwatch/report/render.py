"""A `Bulletin` as HTML (Jinja2, autoescaped) and as PDF (WeasyPrint), and the folder's index.

One template serves both: the PDF is the HTML laid out on A4 pages by WeasyPrint (CSS paged
media: running header, page numbers "第 n 页 共 m 页"), so the two never disagree. The charts
are `shared.charts` PNGs at 200 dpi (1200 px over 160 mm: print quality), embedded as data
URIs (the HTML file stands alone; SVGs with glyph paths made the PDF layout ten times slower).
The text is set in Noto Serif CJK SC (body, 宋体 style) and Noto Sans CJK SC (headings and
tables, 黑体 style) from Debian's fonts-noto-cjk, subset and embedded in the PDF.

`reports.json` in the output folder lists every bulletin written there (plan, month, files,
pages, size, digest), newest first; writing the same plan and month again replaces its entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from iprwatch.report.model import Bulletin
from shared.charts import Chart, alt_text, cjk_font_file, png

INDEX = "reports.json"
CHART_SIZE = (1200, 640)  # pixels at 200 dpi: 6 × 3.2 inches, shown 160 mm wide on A4


@dataclass(frozen=True)
class Written:
    html: Path
    pdf: Path
    pages: int
    bytes: int


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("iprwatch.report", "templates"),
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


def file_stem(bulletin: Bulletin) -> str:
    return f"bulletin-{bulletin.plan_id}-{bulletin.month}"


def write(bulletin: Bulletin, page: str, out: Path) -> Written:
    """Write `<stem>.html` and `<stem>.pdf` into `out` and record them in its index."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy: only when writing

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(bulletin)
    html_file, pdf_file = out / f"{stem}.html", out / f"{stem}.pdf"
    html_file.write_text(page, encoding="utf-8")
    document = HTML(string=page, base_url=str(out)).render()
    pdf = document.write_pdf()
    assert pdf is not None  # noqa: S101 - no target given: the bytes are returned
    pdf_file.write_bytes(pdf)
    written = Written(html_file, pdf_file, len(document.pages), len(pdf))
    record(out, bulletin, written, hashlib.sha256(pdf).hexdigest())
    return written


def record(out: Path, bulletin: Bulletin, written: Written, digest: str) -> list[dict[str, Any]]:
    """Add (or replace) this bulletin's entry in `out/reports.json`; return the entries."""
    index = out / INDEX
    entries: list[dict[str, Any]] = []
    if index.is_file():
        try:
            entries = list(json.loads(index.read_text(encoding="utf-8")).get("reports", []))
        except (ValueError, AttributeError):
            entries = []  # a damaged index is rebuilt from this report on
    entries = [
        e for e in entries if (e.get("plan"), e.get("month")) != (bulletin.plan_id, bulletin.month)
    ]
    entries.insert(0, {
        "plan": bulletin.plan_id, "plan_name": bulletin.plan_name, "month": bulletin.month,
        "as_of": bulletin.as_of.isoformat(), "made_on": bulletin.made_on.isoformat(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pdf": written.pdf.name, "html": written.html.name, "pages": written.pages,
        "bytes": written.bytes, "sha256": digest,
    })  # fmt: skip
    text = json.dumps({"reports": entries}, ensure_ascii=False, indent=2)
    index.write_text(text + "\n", encoding="utf-8")
    return entries
