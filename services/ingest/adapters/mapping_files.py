"""The shipped import mappings (`deploy/imports/*.yaml`) and the plan area's spanning areas
(`deploy/imports/areas.yaml`), read from disk."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.ingest.domain.mapping import ImportMapping, MappingError, parse_mapping

IMPORTS_DIR = Path(__file__).resolve().parents[3] / "deploy" / "imports"
SPANNING_AREAS = "areas.yaml"


class MappingNotFound(Exception):
    """No mapping of that name or path; the message lists the shipped ones."""


def load_mapping(path: Path | str) -> ImportMapping:
    """Read and validate one mapping file; raise `MappingError` naming file, key and problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(file, [("(file)", exc.strerror or str(exc))]) from None
    return parse_mapping(text, file)


def mapping_names() -> list[str]:
    return sorted(p.stem for p in IMPORTS_DIR.glob("*.yaml") if p.name != SPANNING_AREAS)


def find_mapping(name: str) -> ImportMapping:
    """The mapping `name` (shipped) or at the path `name`; `MappingNotFound`, `MappingError`."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = IMPORTS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise MappingNotFound(f"no mapping {name!r}; shipped: {', '.join(mapping_names())} "
                              "(or give the path of a .yaml file)")  # fmt: skip
    return load_mapping(path)


def spanning_areas(area: str, file: Path = IMPORTS_DIR / SPANNING_AREAS) -> dict[str, list[str]]:
    """Areas that span several divisions (development zones) within the plan's `area` code."""
    if not file.is_file():
        return {}
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        areas = raw.get(area) or {}
        return {str(k): [str(c) for c in v["divisions"]] for k, v in areas.items()}
    except (yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
        raise MappingError(
            file, [("(top)", f"needs {{area code: {{name: {{divisions: [codes]}}}}}}: {exc}")]
        ) from None
