"""The monthly bulletin (统计月报) as a mail: who gets it, which month it covers, the mail itself.

On the first working day of a month (`working_days`), each plan in progress at the end of the
month before (and a plan whose last month it was) has its bulletin of that month mailed to the
plan area's recipients (the city's officials, as for a final evaluation). The mail has a short
HTML body (with a plain-text alternative), Chinese first and one English line last, and the
PDF attached. Its Message-ID depends only on (plan, month, recipient): the send log holds one
message per key, so a bulletin is sent once whatever restarts or replicas. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.alerts.domain.notices import DOMAIN
from services.alerts.domain.recipients import Recipients
from shared.plan import Plan
from shared.trajectory import month_end

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Report:
    """A bulletin made: what the mail says of it, and its files."""

    plan: str
    month: str  # YYYY-MM
    plan_name: str
    document_no: str
    title: str  # "重庆市知识产权统计月报"
    month_label: str  # "2022年3月"
    summary: tuple[str, ...]
    pdf: bytes
    html: str
    pages: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()

    @property
    def filename(self) -> str:
        return f"bulletin-{self.plan}-{self.month}.pdf"


def report_month(today: date) -> str:
    """The month a bulletin made on `today` covers: the one before."""
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year}-{month:02d}"


def reported(plan: Plan, month: str) -> bool:
    """Whether `plan` has a bulletin of `month`: the month ends inside the plan's period (its
    last month included, the baseline month not)."""
    end = month_end(month)
    return plan.baseline_date < end and plan.state(end) == "in_progress"


def area_recipients(recipients: Recipients, plan: Plan) -> tuple[str, ...]:
    return recipients.for_alert(plan.city.code, plan.city.code)


def bulletin_message_id(plan: str, month: str, recipient: str) -> str:
    digest = hashlib.sha256(f"{plan}\n{month}\n{recipient.lower()}".encode()).hexdigest()
    return f"<bulletin.{plan}.{month}.{digest[:24]}@{DOMAIN}>"


def bulletin_subject(report: Report) -> str:
    return f"{report.title} {report.month_label} · {report.plan_name}"


def compose_bulletin(
    report: Report, recipient: str, sender: str, created_at: datetime, timezone: str
) -> EmailMessage:
    context = {
        "title": report.title, "plan_name": report.plan_name, "document_no": report.document_no,
        "month_label": report.month_label, "summary": report.summary, "filename": report.filename,
        "pages": report.pages, "plan_id": report.plan, "month": report.month,
    }  # fmt: skip
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = bulletin_subject(report)
    msg["Date"] = format_datetime(created_at.astimezone(ZoneInfo(timezone)))
    msg["Message-ID"] = bulletin_message_id(report.plan, report.month, recipient)
    msg["X-IPRWatch-Plan"] = report.plan
    msg["X-IPRWatch-Bulletin"] = report.month
    msg.set_content(_ENV.get_template("bulletin.txt.j2").render(context), cte="base64")
    msg.add_alternative(
        _ENV.get_template("bulletin.html.j2").render(context), subtype="html", cte="base64"
    )
    msg.add_attachment(report.pdf, maintype="application", subtype="pdf", filename=report.filename)
    return msg


def messages(
    report: Report, recipients: Sequence[str], sender: str, now: datetime, timezone: str
) -> list[tuple[str, str, str, bytes]]:
    """(message id, recipient, subject, bytes) of the bulletin's mail to each recipient."""
    return [
        (
            bulletin_message_id(report.plan, report.month, r),
            r,
            bulletin_subject(report),
            compose_bulletin(report, r, sender, now, timezone).as_bytes(),
        )
        for r in recipients
    ]


@dataclass(frozen=True)
class ReportEntry:
    """A bulletin made, as listed: its files' size and digest, and whom its mail reached."""

    plan: str
    month: str
    made_at: datetime
    pages: int
    bytes: int
    sha256: str
    recipients: tuple[str, ...]  # every recipient it was addressed to
    sent_to: tuple[str, ...]  # those whose server accepted it
