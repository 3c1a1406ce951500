"""The tokens file: hashes only, scopes, revocation, and where clients find their token."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from services.ingest.adapters.tokens import (
    TokenError,
    TokenStore,
    client_token,
    ensure_token,
    token_hash,
)
from services.ingest.domain.grants import TokenGrant, matches


def test_a_token_is_stored_only_as_its_hash(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token = store.add("cnipa", ["/registries/cnipa/*"], ["cn.ipr.patent.*"])
    text = (tmp_path / "tokens.json").read_text()
    assert token not in text
    assert json.loads(text)["tokens"][0]["sha256"] == token_hash(token)
    assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o600
    assert len(token) > 40
    assert store.verify(token) == TokenGrant(
        "cnipa", ("/registries/cnipa/*",), ("cn.ipr.patent.*",)
    )
    assert store.verify(token + "x") is None
    assert store.verify("") is None


def test_list_revoke_and_duplicate_names(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    first = store.add("a", ["*"], ["*"])
    store.add("b", ["/x"], ["cn.ipr.pct.application.filed"])
    assert [t.name for t in store.list()] == ["a", "b"]
    with pytest.raises(TokenError, match="a token named 'a' exists"):
        store.add("a", ["*"], ["*"])
    assert store.revoke("a") is True
    assert store.revoke("a") is False
    assert store.verify(first) is None
    assert [t.name for t in TokenStore(tmp_path / "tokens.json").list()] == ["b"]


def test_a_second_store_on_the_same_file_sees_changes(tmp_path: Path) -> None:
    service = TokenStore(tmp_path / "tokens.json")
    assert service.is_empty()
    token = TokenStore(tmp_path / "tokens.json").add("late", ["*"], ["*"])
    assert service.verify(token) is not None
    TokenStore(tmp_path / "tokens.json").revoke("late")
    assert service.verify(token) is None


def test_a_token_needs_a_scope(tmp_path: Path) -> None:
    with pytest.raises(TokenError, match="at least one --source and one --type"):
        TokenStore(tmp_path / "t.json").add("x", [], ["*"])


def test_a_corrupt_tokens_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text("{nope")
    with pytest.raises(TokenError, match="t.json is not valid JSON"):
        TokenStore(tmp_path / "t.json").is_empty()


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "/anything", True),
        ("/registries/cnipa/*", "/registries/cnipa/patents", True),
        ("/registries/cnipa/*", "/registries/cnipa", False),
        ("/registries/cnipa/*", "/registries/samr/x", False),
        ("/registries/cnipa", "/registries/cnipa", True),
        ("/registries/cnipa", "/registries/cnipa/patents", False),
    ],
)
def test_patterns(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_ensure_token_creates_once_and_keeps_a_working_one(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    plaintext = tmp_path / "simulator.token"
    token = ensure_token(store, "simulator", plaintext)
    assert plaintext.read_text().strip() == token
    assert stat.S_IMODE(plaintext.stat().st_mode) == 0o600
    assert ensure_token(store, "simulator", plaintext) == token
    plaintext.unlink()  # the plaintext is lost: a new token replaces the old one
    renewed = ensure_token(store, "simulator", plaintext)
    assert renewed != token
    assert store.verify(token) is None
    assert store.verify(renewed) == TokenGrant("simulator", ("*",), ("*",))
    assert [t.name for t in store.list()] == ["simulator"]


def test_clients_find_their_token_flag_then_env_then_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IPRWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("IPRWATCH_TOKEN", raising=False)
    assert client_token(None) is None
    (tmp_path / "simulator.token").write_text("from-file\n")
    assert client_token(None) == "from-file"
    monkeypatch.setenv("IPRWATCH_TOKEN", "from-env")
    assert client_token(None) == "from-env"
    assert client_token("from-flag") == "from-flag"


def test_stack_up_provisions_the_simulator_token_once(tmp_path: Path) -> None:
    from iprwatch.stack.home import StackHome
    from iprwatch.stack.stack import provision_ingest_tokens

    home = StackHome(tmp_path / "stack")
    env = provision_ingest_tokens(home, {})
    tokens_file = home.root / "ingest-tokens.json"
    assert env == {"IPRWATCH_INGEST_TOKENS_FILE": str(tokens_file)}
    token = (home.root / "simulator.token").read_text().strip()
    assert stat.S_IMODE((home.root / "simulator.token").stat().st_mode) == 0o600
    assert TokenStore(tokens_file).verify(token) == TokenGrant("simulator", ("*",), ("*",))
    provision_ingest_tokens(home, {})  # a second `up` keeps the token
    assert (home.root / "simulator.token").read_text().strip() == token
    elsewhere = tmp_path / "given.json"
    assert provision_ingest_tokens(home, {"IPRWATCH_INGEST_TOKENS_FILE": str(elsewhere)}) == {
        "IPRWATCH_INGEST_TOKENS_FILE": str(elsewhere)
    }
    assert [t.name for t in TokenStore(elsewhere).list()] == ["simulator"]
