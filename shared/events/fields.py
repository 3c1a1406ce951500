"""The contract's constants and the field types its events share: division codes, and text
that PostgreSQL can store and a log can show."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from shared.cloudevents import SPEC_VERSION as SPEC_VERSION  # defined once, there
from shared.event_types import TYPE_PREFIX as TYPE_PREFIX  # defined once, there

CONTRACT_VERSION = 1

EARLIEST_ACT = date(1985, 1, 1)  # the Chinese Patent Law took effect on 1985-04-01

# A GB/T 2260 code; which codes are accepted is the plan's business (validation context).
DistrictCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]

# Every string of an event must be storable as PostgreSQL `text` and readable in a log: no C0
# control character (NUL included), no DEL, no C1 control character, no lone UTF-16 surrogate
# (JSON can write one, UTF-8 cannot encode it). The JSON Schema states the control characters as
# a pattern; surrogates are not characters of a JSON Schema string, so only the check names them.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
TEXT_PATTERN = f"^[^{_CONTROL}]*$"
IDENTIFIER_PATTERN = rf"^[^\s{_CONTROL}]([^{_CONTROL}]*[^\s{_CONTROL}])?$"
UNSTORABLE = re.compile(rf"[{_CONTROL}\ud800-\udfff]")


def storable(value: Any) -> Any:
    """`value` unless it is a string PostgreSQL cannot store as `text` (a ValueError naming the
    character then); run before the string checks, so a lone surrogate gets this message too."""
    found = UNSTORABLE.search(value) if isinstance(value, str) else None
    if found is None:
        return value
    char = found.group()
    kind = "a lone UTF-16 surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    raise ValueError(f"{kind} (U+{ord(char):04X}) at position {found.start()} is not allowed")


def _trimmed(value: str) -> str:
    if value != value.strip():
        raise ValueError("leading or trailing whitespace is not allowed")
    return value


class _Pattern:
    """Adds a pattern to a string's JSON Schema (the check itself is a validator's)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


# Free text, storable (`reason`, `category`).
_FREE_TEXT = (BeforeValidator(storable), _Pattern(TEXT_PATTERN))
Reason = Annotated[str, StringConstraints(max_length=256), *_FREE_TEXT]
Category = Annotated[str, StringConstraints(max_length=64), *_FREE_TEXT]
Document = Annotated[str, StringConstraints(max_length=256), *_FREE_TEXT]


# An identifier (`id`, `source`, `subject`): 1-256 characters, storable, no surrounding spaces.
ShortText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=256),
    BeforeValidator(storable),
    AfterValidator(_trimmed),
    _Pattern(IDENTIFIER_PATTERN),
]
