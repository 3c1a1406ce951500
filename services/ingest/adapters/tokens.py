"""Bearer tokens of the registry systems, kept as SHA-256 hashes in one JSON file.

The plaintext of a token is shown once, by `add`, and never stored. The service re-reads the
file when it changes, so `iprwatch tokens add|revoke` takes effect without a restart.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.ingest.domain.grants import TokenGrant
from services.ingest.service.ports import TokenError as TokenError
from services.ingest.service.ports import TokensUnreadable
from shared.ingest_client import client_token as shared_client_token

TOKEN_PREFIX = "iprw_"  # noqa: S105 - a marker, not a secret
FILE_VERSION = 1


class TokenFileError(TokenError, TokensUnreadable):
    """The tokens file is not what it must be (JSON with a list `tokens`)."""


@dataclass(frozen=True)
class StoredToken:
    name: str
    sha256: str
    sources: tuple[str, ...]
    types: tuple[str, ...]
    created: str

    @property
    def grant(self) -> TokenGrant:
        return TokenGrant(self.name, self.sources, self.types)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "sources": list(self.sources),
            "types": list(self.types),
            "created": self.created,
        }


def stack_folder() -> Path:
    """`IPRWATCH_HOME`, else `<repo>/.iprwatch`: where the local stack keeps its files."""
    default = Path(__file__).resolve().parents[3] / ".iprwatch"
    return Path(os.environ.get("IPRWATCH_HOME", default))


def default_tokens_file() -> Path:
    return stack_folder() / "ingest-tokens.json"


def simulator_token_file() -> Path:
    return stack_folder() / "simulator.token"


def client_token(explicit: str | None = None) -> str | None:
    """A client's token: `--token`, else env `IPRWATCH_TOKEN`, else `.iprwatch/simulator.token`."""
    return shared_client_token(explicit, simulator_token_file())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._tokens: builtins.list[StoredToken] = []
        self._by_hash: dict[str, StoredToken] = {}

    # -- reading -------------------------------------------------------------------------
    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._tokens, self._by_hash = None, [], {}
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        self._tokens = _read(self.path)
        self._by_hash = {t.sha256: t for t in self._tokens}
        self._stamp = stamp

    def list(self) -> builtins.list[StoredToken]:
        self._refresh()
        return list(self._tokens)

    def is_empty(self) -> bool:
        self._refresh()
        return not self._tokens

    def verify(self, token: str) -> TokenGrant | None:
        """The grant of `token`, or None if it is unknown (or revoked)."""
        self._refresh()
        digest = token_hash(token)
        stored = self._by_hash.get(digest)
        if stored is None or not hmac.compare_digest(stored.sha256, digest):
            return None
        return stored.grant

    # -- writing -------------------------------------------------------------------------
    def add(self, name: str, sources: Sequence[str], types: Sequence[str]) -> str:
        """Create a token; return its plaintext (shown once, never stored)."""
        if not name.strip():
            raise TokenError("a token needs a name")
        if not sources or not types:
            raise TokenError("a token needs at least one --source and one --type")
        tokens = self.list()
        if any(t.name == name for t in tokens):
            raise TokenError(f"a token named {name!r} exists; revoke it first")
        plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        tokens.append(
            StoredToken(name, token_hash(plaintext), tuple(sources), tuple(types), created)
        )
        self._write(tokens)
        return plaintext

    def revoke(self, name: str) -> bool:
        """Remove the token named `name`; False if there was none."""
        tokens = self.list()
        kept = [t for t in tokens if t.name != name]
        if len(kept) == len(tokens):
            return False
        self._write(kept)
        return True

    def _write(self, tokens: builtins.list[StoredToken]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            {"version": FILE_VERSION, "tokens": [t.to_json() for t in tokens]},
            indent=2,
            ensure_ascii=False,
        )
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(body + "\n")
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._stamp = None


def _read(path: Path) -> list[StoredToken]:
    try:
        raw = json.loads(path.read_text() or "{}")
    except json.JSONDecodeError as exc:
        raise TokenFileError(f"{path} is not valid JSON: {exc}") from exc
    entries = raw.get("tokens", []) if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise TokenFileError(f"{path}: expected an object with a list `tokens`")
    tokens: list[StoredToken] = []
    for entry in entries:
        try:
            tokens.append(
                StoredToken(
                    str(entry["name"]),
                    str(entry["sha256"]),
                    tuple(entry["sources"]),
                    tuple(entry["types"]),
                    str(entry.get("created", "")),
                )
            )
        except (KeyError, TypeError) as exc:
            raise TokenFileError(f"{path}: a token entry lacks {exc}") from exc
    return tokens


def ensure_token(store: TokenStore, name: str, plaintext_file: Path) -> str:
    """Make sure an all-scope token `name` exists whose plaintext is in `plaintext_file` (0600).

    A token whose plaintext file is missing or does not match is replaced.
    """
    try:
        known = plaintext_file.read_text().strip()
    except OSError:
        known = ""
    grant = store.verify(known) if known else None
    if grant is not None and grant.name == name:
        return known
    store.revoke(name)
    token = store.add(name, ["*"], ["*"])
    plaintext_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(plaintext_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    os.chmod(plaintext_file, 0o600)
    return token
