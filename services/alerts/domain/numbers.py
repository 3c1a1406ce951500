"""Numbers and times as Chinese officials read them: now in `shared.numbers` (the charts,
the board and the bulletin use them too); kept here for the alerts service's imports."""

from __future__ import annotations

from shared.numbers import SHANGHAI, beijing_time, chinese_amount, with_unit

__all__ = ["SHANGHAI", "beijing_time", "chinese_amount", "with_unit"]
