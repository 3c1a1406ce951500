"""The CLI's files: `<stem>.html` and `<stem>.pdf` of a bulletin, and the folder's index.

`reports.json` in the output folder lists every bulletin written there (plan, month, files,
pages, size, digest), newest first; writing the same plan and month again replaces its entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.bulletin.render import pdf
from shared.bulletin.rows import Bulletin

INDEX = "reports.json"


@dataclass(frozen=True)
class Written:
    html: Path
    pdf: Path
    pages: int
    bytes: int


def file_stem(bulletin: Bulletin) -> str:
    return f"bulletin-{bulletin.plan_id}-{bulletin.month}"


def write(bulletin: Bulletin, page: str, out: Path) -> Written:
    """Write `<stem>.html` and `<stem>.pdf` into `out` and record them in its index."""
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(bulletin)
    html_file, pdf_file = out / f"{stem}.html", out / f"{stem}.pdf"
    html_file.write_text(page, encoding="utf-8")
    made, pages = pdf(page, base_url=str(out))
    pdf_file.write_bytes(made)
    written = Written(html_file, pdf_file, pages, len(made))
    record(out, bulletin, written, hashlib.sha256(made).hexdigest())
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
