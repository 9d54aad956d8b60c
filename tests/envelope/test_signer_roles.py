"""Every key that signs a record must hold a role that may sign its kind, not only the author's.

Security review finding: an envelope carrying an extra signature by a witness key was accepted
(and the witness's party listed as a signer). Witness keys only cosign checkpoints (docs/log.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detente.envelope.keys import SigningKey, read_private_key
from detente.envelope.record import make_record
from detente.envelope.verify import KeyRing, verify_record
from detente.errors import RecordRefused
from detente.log.transparency import TransparencyLog
from detente.model.parties import Party, PartyKey, Registry, Role
from detente.workspace import Workspace

NOW = datetime(2022, 3, 1, 12, 0, 0, tzinfo=UTC)
ORIGIN = "detente.test/roles"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace.create(tmp_path / "ws", ORIGIN)
    for p in ("US", "RU"):
        w.add_party(p, p, roles=frozenset({Role.DECLARANT, Role.INSPECTOR}),
                    witness_name=f"witness.{p.lower()}.test")
    return w


def _witness_key(ws: Workspace, party: str) -> SigningKey:
    return read_private_key(ws.secrets / f"{party}-witness.key")


def _snapshot(log: TransparencyLog) -> tuple[int, str | None, list[bytes]]:
    return log.size(), log.store.checkpoint(), [log.leaf(i) for i in range(log.size())]


@pytest.mark.parametrize("witness", ["US", "RU"])
def test_log_refuses_record_with_a_witness_signature_and_is_unchanged(
    ws: Workspace, witness: str
) -> None:
    log = ws.log(clock=lambda: NOW)
    log.append(make_record("declaration", "US", 1, {"n": 1}, ws.party_key("US"), log=ORIGIN,
                           signed_at=NOW).canonical())
    before = _snapshot(log)
    env = make_record("declaration", "US", 2, {"n": 2}, ws.party_key("US"), log=ORIGIN,
                      signed_at=NOW, cosigners=(_witness_key(ws, witness),))
    with pytest.raises(RecordRefused) as info:
        log.append(env.canonical())
    assert info.value.code == "wrong-role"
    assert _snapshot(log) == before
    assert _snapshot(ws.log(clock=lambda: NOW)) == before  # as another process sees it
    # Without the witness's signature the same record is accepted: the refusal was the role.
    plain = make_record("declaration", "US", 2, {"n": 2}, ws.party_key("US"), log=ORIGIN,
                        signed_at=NOW)
    assert log.append(plain.canonical()).index == 1


def test_witness_signature_is_refused_for_every_kind(keyring: KeyRing, keys: Any, record: Any) -> None:
    from detente.model.records import RECORD_KINDS

    for kind in RECORD_KINDS:
        with pytest.raises(RecordRefused) as info:
            verify_record(record(kind=kind, cosigners=(keys.us_witness,)), keyring)
        assert info.value.code == "wrong-role", kind


def test_every_cosigning_key_needs_a_role_for_the_kind(keys: Any, payload: Any) -> None:
    """Not only witness keys: an inspector-only key may not countersign a declaration."""
    declarant = SigningKey.from_seed(b"\xd0" * 32)
    inspector = SigningKey.from_seed(b"\x1e" * 32)
    ru = SigningKey.from_seed(b"\x2e" * 32)
    reg = Registry(origin="detente.test/log",
                   operator=PartyKey(keys.operator.public_key, frozenset({Role.LOG_OPERATOR}), "op"))
    reg.add_party(Party("US", "US", (PartyKey(declarant.public_key, frozenset({Role.DECLARANT})),
                                     PartyKey(inspector.public_key, frozenset({Role.INSPECTOR})))))
    reg.add_party(Party("RU", "RU", (PartyKey(ru.public_key, frozenset({Role.DECLARANT})),)))
    ring = KeyRing(reg)

    def env(kind: str, *signers: SigningKey) -> Any:
        return make_record(kind, "US", 1, {"n": 1}, signers[0], log="detente.test/log",
                           signed_at=NOW, cosigners=signers[1:])

    with pytest.raises(RecordRefused) as info:
        verify_record(env("declaration", declarant, inspector), ring)
    assert info.value.code == "wrong-role"
    assert "signatures[1]" in info.value.message
    # A declarant of the other party may countersign a declaration; both are listed, author first.
    assert verify_record(env("declaration", declarant, ru), ring).signers == ("US", "RU")
    assert verify_record(env("declaration", ru, declarant), ring).signers == ("US", "RU")
    # A statement may be signed by either role, so both US keys may sign it.
    assert verify_record(env("statement", inspector, declarant), ring).signers == ("US", "US")
    # An inspection report may not carry the declarant-only key's signature.
    with pytest.raises(RecordRefused) as info:
        verify_record(env("inspection-report", inspector, declarant), ring)
    assert info.value.code == "wrong-role"


def test_existing_refusal_codes_are_kept(keyring: KeyRing, keys: Any, record: Any) -> None:
    """A record signed only by a witness key is still `not-author` (the older, stable code)."""
    with pytest.raises(RecordRefused) as info:
        verify_record(record(key=keys.us_witness), keyring)
    assert info.value.code == "not-author"
