"""The forecast maths now live in `shared.status` (one status definition for every surface)."""

from __future__ import annotations

from shared.status import Forecast, forecast, t95

__all__ = ["Forecast", "forecast", "t95"]
