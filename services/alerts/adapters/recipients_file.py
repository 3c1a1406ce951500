"""Reading the recipients file (YAML): per-district and city addresses, webhooks."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from services.alerts.domain.recipients import Recipients


class RecipientsError(Exception):
    pass


def load_recipients(path: Path) -> Recipients:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise RecipientsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise RecipientsError(f"{path}: invalid YAML: {exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("districts"), dict):
        raw["districts"] = {str(k): v for k, v in raw["districts"].items()}
    try:
        return Recipients.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise RecipientsError(f"{path}: {problems}") from None
