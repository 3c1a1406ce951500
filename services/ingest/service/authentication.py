"""Who sends a request: its bearer token checked against the configured tokens."""

from __future__ import annotations

from services.ingest.domain.grants import TokenGrant
from services.ingest.service.ports import TokenLookup

ADD_TOKEN_HINT = "iprwatch tokens add NAME --source SOURCE --type TYPE"  # noqa: S105


class Unauthenticated(Exception):
    """No grant for this request (401); the message says what to send."""


def authenticate(tokens: TokenLookup, authorization: str | None) -> TokenGrant:
    """The grant of the `Authorization: Bearer <token>` header.

    Raises `Unauthenticated`, or `TokensUnreadable` when no token can be checked at all.
    """
    if tokens.is_empty():
        raise Unauthenticated(
            f"no ingest tokens are configured ({tokens.path}): create one with "
            f"`{ADD_TOKEN_HINT}` and send it as `Authorization: Bearer <token>`"
        )
    scheme, _, token = (authorization or "").partition(" ")
    if not authorization or scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token: send `Authorization: Bearer <token>`")
    grant = tokens.verify(token.strip())
    if grant is None:
        raise Unauthenticated("unknown or revoked token")
    return grant
