"""Who hears about what: district officials get their district, city officials every alert."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipient(_Frozen):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = None


class Webhook(_Frozen):
    """An Alertmanager-compatible receiver (`alertmanager`) or a WeCom/DingTalk group robot."""

    name: str
    kind: Literal["alertmanager", "wecom", "dingtalk"]
    url: str
    districts: tuple[str, ...] = ()  # empty: every alert


class Recipients(_Frozen):
    city: tuple[Recipient, ...] = ()
    districts: dict[str, tuple[Recipient, ...]] = {}
    webhooks: tuple[Webhook, ...] = ()

    def for_alert(self, district: str, city_code: str) -> tuple[str, ...]:
        """Addresses told about an alert of `district`: its own officials, then the city's."""
        own = () if district == city_code else self.districts.get(district, ())
        seen: dict[str, None] = {}
        for recipient in (*own, *self.city):
            seen.setdefault(recipient.email.lower(), None)
        return tuple(seen)

    def webhooks_for(self, district: str) -> tuple[Webhook, ...]:
        return tuple(w for w in self.webhooks if not w.districts or district in w.districts)
