"""Shared fixtures: a deterministic two-party registry (US, RU) and the log operator.

Each party has one key that may author records (roles declarant + inspector) and one witness key
(witness role only, with a C2SP note name). The log operator's key carries the log-operator role.
Keys come from fixed seeds, so every run signs the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detente.envelope.dsse import Envelope
from detente.envelope.keys import SigningKey
from detente.envelope.record import make_record
from detente.envelope.verify import KeyRing
from detente.log.note import NoteVerifier
from detente.model.parties import Party, PartyKey, Registry, Role

ORIGIN = "detente.test/log"
OPERATOR_NAME = "log.detente.test"
WITNESS_NAMES = {"US": "witness.us.detente.test", "RU": "witness.ru.detente.test"}
#: The log's clock in tests; records are signed at this instant unless a test says otherwise.
NOW = datetime(2022, 3, 1, 12, 0, 0, tzinfo=UTC)


def seeded_key(label: str) -> SigningKey:
    """A deterministic Ed25519 key derived from `label`."""
    return SigningKey.from_seed(hashlib.sha256(b"detente-tests/" + label.encode()).digest())


@dataclass(frozen=True)
class TestKeys:
    """The private halves of every key in the test registry."""

    __test__ = False  # not a test class, despite the name

    us: SigningKey  # US declarant + inspector
    us_witness: SigningKey
    ru: SigningKey  # RU declarant + inspector
    ru_witness: SigningKey
    operator: SigningKey
    outsider: SigningKey  # registered nowhere

    def author_key(self, party: str) -> SigningKey:
        return {"US": self.us, "RU": self.ru}[party]

    def witness_key(self, party: str) -> SigningKey:
        return {"US": self.us_witness, "RU": self.ru_witness}[party]


AUTHOR_ROLES = frozenset({Role.DECLARANT, Role.INSPECTOR})


@pytest.fixture(scope="session")
def keys() -> TestKeys:
    return TestKeys(
        us=seeded_key("US/author"),
        us_witness=seeded_key("US/witness"),
        ru=seeded_key("RU/author"),
        ru_witness=seeded_key("RU/witness"),
        operator=seeded_key("operator"),
        outsider=seeded_key("outsider"),
    )


def build_registry(keys: TestKeys) -> Registry:
    reg = Registry(
        origin=ORIGIN,
        operator=PartyKey(keys.operator.public_key, frozenset({Role.LOG_OPERATOR}), OPERATOR_NAME),
    )
    for pid, name in (("US", "United States"), ("RU", "Russian Federation")):
        reg.add_party(
            Party(
                pid,
                name,
                (
                    PartyKey(keys.author_key(pid).public_key, AUTHOR_ROLES),
                    PartyKey(
                        keys.witness_key(pid).public_key, frozenset({Role.WITNESS}), WITNESS_NAMES[pid]
                    ),
                ),
            )
        )
    return reg


@pytest.fixture
def registry(keys: TestKeys) -> Registry:
    return build_registry(keys)


@pytest.fixture
def keyring(registry: Registry) -> KeyRing:
    return KeyRing(registry)


@pytest.fixture(scope="session")
def origin() -> str:
    return ORIGIN


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def operator_name() -> str:
    return OPERATOR_NAME


@pytest.fixture(scope="session")
def operator_verifier(keys: TestKeys) -> NoteVerifier:
    return NoteVerifier(OPERATOR_NAME, keys.operator.public_key)


def header_payload(
    kind: str = "declaration",
    author: str = "US",
    seq: int = 1,
    body: dict[str, Any] | None = None,
    *,
    log: str = ORIGIN,
    signed_at: str = "2022-03-01T12:00:00Z",
) -> dict[str, Any]:
    """A record payload (as a dict) with every header field set."""
    return {
        "author": author,
        "body": {"items": 1} if body is None else body,
        "kind": kind,
        "log": log,
        "seq": seq,
        "signed_at": signed_at,
    }


@pytest.fixture(scope="session")
def payload() -> Callable[..., dict[str, Any]]:
    """Factory for record payload dicts: payload(kind=..., author=..., seq=..., ...)."""
    return header_payload


@pytest.fixture
def record(keys: TestKeys) -> Callable[..., Envelope]:
    """Factory for signed records made the author's way (detente.envelope.record.make_record).

    record(kind="declaration", author="US", seq=1, body=None, key=None, cosigners=(), log=ORIGIN,
    signed_at=NOW); `key` defaults to the author's own key.
    """

    def make(
        kind: str = "declaration",
        author: str = "US",
        seq: int = 1,
        body: dict[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        cosigners: tuple[SigningKey, ...] = (),
        log: str = ORIGIN,
        signed_at: datetime = NOW,
    ) -> Envelope:
        return make_record(
            kind,
            author,
            seq,
            {"items": 1} if body is None else body,
            key or keys.author_key(author),
            log=log,
            signed_at=signed_at,
            cosigners=cosigners,
        )

    return make


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One `detente demo` workspace per test process (it takes a few seconds), read-only to tests."""
    from detente.cli.demo import run_demo

    path = tmp_path_factory.mktemp("demo") / "ws"
    run_demo(path, None)
    return path


@pytest.fixture
def umask0() -> Iterator[None]:
    """Run with umask 0: whatever the code creates has exactly the mode it asks for."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def file_mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)
