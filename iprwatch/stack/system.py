"""The system packages the stack needs (a JDK, Maven, PostgreSQL, the CJK font of the charts,
the text layout library of the bulletin's PDF), installed with apt if missing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from iprwatch.stack.processes import StackError


@dataclass(frozen=True)
class Requirement:
    command: str  # a command on PATH, or what `files` holds
    package: str
    files: str | None = None  # present when this glob matches: for packages without a command


JAVA = Requirement("java", "default-jre-headless")
MAVEN = Requirement("mvn", "maven")
POSTGRES = Requirement("initdb", "postgresql")
PROMETHEUS = Requirement("prometheus", "prometheus")  # also provides promtool
CHROMIUM = Requirement("chromium", "chromium")  # the progress board's screenshot test
# The charts' Chinese text (shared.charts): Noto Sans CJK SC.
CJK_FONT = Requirement(
    "Noto Sans CJK", "fonts-noto-cjk", files="/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc"
)

# WeasyPrint (the monthly bulletin's PDF, iprwatch.report) lays out text with Pango.
PANGO = Requirement("Pango", "libpango-1.0-0 libpangoft2-1.0-0",
                    files="/usr/lib/*/libpangoft2-1.0.so.0")  # fmt: skip
POPPLER = Requirement("pdftotext", "poppler-utils")  # the bulletin's tests read its PDF


def postgres_bindir() -> Path | None:
    """Debian keeps initdb and pg_ctl under /usr/lib/postgresql/<version>/bin."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _present(req: Requirement) -> bool:
    if req is POSTGRES:
        return postgres_bindir() is not None
    if req.files is not None:
        return bool(glob.glob(req.files))
    return shutil.which(req.command) is not None


def ensure(requirements: list[Requirement], say: object = print) -> None:
    """Install what is missing with apt when root on Debian; otherwise stop with the command."""
    missing = [req for req in requirements if not _present(req)]
    if not missing:
        return
    packages = " ".join(req.package for req in missing)
    line = f"apt-get update && apt-get install -y {packages}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(f"missing {', '.join(r.command for r in missing)}; install with: {line}")
    assert callable(say)  # noqa: S101
    say(f"installing {packages} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", *packages.split()],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise StackError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    still = [req.command for req in missing if not _present(req)]
    if still:
        raise StackError(f"{', '.join(still)} still missing after: {line}")
