"""The registration events' types, named once (the contract's `DATA_MODELS` maps each to its
data model; the fold, the simulator and the importers use these names)."""

from __future__ import annotations

TYPE_PREFIX = "cn.ipr."

GRANTED = TYPE_PREFIX + "patent.invention.granted"
LAPSED = TYPE_PREFIX + "patent.invention.lapsed"
RESTORED = TYPE_PREFIX + "patent.invention.restored"
TRANSFERRED = TYPE_PREFIX + "patent.invention.transferred"
RECLASSIFIED = TYPE_PREFIX + "patent.invention.reclassified"
PCT_FILED = TYPE_PREFIX + "pct.application.filed"
TM_REGISTERED = TYPE_PREFIX + "trademark.registered"
TM_LAPSED = TYPE_PREFIX + "trademark.lapsed"
MADRID = TYPE_PREFIX + "trademark.madrid.registered"
GI_PRODUCT = TYPE_PREFIX + "gi.product.registered"
SOFTWARE = TYPE_PREFIX + "copyright.software.registered"
WORK = TYPE_PREFIX + "copyright.work.registered"
PLEDGE = TYPE_PREFIX + "finance.pledge.registered"
REVENUE = TYPE_PREFIX + "service.revenue.reported"
STATISTIC = TYPE_PREFIX + "statistic.reported"
