"""Optional bearer authentication for the read APIs (`IPRWATCH_READ_TOKENS`).

Unset (the default), the read APIs are open, as on a trusted office network. Set to a
comma-separated list of tokens, every read endpoint that a service protects with `guard`
needs `Authorization: Bearer <token>`, or the `iprwatch_read` cookie that a browser gets by
opening a page once with `?token=<token>` (so the board keeps working in a browser).
`/healthz`, `/readyz` and `/metrics` stay open: probes and Prometheus scraping need no token.
Tokens are compared as SHA-256 digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable

from fastapi import HTTPException, Request
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

COOKIE = "iprwatch_read"


class ReadAccessSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPRWATCH_", extra="ignore")

    read_tokens: SecretStr | None = None

    def access(self) -> ReadAccess:
        raw = self.read_tokens.get_secret_value() if self.read_tokens else ""
        return ReadAccess(token.strip() for token in raw.split(",") if token.strip())


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class ReadAccess:
    def __init__(self, tokens: Iterable[str]) -> None:
        self._digests = tuple(_digest(token) for token in tokens)

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def accepts(self, token: str | None) -> bool:
        if not self.enabled:
            return True
        if not token:
            return False
        candidate = _digest(token)
        return any(hmac.compare_digest(candidate, known) for known in self._digests)

    def token_of(self, request: Request) -> str | None:
        """The bearer token of the request, else its cookie, else its `token` query parameter."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.cookies.get(COOKIE) or request.query_params.get("token")

    def guard(self) -> Callable[[Request], None]:
        """A FastAPI dependency: 401 with `WWW-Authenticate: Bearer` unless the token is known."""

        def check(request: Request) -> None:
            if not self.accepts(self.token_of(request)):
                raise HTTPException(
                    401,
                    "a read token is required: Authorization: Bearer <token>",
                    headers={"WWW-Authenticate": 'Bearer realm="iprwatch"'},
                )

        return check
